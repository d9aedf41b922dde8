set -eu
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/netns.sh"
start_guest "$out/iperf-guest.log" "iperf: ready" $EXTRA "$guests/iperf.nabla" "--ipv4=$tap_guest/24"
sleep 0.3
in_client nstat -n
in_client timeout 20 iperf -c "$tap_guest" -t 2 -f g -r 2>&1 | tail -2
in_client nstat | grep -v " 0 " | head -30
in_client ip -s link show $tap
in_client ethtool -k $tap | grep -E "tx-checksum|tcp-segmentation|generic" 
