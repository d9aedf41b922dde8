#!/bin/sh
# Bulk TCP benchmark: Debian's iperf2 client against iperf.nabla (lwIP's
# lwiperf) on a TAP, and against `iperf -s` on the host kernel behind a veth
# pair, in the same run, both ways (`iperf -r`: the client sends, then the
# server connects back and sends): Gbit/s and the ratios.
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

# One run of the client against $1, both ways: appends the Gbit/s to the
# server to $2-to.txt and from the server to $2-from.txt.
rate() {
    in_client iperf -c "$1" -t "$seconds" -f g -r > "$out/iperf.txt" 2>&1 || { cat "$out/iperf.txt" >&2; fail "iperf -c $1 failed"; }
    sed -n 's/.* \([0-9.]*\) Gbits\/sec.*/\1/p' "$out/iperf.txt" > "$out/iperf-rates.txt"
    [ "$(wc -l < "$out/iperf-rates.txt")" -eq 2 ] || { cat "$out/iperf.txt" >&2; fail "iperf -c $1 -r did not report both ways"; }
    head -n 1 "$out/iperf-rates.txt" >> "$2-to.txt"
    tail -n 1 "$out/iperf-rates.txt" >> "$2-from.txt"
}
median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }

echo "== iperf: iperf2 client <-> iperf.nabla (lwiperf) on a TAP vs <-> iperf -s behind a veth pair (${seconds}s each way, median of $runs)"
rm -f "$out"/iperf-nabla-*.txt "$out"/iperf-native-*.txt
for _ in $(seq "$runs"); do
    rate "$tap_guest" "$out/iperf-nabla"
    rate "$veth_peer" "$out/iperf-native"
done
for way in to from; do
    n=$(median < "$out/iperf-nabla-$way.txt")
    x=$(median < "$out/iperf-native-$way.txt")
    label=$([ "$way" = to ] && echo "client -> server" || echo "server -> client")
    echo "$label"
    printf '  nabla    %8s Gbit/s   (runs: %s)\n' "$n" "$(tr '\n' ' ' < "$out/iperf-nabla-$way.txt")"
    printf '  native   %8s Gbit/s   (runs: %s)\n' "$x" "$(tr '\n' ' ' < "$out/iperf-native-$way.txt")"
    printf '  ratio    %8s (nabla/native)\n' "$(ratio "$n" "$x")"
done
