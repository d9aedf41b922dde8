#!/bin/sh
# Network benchmark: nabla's guest network stack against the host kernel's,
# measured in the same run.
#
#   ping   flood ping (ping -f -c $PINGS, default 20000): packets per second
#          and mean RTT. nabla: ping-serve.nabla on a TAP interface; native:
#          the host pinging the far end of a veth pair inside a network
#          namespace (the kernel's own ICMP echo).
#   udp    request/response rate of bench/native/udpclient ($REQUESTS, default
#          20000, 64-byte datagrams). nabla: udp-echo.nabla on the TAP;
#          native: bench/native/udpecho in the namespace.
#
# Usage: bench/net.sh            (as root; needs `make tender guests` first)
# Uses only links it creates: TAP nbbench0 (10.212.0.1/24, guest .2), veth
# nbveth0/nbveth1 (10.212.1.1/24 / .2) with nbveth1 in namespace nbbench.
# Everything is removed on exit, also on failure or Ctrl-C.
set -eu
. "$(dirname "$0")/common.sh"
pings=${PINGS:-20000}
requests=${REQUESTS:-20000}

tap=nbbench0 veth=nbveth0 peer=nbveth1 ns=nbbench
tap_host=10.212.0.1 tap_guest=10.212.0.2 veth_host=10.212.1.1 veth_peer=10.212.1.2

[ "$(id -u)" -eq 0 ] || fail "needs root (it creates a TAP interface, a veth pair and a network namespace)"
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing (modprobe tun)"
for tool in ip ping "$cc"; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is missing (apt-get install iproute2 iputils-ping gcc)"
done
require_built "$tender" "$guests/ping-serve.nabla" "$guests/udp-echo.nabla"
for link in $tap $veth; do
    ! ip link show "$link" >/dev/null 2>&1 || fail "interface $link already exists (a previous run killed?): ip link del $link"
done
! ip netns list | grep -qw "$ns" || fail "network namespace $ns already exists: ip netns del $ns"

$cc -O2 -Wall -o "$out/udpclient" "$root/bench/native/udpclient.c"
$cc -O2 -Wall -o "$out/udpecho" "$root/bench/native/udpecho.c"

pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$veth" 2>/dev/null || true
    ip tuntap del dev "$tap" mode tap 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip tuntap add dev "$tap" mode tap
ip link set "$tap" up
ip addr add "$tap_host/24" dev "$tap"
ip netns add "$ns"
ip link add "$veth" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip addr add "$veth_host/24" dev "$veth"
ip link set "$veth" up
ip netns exec "$ns" ip addr add "$veth_peer/24" dev "$peer"
ip netns exec "$ns" ip link set "$peer" up
ip netns exec "$ns" ip link set lo up

# Starts a guest in the background; waits until it prints its ready line.
start_guest() {   # log ready-text image args...
    log=$1 ready=$2
    shift 2
    "$tender" --net "$tap" --net-mac 02:00:00:d4:00:02 "$@" >"$log" 2>&1 &
    guest=$!
    pids="$pids $guest"
    i=0
    until grep -q "$ready" "$log"; do
        i=$((i + 1))
        [ $i -le 500 ] && kill -0 "$guest" 2>/dev/null || { cat "$log" >&2; fail "guest did not start"; }
        sleep 0.01
    done
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Prints "PPS AVG_RTT_MS" from a flood ping at $1.
flood() {
    ping -c 3 -i 0.2 -W 1 -q "$1" >/dev/null || fail "no answer to ping $1"
    ping -f -q -c "$pings" -W 1 "$1" > "$out/ping.txt" || { cat "$out/ping.txt" >&2; fail "flood ping of $1 failed"; }
    awk '/packets transmitted/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^received/) rx = $i; if ($i == "time") t = $(i+1) }
                                  sub(/ms/, "", t) }
         /^rtt/ { split($4, r, "/"); avg = r[2] }
         END { if (rx == "" || t == "" || avg == "") exit 1; printf "%.0f %s\n", rx * 1000 / t, avg }' "$out/ping.txt" \
        || { cat "$out/ping.txt" >&2; fail "cannot parse ping's summary"; }
}

# Prints requests/s from udpclient against $1.
udprate() {
    "$out/udpclient" "$1" 7 "$requests" 64 > "$out/udp.txt" || { cat "$out/udp.txt" >&2; fail "udpclient against $1 failed"; }
    sed -n 's/.*: \([0-9]*\) requests\/s.*/\1/p' "$out/udp.txt"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

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
ip netns exec "$ns" "$out/udpecho" "$veth_peer" 7 > "$out/udpecho.log" 2>&1 &
server=$!
pids="$pids $server"
i=0
until grep -q ready "$out/udpecho.log"; do
    i=$((i + 1)); [ $i -le 500 ] || fail "udpecho did not start"; sleep 0.01
done
native_rps=$(udprate "$veth_peer")
native_line=$(cat "$out/udp.txt")
stop "$server"
printf 'nabla      %8s requests/s   (%s)\n' "$nabla_rps" "$nabla_line"
printf 'native     %8s requests/s   (%s)\n' "$native_rps" "$native_line"
printf 'ratio      %8s (requests/s, nabla/native)\n' "$(ratio "$nabla_rps" "$native_rps")"
