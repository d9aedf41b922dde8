#!/bin/sh
# Bulk TCP benchmark: Debian's iperf2 client sending to iperf.nabla (lwIP's
# lwiperf) on a TAP, against the same client sending to `iperf -s` on the
# host kernel behind a veth pair, in the same run: Gbit/s and the ratio.
#
# Usage: bench/iperf.sh     (as root; needs `make tender guests` and iperf,
# tools/install-deps). SECONDS_PER_RUN (default 5), RUNS (default 3; the
# median is reported). Uses only the namespaces of bench/netns.sh.
set -eu
. "$(dirname "$0")/common.sh"
seconds=${SECONDS_PER_RUN:-5}
runs=${RUNS:-3}
command -v iperf >/dev/null 2>&1 || fail "'iperf' is missing (tools/install-deps, or apt-get install iperf)"
require_built "$tender" "$guests/iperf.nabla"
. "$(dirname "$0")/netns.sh"

start_guest "$out/iperf-guest.log" "iperf: ready" "$guests/iperf.nabla" "--ipv4=$tap_guest/24"
ip netns exec "$server" iperf -s -B "$veth_peer" > "$out/iperf-server.log" 2>&1 &
started $!
sleep 0.3

# Prints the Gbit/s of one run of the client against $1.
rate() {
    in_client iperf -c "$1" -t "$seconds" -f g > "$out/iperf.txt" 2>&1 || { cat "$out/iperf.txt" >&2; fail "iperf -c $1 failed"; }
    sed -n 's/.* \([0-9.]*\) Gbits\/sec.*/\1/p' "$out/iperf.txt" | tail -n 1
}
median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }

echo "== iperf: iperf2 client -> iperf.nabla (lwiperf) on a TAP vs -> iperf -s behind a veth pair (${seconds}s, median of $runs)"
rm -f "$out/iperf-nabla.txt" "$out/iperf-native.txt"
for _ in $(seq "$runs"); do
    rate "$tap_guest" >> "$out/iperf-nabla.txt"
    rate "$veth_peer" >> "$out/iperf-native.txt"
done
n=$(median < "$out/iperf-nabla.txt")
x=$(median < "$out/iperf-native.txt")
printf 'nabla      %8s Gbit/s   (runs: %s)\n' "$n" "$(tr '\n' ' ' < "$out/iperf-nabla.txt")"
printf 'native     %8s Gbit/s   (runs: %s)\n' "$x" "$(tr '\n' ' ' < "$out/iperf-native.txt")"
printf 'ratio      %8s (nabla/native)\n' "$(ratio "$n" "$x")"
