#!/bin/sh
# nabla benchmarks. Each prints a ratio against a native baseline measured in
# the same invocation (absolute times drift on shared machines; ratios less).
# Usage: bench/run.sh [startup|hypercall|strings|testloop|solo5]...   (default: all)
# Needs `make tender guests` first (`make bench` does both).
set -eu
. "$(dirname "$0")/common.sh"
require_built "$tender" "$guests/hello.nabla" "$guests/walltime-bench.nabla"

$cc -O2 -static -o "$out/hello" "$root/bench/native/hello.c"
$cc -O2 -static -o "$out/walltime" "$root/bench/native/walltime.c"
$cc -O2 -o "$out/startup" "$root/bench/startup.c"

startup() {
    echo "== start-up: nabla-run hello.nabla vs a static C hello-world (2000 runs each, alternating)"
    "$out/startup" 2000 100 -- "$tender" "$guests/hello.nabla" -- "$out/hello"
}

hypercall() {
    calls=${CALLS:-10000000}
    echo "== hypercall: walltime(MONOTONIC) in a guest vs clock_gettime(CLOCK_MONOTONIC) natively ($calls calls, 7 rounds, alternating)"
    rm -f "$out/guest.txt" "$out/native.txt"
    for _ in 1 2 3 4 5 6 7; do
        "$tender" "$guests/walltime-bench.nabla" "$calls" | sed -n 's/.* \([0-9.]*\) ns\/call/\1/p' >> "$out/guest.txt"
        "$out/walltime" "$calls" | sed -n 's/.* \([0-9.]*\) ns\/call/\1/p' >> "$out/native.txt"
    done
    g=$(sort -n "$out/guest.txt" | sed -n 4p)
    n=$(sort -n "$out/native.txt" | sed -n 4p)
    echo "nabla      median $g ns/call   (all: $(sort -n "$out/guest.txt" | tr '\n' ' '))"
    echo "native     median $n ns/call   (all: $(sort -n "$out/native.txt" | tr '\n' ' '))"
    awk -v g="$g" -v n="$n" 'BEGIN { printf "added      %.2f ns per call (ratio %.2fx)\n", g - n, g / n }'
}

strings() {
    "$root/bench/strings.sh"
}

testloop() {
    "$root/bench/testloop.sh"
}

# Solo5 spt images against solo5-spt (bench/solo5.sh), when SOLO5_SPT names one.
solo5() {
    if [ -n "${SOLO5_SPT:-}" ]; then
        "$root/bench/solo5.sh"
    else
        echo "== solo5: skipped (set SOLO5_SPT to a solo5-spt built from a Solo5 v0.12 snapshot; see bench/solo5.sh)"
    fi
}

[ $# -gt 0 ] || set -- startup hypercall strings testloop solo5
for b in "$@"; do "$b"; done
