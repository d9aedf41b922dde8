#!/bin/sh
# HTTP benchmark: httpd.nabla (lwIP, one thread) on a TAP against nginx (one
# worker) on the host kernel behind a veth pair, serving the same files to
# the same client in the same run.
#
#   wrk -t2 (-t1 for one connection) -d$SECONDS_PER_RUN (default 5) with 1 and 64 connections, for a
#   small file (612 bytes, nginx's own index.html size) and a 1 MiB file:
#   requests/s and mean latency, and the ratio nabla/nginx.
#
# Also the guest's image size and its start-up time: nabla-run from exec to
# httpd's ready line (the tar index read, lwIP up, listening), against
# hello.nabla's from exec to its line, medians of 51 alternating runs.
#
# Usage: bench/http.sh     (as root; needs `make tender guests`; installs
# wrk and nginx with tools/install-deps if they are missing). Uses only the
# namespaces of bench/netns.sh.
set -eu
. "$(dirname "$0")/common.sh"
seconds=${SECONDS_PER_RUN:-5}
"$root/tools/install-deps" wrk nginx || fail "wrk and nginx are needed (apt-get install wrk nginx)"
for tool in wrk nginx tar curl "$cc"; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is missing (tools/install-deps wrk nginx, or apt-get install wrk nginx tar curl gcc)"
done
require_built "$tender" "$guests/httpd.nabla"
. "$(dirname "$0")/netns.sh"

# The site: the same files for both servers.
site=$out/http-site
rm -rf "$site" && mkdir -p "$site"
head -c 612 /dev/urandom | base64 -w 0 | head -c 612 > "$site/small.html"
head -c 1048576 /dev/urandom > "$site/large.bin"
tar -cf "$out/http-site.tar" -C "$site" .
chmod -R a+rX "$site"

# nginx: one worker (the guest has one thread), no access log, sendfile,
# keep-alive without a request limit, everything under $out/nginx.
prefix=$out/nginx
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
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60;
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    types { text/html html; application/octet-stream bin; }
    server { listen $veth_peer:80; root $site; }
}
CONF
ip netns exec "$server" nginx -p "$prefix" -c "$prefix/nginx.conf" &
started $!

start_guest "$out/httpd.log" "files on port 80" --disk-readonly "$out/http-site.tar" "$guests/httpd.nabla" "--ipv4=$tap_guest/24"

i=0
until in_client curl -s -o /dev/null "http://$veth_peer/small.html"; do
    i=$((i + 1)); [ $i -le 200 ] || fail "nginx did not start (see $prefix/logs/error.log)"; sleep 0.05
done

# Prints "REQUESTS_PER_S LATENCY" for wrk against a URL.
measure() {   # connections url
    threads=2; [ "$1" -ge 2 ] || threads=1
    in_client wrk -t"$threads" -c"$1" -d"${seconds}s" --timeout 10s "$2" > "$out/wrk.txt" 2>&1 || { cat "$out/wrk.txt" >&2; fail "wrk $2 failed"; }
    if grep -q "Non-2xx\|Socket errors" "$out/wrk.txt"; then cat "$out/wrk.txt" >&2; fail "wrk saw errors against $2"; fi
    awk '/^Requests\/sec:/ { rps = $2 } /^    Latency/ { lat = $2 } END { if (rps == "") exit 1; print rps, lat }' "$out/wrk.txt"
}

echo "== http: wrk -t2 -d${seconds}s, httpd.nabla on a TAP vs nginx (1 worker) behind a veth pair"
printf '%-18s %14s %10s %14s %10s %8s\n' case "nabla req/s" latency "nginx req/s" latency ratio
for file in small.html large.bin; do
    for conns in 1 64; do
        set -- $(measure "$conns" "http://$tap_guest/$file")
        n_rps=$1 n_lat=$2
        set -- $(measure "$conns" "http://$veth_peer/$file")
        x_rps=$1 x_lat=$2
        printf '%-18s %14s %10s %14s %10s %8s\n' "$file c=$conns" "$n_rps" "$n_lat" "$x_rps" "$x_lat" "$(ratio "$n_rps" "$x_rps")"
    done
done
in_client curl -s "http://$tap_guest/.stats" | head -n 1

# CPU per byte: what the server process (user and its own system calls: the
# guest's hypercalls, nginx's sendfile and epoll) spends per KiB served, from
# `perf stat -p` over a `wrk -c1` run of large.bin: cycles where the machine
# has a cycle counter (a VM often has none), else CPU time (task-clock) in
# nanoseconds. Skipped with a line if perf is missing.
per_kib() {   # event pid url
    perf stat -x, -e "$1" -p "$2" -o "$out/perf.txt" -- sleep "$seconds" &
    perf_pid=$!
    in_client wrk -t1 -c1 -d"${seconds}s" "$3" > "$out/wrk.txt" 2>&1
    wait "$perf_pid" || return 1
    count=$(awk -F, -v e="$1" '$3 ~ "^" e { print $1 }' "$out/perf.txt")
    requests=$(awk '/requests in/ { print $1 }' "$out/wrk.txt")
    case "$count" in ''|*[!0-9.]*) return 1 ;; esac
    # task-clock is in milliseconds.
    scale=1; [ "$1" = task-clock ] && scale=1000000
    awk -v c="$count" -v s="$scale" -v r="$requests" 'BEGIN { printf "%.1f", c * s / (r * 1024) }'
}
worker=$(pgrep -P "$(cat "$out/nginx/nginx.pid")" nginx | head -n 1)
if ! command -v perf >/dev/null 2>&1; then
    echo "CPU per KiB: skipped (perf is missing: apt-get install linux-perf)"
else
    for event in cycles task-clock; do
        unit=$([ "$event" = cycles ] && echo "cycles" || echo "CPU ns")
        if n_cpk=$(per_kib "$event" "$guest" "http://$tap_guest/large.bin") \
                && x_cpk=$(per_kib "$event" "$worker" "http://$veth_peer/large.bin"); then
            printf '%s per KiB, large.bin c=1: nabla %s (the tender process), nginx %s (its worker), ratio %s\n' \
                "$unit" "$n_cpk" "$x_cpk" "$(ratio "$n_cpk" "$x_cpk")"
            break
        fi
        echo "$unit per KiB: perf cannot count $event here"
    done
fi
stop "$guest"

echo "== httpd.nabla: image and start-up"
printf 'image      %s bytes (%s)\n' "$(wc -c < "$guests/httpd.nabla")" "$guests/httpd.nabla"
$cc -O2 -Wall -o "$out/readytime" "$root/bench/native/readytime.c"
rm -f "$out/startup.txt" "$out/startup-hello.txt"
for _ in $(seq 51); do
    ip netns exec "$client" "$out/readytime" "files on port" "$tender" --net "$tap" \
        --disk-readonly "$out/http-site.tar" "$guests/httpd.nabla" "--ipv4=$tap_guest/24" >> "$out/startup.txt" \
        || fail "httpd did not start"
    "$out/readytime" "Hello" "$tender" "$guests/hello.nabla" >> "$out/startup-hello.txt" || fail "hello did not run"
done
h=$(sort -n "$out/startup.txt" | sed -n 26p)
b=$(sort -n "$out/startup-hello.txt" | sed -n 26p)
printf 'start-up   httpd.nabla median %s us from exec of nabla-run to "serving" (tar indexed, lwIP up, listening)\n' "$h"
printf 'baseline   hello.nabla median %s us from exec to its line   ratio %s (51 runs each, alternating)\n' "$b" "$(ratio "$h" "$b")"
