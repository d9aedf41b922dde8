# Sourced (after common.sh) by the network benchmarks: the links they
# measure, all inside two network namespaces of their own, so nothing
# touches the host's interfaces:
#
#   client namespace nl-bc<pid>: the clients (ping, udpclient, wrk, iperf),
#     TAP nltap0 (10.212.0.1/24) with the guest at 10.212.0.2,
#     veth nlveth0 (10.212.1.1/24)
#   server namespace nl-bs<pid>: veth nlveth1 (10.212.1.2/24), where the
#     native baseline servers run (the kernel's ICMP, udpecho, nginx, iperf)
#
# Both namespaces (and with them the TAP and the veth pair) and every
# process started with `started PID` are removed on exit, also on failure
# or Ctrl-C.
[ "$(id -u)" -eq 0 ] || fail "needs root (it creates network namespaces, a TAP interface and a veth pair)"
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing (modprobe tun)"
command -v ip >/dev/null 2>&1 || fail "'ip' is missing (apt-get install iproute2)"

client=nl-bc$$ server=nl-bs$$
tap=nltap0 veth=nlveth0 peer=nlveth1
tap_host=10.212.0.1 tap_guest=10.212.0.2 veth_host=10.212.1.1 veth_peer=10.212.1.2
guest_mac=02:00:00:d4:00:02

pids=""
started() { pids="$pids $1"; }
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$client" 2>/dev/null || true
    ip netns del "$server" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a command in a namespace. For one started in the background, call
# `ip netns exec` directly so that $! is the command itself (ip execs it),
# not a subshell.
in_client() { ip netns exec "$client" "$@"; }
in_server() { ip netns exec "$server" "$@"; }

ip netns add "$client"
ip netns add "$server"
in_client ip link set lo up
in_server ip link set lo up
in_client ip tuntap add dev "$tap" mode tap
in_client sh -c "echo 1 > /proc/sys/net/ipv6/conf/$tap/disable_ipv6"
in_client ip link set "$tap" up
in_client ip addr add "$tap_host/24" dev "$tap"
in_client ip link add "$veth" type veth peer name "$peer" netns "$server"
in_client ip addr add "$veth_host/24" dev "$veth"
in_client ip link set "$veth" up
in_server ip addr add "$veth_peer/24" dev "$peer"
in_server ip link set "$peer" up

# Starts a guest on the TAP in the background; waits for its ready line.
start_guest() {   # log ready-text image args...
    log=$1 ready=$2
    shift 2
    ip netns exec "$client" "$tender" --net "$tap" --net-mac "$guest_mac" "$@" >"$log" 2>&1 &
    guest=$!
    started "$guest"
    i=0
    until grep -q "$ready" "$log"; do
        i=$((i + 1))
        [ $i -le 500 ] && kill -0 "$guest" 2>/dev/null || { cat "$log" >&2; fail "guest did not start"; }
        sleep 0.01
    done
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
