#!/bin/sh
# The fast local test loop: 100 small test guests (guests/test-pass, each
# three NABLA_TESTs) run by nabla-test -j 2, against the same tests as 100
# native static processes run by the same runner (`nabla-test --native`),
# and a plain shell loop of nabla-run. Seven alternating rounds; medians.
# Usage: bench/testloop.sh [COUNT] (default 100). Needs `make` first.
set -eu
. "$(dirname "$0")/common.sh"
runner=${NABLA_TEST_RUNNER:-$root/.build/release/nabla-test}
count=${1:-100}
jobs=${JOBS:-2}
require_built "$tender" "$runner" "$guests/test-pass.nabla"

dir=$out/testloop
rm -rf "$dir" && mkdir -p "$dir/guests" "$dir/native"
$cc -O2 -static -o "$dir/testpass" "$root/bench/native/testpass.c"
i=0
while [ $i -lt "$count" ]; do
    n=$(printf %03d $i)
    cp "$guests/test-pass.nabla" "$dir/guests/t$n.nabla"
    cp "$dir/testpass" "$dir/native/t$n"
    i=$((i + 1))
done

now() { date +%s%N; }
# ms CMD...: runs CMD (its output discarded), prints milliseconds; fails if CMD does.
ms() {
    t0=$(now)
    "$@" > "$dir/last.txt" || fail "failed: $1 ($(tail -1 "$dir/last.txt"))"
    echo $(( ($(now) - t0) / 1000000 ))
}
shell_loop() { for g in "$dir"/guests/*.nabla; do "$tender" "$g" > /dev/null || return 1; done; }

echo "== test loop: $count test guests, nabla-test -j $jobs, vs the same tests as native processes (7 rounds, alternating)"
: > "$dir/nabla.txt"; : > "$dir/native.txt"; : > "$dir/loop.txt"
for _ in 1 2 3 4 5 6 7; do
    ms "$runner" -j "$jobs" --nabla-run "$tender" "$dir"/guests/*.nabla >> "$dir/nabla.txt"
    ms "$runner" -j "$jobs" --native "$dir"/native/* >> "$dir/native.txt"
    ms shell_loop >> "$dir/loop.txt"
done
median() { sort -n "$1" | sed -n 4p; }
g=$(median "$dir/nabla.txt"); n=$(median "$dir/native.txt"); l=$(median "$dir/loop.txt")
echo "nabla-test            median $g ms   (all: $(sort -n "$dir/nabla.txt" | tr '\n' ' '))"
echo "nabla-test --native   median $n ms   (all: $(sort -n "$dir/native.txt" | tr '\n' ' '))"
echo "shell loop, nabla-run median $l ms   (all: $(sort -n "$dir/loop.txt" | tr '\n' ' '))"
awk -v g="$g" -v n="$n" -v c="$count" 'BEGIN { printf "per guest  %.2f ms (native %.2f ms); ratio %.2fx\n", g / c, n / c, (n > 0 ? g / n : 0) }'
