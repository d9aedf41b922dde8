#!/bin/sh
# Solo5 spt images: nabla-run against solo5-spt, same images, same run.
# Usage: SOLO5_SPT=/path/to/solo5-spt bench/solo5.sh [startup|flood]...
# solo5-spt is built by hand outside the project from a Solo5 v0.12 git
# snapshot (never committed):
#   git clone SNAPSHOT /tmp/solo5 && (cd /tmp/solo5 && ./configure.sh && make)
#   SOLO5_SPT=/tmp/solo5/tenders/spt/solo5-spt bench/solo5.sh
# Both tenders run nabla's own Solo5-ABI guests (guests/solo5). flood needs
# root: it makes a network namespace ns5bench-PID with TAP ns5btap0 (removed
# on exit) and floods the guest with ping -f inside it.
set -eu
. "$(dirname "$0")/common.sh"
spt=${SOLO5_SPT:-}
[ -n "$spt" ] && [ -x "$spt" ] || fail "set SOLO5_SPT to a solo5-spt binary (see the comment at the top)"
require_built "$tender" "$guests/solo5/quick.spt" "$guests/solo5/net.spt"
$cc -O2 -o "$out/startup" "$root/bench/startup.c"

startup() {
    echo "== start-up: nabla-run quick.spt vs solo5-spt quick.spt (2000 runs each, alternating)"
    "$out/startup" 2000 100 -- "$tender" "$guests/solo5/quick.spt" -- "$spt" "$guests/solo5/quick.spt"
}

# flood_once TENDER COUNT: the rtt average (ms) of COUNT flood pings.
flood_once() {
    ip netns exec "$ns" "$1" --net:service=ns5btap0 "$guests/solo5/net.spt" "$2" >/dev/null 2>&1 &
    guest=$!
    sleep 0.3
    summary=$(ip netns exec "$ns" ping -f -q -c "$2" -W 1 10.0.0.2 | tail -1)
    wait "$guest" || true
    echo "$summary" | sed -n 's|^rtt min/avg/max/mdev = [0-9.]*/\([0-9.]*\)/.*|\1|p'
}

flood() {
    count=${COUNT:-20000}
    echo "== flood ping: $count echo requests (ping -f) to net.spt, nabla-run vs solo5-spt, 5 rounds alternating"
    [ "$(id -u)" -eq 0 ] || fail "flood needs root (a network namespace and a TAP interface)"
    ns=ns5bench-$$
    ip netns add "$ns"
    trap 'ip netns del "$ns" 2>/dev/null' EXIT
    ip -n "$ns" link set lo up
    ip -n "$ns" tuntap add dev ns5btap0 mode tap
    ip -n "$ns" addr add 10.0.0.1/24 dev ns5btap0
    ip -n "$ns" link set ns5btap0 up
    rm -f "$out/flood-nabla.txt" "$out/flood-spt.txt"
    for _ in 1 2 3 4 5; do
        flood_once "$tender" "$count" >> "$out/flood-nabla.txt"
        flood_once "$spt" "$count" >> "$out/flood-spt.txt"
    done
    n=$(sort -n "$out/flood-nabla.txt" | sed -n 3p)
    s=$(sort -n "$out/flood-spt.txt" | sed -n 3p)
    echo "nabla      median rtt $n ms   (all: $(sort -n "$out/flood-nabla.txt" | tr '\n' ' '))"
    echo "solo5-spt  median rtt $s ms   (all: $(sort -n "$out/flood-spt.txt" | tr '\n' ' '))"
    awk -v n="$n" -v s="$s" 'BEGIN { printf "ratio      %.2fx\n", n / s }'
}

[ $# -gt 0 ] || set -- startup flood
for b in "$@"; do "$b"; done
