#!/bin/sh
# Network benchmark: nabla's guest network stack against the host kernel's,
# measured in the same run.
#
#   ping   flood ping (ping -f -c $PINGS, default 20000): packets per second
#          and mean RTT. nabla: ping-serve.nabla on a TAP interface; native:
#          the client namespace pinging the far end of a veth pair in the
#          server namespace (the kernel's own ICMP echo).
#   udp    request/response rate of bench/native/udpclient ($REQUESTS, default
#          20000, 64-byte datagrams). nabla: udp-echo.nabla on the TAP;
#          native: bench/native/udpecho in the server namespace.
#
# Usage: bench/net.sh            (as root; needs `make tender guests` first)
# Uses only the network namespaces of bench/netns.sh: the guest on a TAP,
# the native servers behind a veth pair, the clients in their own namespace.
set -eu
. "$(dirname "$0")/common.sh"
pings=${PINGS:-20000}
requests=${REQUESTS:-20000}
for tool in ping "$cc"; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is missing (apt-get install iputils-ping gcc)"
done
require_built "$tender" "$guests/ping-serve.nabla" "$guests/udp-echo.nabla"
. "$(dirname "$0")/netns.sh"

$cc -O2 -Wall -o "$out/udpclient" "$root/bench/native/udpclient.c"
$cc -O2 -Wall -o "$out/udpecho" "$root/bench/native/udpecho.c"

# Prints "PPS AVG_RTT_MS" from a flood ping at $1.
flood() {
    in_client ping -c 3 -i 0.2 -W 1 -q "$1" >/dev/null || fail "no answer to ping $1"
    in_client ping -f -q -c "$pings" -W 1 "$1" > "$out/ping.txt" || { cat "$out/ping.txt" >&2; fail "flood ping of $1 failed"; }
    awk '/packets transmitted/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^received/) rx = $i; if ($i == "time") t = $(i+1) }
                                  sub(/ms/, "", t) }
         /^rtt/ { split($4, r, "/"); avg = r[2] }
         END { if (rx == "" || t == "" || avg == "") exit 1; printf "%.0f %s\n", rx * 1000 / t, avg }' "$out/ping.txt" \
        || { cat "$out/ping.txt" >&2; fail "cannot parse ping's summary"; }
}

# Prints requests/s from udpclient against $1.
udprate() {
    in_client "$out/udpclient" "$1" 7 "$requests" 64 > "$out/udp.txt" || { cat "$out/udp.txt" >&2; fail "udpclient against $1 failed"; }
    sed -n 's/.*: \([0-9]*\) requests\/s.*/\1/p' "$out/udp.txt"
}

echo "== ping: flood ping ($pings packets) of ping-serve.nabla on a TAP vs the host kernel behind a veth pair"
start_guest "$out/ping-serve.log" "ping-serve: ready" "$guests/ping-serve.nabla" "--ipv4=$tap_guest/24"
result=$(flood "$tap_guest")
set -- $result
nabla_pps=$1 nabla_rtt=$2
stop "$guest"
result=$(flood "$veth_peer")
set -- $result
native_pps=$1 native_rtt=$2
printf 'nabla      %8s packets/s   mean RTT %s ms\n' "$nabla_pps" "$nabla_rtt"
printf 'native     %8s packets/s   mean RTT %s ms\n' "$native_pps" "$native_rtt"
printf 'ratio      %8s (packets/s, nabla/native)   %s (RTT, nabla/native)\n' \
    "$(ratio "$nabla_pps" "$native_pps")" "$(ratio "$nabla_rtt" "$native_rtt")"

echo "== udp: request/response ($requests x 64 bytes) with udp-echo.nabla vs a native UDP echo server in the namespace"
start_guest "$out/udp-echo.log" "udp-echo: ready" "$guests/udp-echo.nabla" "--ipv4=$tap_guest/24" "--port=7"
nabla_rps=$(udprate "$tap_guest")
nabla_line=$(cat "$out/udp.txt")
stop "$guest"
ip netns exec "$server" "$out/udpecho" "$veth_peer" 7 > "$out/udpecho.log" 2>&1 &
udpecho=$!
started "$udpecho"
i=0
until grep -q ready "$out/udpecho.log"; do
    i=$((i + 1)); [ $i -le 500 ] || fail "udpecho did not start"; sleep 0.01
done
native_rps=$(udprate "$veth_peer")
native_line=$(cat "$out/udp.txt")
stop "$udpecho"
printf 'nabla      %8s requests/s   (%s)\n' "$nabla_rps" "$nabla_line"
printf 'native     %8s requests/s   (%s)\n' "$native_rps" "$native_line"
printf 'ratio      %8s (requests/s, nabla/native)\n' "$(ratio "$nabla_rps" "$native_rps")"
