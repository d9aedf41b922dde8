#!/bin/bash
# Regenerates tender/embedded/symbol-order.txt: the functions nabla-run runs
# while it starts a guest, in the order the linker should put them first in
# .text (Makefile, --symbol-ordering-file), so that start-up touches a few
# 64 KiB windows of the binary instead of pages all over it: fewer page
# faults, less RSS (docs/performance.md, "Start-up").
#
# How: the kernel maps a file-backed page fault's neighbours too (fault
# around), so a fault names only the first function run in its window.
# Each round records nabla-run's text page faults over a few typical runs
# (perf), adds the functions they name to the list, relinks with it, and
# repeats until a round finds nothing new: functions that were hidden behind
# another in a window then fault in their own.
#
# Usage: tools/order-tender.sh [ROUNDS]    (default 60; needs root for perf
# on some kernels, `make tender guests` first, and perf: apt-get install
# linux-perf). Stale names in the list (renamed functions) are ignored by
# the linker: the list only makes start-up faster, never changes behaviour.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${1:-60}
tender=.build/release/nabla-run
guests=.build/guests
order=tender/embedded/symbol-order.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v perf >/dev/null || { echo "order-tender: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
for f in "$tender" "$guests/hello.nabla" "$guests/blk.nabla" "$guests/solo5/quick.spt"; do
    [ -e "$f" ] || { echo "order-tender: $f is missing: run 'make tender guests'" >&2; exit 1; }
done
truncate -s 1M "$work/disk.img"
: > "$work/order.txt"

# faults: the link-time text addresses of the runs' text page faults.
faults() {
    local offset vaddr base size moff ip addr
    # The text segment's file offset and link-time address.
    read -r offset vaddr < <(readelf -lW "$tender" | awk '$1 == "LOAD" && $8 == "E" { print $2, $3; exit }')
    for run in "$guests/hello.nabla" "$guests/solo5/quick.spt" "--disk $work/disk.img $guests/blk.nabla"; do
        # shellcheck disable=SC2086
        perf record -q -o "$work/pf.data" -e page-faults -c 1 -d -- "$tender" $run >/dev/null 2>&1 || true
        # Where the text was mapped in that run, and from which file offset.
        read -r base size moff < <(perf script -i "$work/pf.data" --show-mmap-events 2>/dev/null |
            sed -n 's/.*\[\(0x[0-9a-f]*\)(\(0x[0-9a-f]*\)) @ \(0x[0-9a-f]*\) .*r-xp .*nabla-run$/\1 \2 \3/p' | head -1)
        # A fault at its own instruction, inside the tender's text, is a
        # fault on the tender's text.
        perf script -i "$work/pf.data" -F ip,addr 2>/dev/null | while read -r ip addr; do
            if [ "$ip" = "$addr" ] && (( 16#$ip >= base && 16#$ip < base + size )); then
                echo $(( 16#$ip - base + moff - offset + vaddr ))
            fi
        done
    done
}

for ((round = 1; round <= rounds; round++)); do
    nm -n -t d --defined-only "$tender" | awk '$2 ~ /^[tTwW]$/ { print $1 + 0, $3 }' > "$work/symbols"
    faults > "$work/faults"
    before=$(wc -l < "$work/order.txt")
    # The function around each fault, new ones appended in order.
    awk 'FILENAME == ARGV[1] { n++; addr[n] = $1; name[n] = $2; next }
         FILENAME == ARGV[2] { seen[$0] = 1; next }
         { lo = 1; hi = n
           while (lo < hi) { mid = int((lo + hi + 1) / 2); if (addr[mid] <= $1) lo = mid; else hi = mid - 1 }
           if (addr[lo] <= $1 + 0 && !(name[lo] in seen)) { seen[name[lo]] = 1; print name[lo] } }' \
        "$work/symbols" "$work/order.txt" "$work/faults" >> "$work/order.txt"
    added=$(( $(wc -l < "$work/order.txt") - before ))
    echo "round $round: $(wc -l < "$work/faults") text faults in 3 runs, $added new functions"
    cp "$work/order.txt" "$order"
    rm -f "$tender"
    make --no-print-directory "$root/$tender" >/dev/null
    [ "$added" -gt 0 ] || break
done
echo "order-tender: $(wc -l < "$order") functions in $order"
