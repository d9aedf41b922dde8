set -eu
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/netns.sh"
start_guest "$out/iperf-guest.log" "iperf: ready" $EXTRA "$guests/iperf.nabla" "--ipv4=$tap_guest/24"
sleep 0.3
in_client timeout 20 iperf -c "$tap_guest" -t 4 -f g > /tmp/ip.txt 2>&1 &
sleep 1
perf record -o /tmp/perf.data -g -p $guest -- sleep 2 2>/dev/null >/dev/null
sleep 2
tail -1 /tmp/ip.txt
