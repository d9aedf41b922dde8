#!/bin/sh
# SYN flood benchmark: how soon, and how often, a legitimate client is
# served by httpd.nabla (lwIP) while and after spoofed SYNs arrive, against
# nginx (one worker) on the host kernel behind a veth pair, flooded the
# same way in the same run.
#
#   burst      10,000 SYNs in 0.1 s, then requests (1 s each) until one is
#              served: the time from the end of the burst to that answer.
#   sustained  20,000 SYNs/s for FLOOD_SECONDS (default 6) s; from its
#              second second on, one request after another (1 s each):
#              the share served.
#
# The SYNs (bench/native/synflood.c, an AF_PACKET sender) come from
# addresses .100-.199 of the server's own subnet, which no host answers ARP
# for, and a MAC no interface has; they go out on the TAP (to the guest) or
# the veth (to nginx) in the namespaces of bench/netns.sh, nowhere else.
# The client is bench/native/httpprobe.c.
#
# Usage: bench/synflood.sh     (as root; needs `make tender guests`;
# installs nginx with tools/install-deps if it is missing).
set -eu
. "$(dirname "$0")/common.sh"
flood_seconds=${FLOOD_SECONDS:-6}
"$root/tools/install-deps" nginx || fail "nginx is needed (apt-get install nginx)"
for tool in nginx tar "$cc"; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is missing (tools/install-deps nginx, or apt-get install nginx tar gcc)"
done
require_built "$tender" "$guests/httpd.nabla"
. "$(dirname "$0")/netns.sh"

$cc -O2 -Wall -o "$out/synflood" "$root/bench/native/synflood.c"
$cc -O2 -Wall -o "$out/httpprobe" "$root/bench/native/httpprobe.c"

site=$out/synflood-site
rm -rf "$site" && mkdir -p "$site"
echo "<h1>nabla</h1>" > "$site/index.html"
tar -cf "$out/synflood-site.tar" -C "$site" .
chmod -R a+rX "$site"

prefix=$out/nginx-synflood
rm -rf "$prefix" && mkdir -p "$prefix/logs"
cat > "$prefix/nginx.conf" <<CONF
worker_processes 1;
user root;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    server { listen $veth_peer:80; root $site; }
}
CONF
ip netns exec "$server" nginx -p "$prefix" -c "$prefix/nginx.conf" &
started $!
start_guest "$out/synflood-httpd.log" "files on port 80" --disk-readonly "$out/synflood-site.tar" \
    "$guests/httpd.nabla" "--ipv4=$tap_guest/24"
peer_mac=$(in_server cat "/sys/class/net/$peer/address")
i=0
until in_client "$out/httpprobe" "$veth_peer" 80 1 200 first | grep -q "first after [0-9]"; do
    i=$((i + 1)); [ $i -le 50 ] || fail "nginx did not start (see $prefix/logs/error.log)"
done

# flood IFACE MAC ADDR RATE SECONDS: spoofed SYNs to port 80 of ADDR.
flood() {
    in_client "$out/synflood" "$1" "$2" "$3" 80 "${3%.*}.100" 100 "$4" "$5" > "$out/synflood.txt" \
        || fail "synflood failed"
}

# burst IFACE MAC ADDR: prints the ms from the end of the burst to the first answer.
burst() {
    flood "$1" "$2" "$3" 100000 0.1
    in_client "$out/httpprobe" "$3" 80 60 1000 first | sed -n 's/.*first after \([0-9]*\) ms/\1/p;s/.*first after none/none/p'
}

# sustained IFACE MAC ADDR: prints the share (%) of requests served during the flood.
sustained() {
    flood "$1" "$2" "$3" 20000 "$flood_seconds" &
    flooder=$!
    sleep 1
    in_client "$out/httpprobe" "$3" 80 "$((flood_seconds - 2))" 1000 > "$out/httpprobe.txt"
    wait "$flooder"
    sed -n 's/.*(\([0-9]*\)%).*/\1/p' "$out/httpprobe.txt"
    cat "$out/synflood.txt" "$out/httpprobe.txt" >&2
}

echo "== synflood: spoofed SYNs to httpd.nabla on a TAP vs nginx (1 worker) behind a veth pair"
n_burst=$(burst "$tap" "$guest_mac" "$tap_guest")
x_burst=$(burst "$veth" "$peer_mac" "$veth_peer")
sleep 2
n_share=$(sustained "$tap" "$guest_mac" "$tap_guest")
sleep 2
x_share=$(sustained "$veth" "$peer_mac" "$veth_peer")
printf '%-44s %12s %12s\n' case nabla nginx
printf '%-44s %12s %12s\n' "burst: 10,000 SYNs in 0.1 s, then served after" "$n_burst ms" "$x_burst ms"
printf '%-44s %12s %12s   ratio %s\n' "sustained: 20,000 SYNs/s, requests served" "$n_share %" "$x_share %" \
    "$(ratio "$n_share" "$x_share")"
in_client "$out/httpprobe" "$tap_guest" 80 1 1000 first > /dev/null
stop "$guest"
