#!/bin/sh
# Disk benchmark: sequential block throughput of a guest (blkbench.nabla,
# blkread/blkwrite hypercalls) against a native process doing the same
# pread/pwrite loop on the same file (bench/native/blkbench.c).
#
# For 4 KiB and 64 KiB requests, reading and writing the whole disk: 5 runs
# of each, guest and native alternating, then the median throughput of each
# in MiB/s and the ratio guest/native (1.00: no overhead). Both go through the
# host's page cache (no --disk-sync); a native read pass first warms it.
#
# Usage: bench/disk.sh           (needs `make tender guests` first)
#   DISK_MB=256    size of the disk file, .build/bench/disk.img
#   RUNS=5         runs per case and side (the median is reported)
#   BASELINE_RUN=/path/to/other/nabla-run   also run this tender, alternating
#                  with the others, and print nabla/baseline: what a change to
#                  the tender (such as tighter seccomp pins) costs
# Paths: NABLA_RUN (default .build/release/nabla-run), NABLA_GUESTS
# (default .build/guests), CC (default gcc).
set -eu
. "$(dirname "$0")/common.sh"
disk_mb=${DISK_MB:-256}
runs=${RUNS:-5}
disk=$out/disk.img

require_built "$tender" "$guests/blkbench.nabla"
command -v "$cc" >/dev/null 2>&1 || fail "'$cc' is missing (apt-get install gcc)"
"$cc" -O2 -o "$out/blkbench" "$root/bench/native/blkbench.c"

rm -f "$disk"
fallocate -l "${disk_mb}M" "$disk" 2>/dev/null ||
    dd if=/dev/zero of="$disk" bs=1M count="$disk_mb" status=none
# Fill it once, so that reads see real pages, and warm the page cache.
"$out/blkbench" write 1M "$disk" >/dev/null
"$out/blkbench" read 1M "$disk" >/dev/null

# One run: prints MiB/s from a "blkbench: MODE SIZE: N bytes in T ns" line.
mibs() {
    awk '/^blkbench: / { printf "%.1f\n", ($4 / 1048576) / ($7 / 1e9); found = 1 }
         END { if (!found) exit 1 }'
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== disk: blkbench.nabla (nabla-run --disk) vs native pread/pwrite, ${disk_mb} MiB file, $runs runs each, alternating, median MiB/s"
if [ -n "${BASELINE_RUN:-}" ]; then
    [ -x "$BASELINE_RUN" ] || fail "BASELINE_RUN=$BASELINE_RUN is not an executable"
    echo "   baseline tender: $BASELINE_RUN"
    printf '%-12s %12s %12s %8s %12s %10s\n' case nabla native ratio baseline nabla/base
else
    printf '%-12s %12s %12s %8s\n' case nabla native ratio
fi
for size in 4096 65536; do
    for mode in read write; do
        : > "$out/disk-guest.txt"
        : > "$out/disk-native.txt"
        : > "$out/disk-baseline.txt"
        i=0
        while [ "$i" -lt "$runs" ]; do
            "$tender" --disk "$disk" "$guests/blkbench.nabla" "$mode" "$size" | mibs >> "$out/disk-guest.txt" ||
                fail "the guest run failed: $tender --disk $disk $guests/blkbench.nabla $mode $size"
            "$out/blkbench" "$mode" "$size" "$disk" | mibs >> "$out/disk-native.txt" ||
                fail "the native run failed: $out/blkbench $mode $size $disk"
            if [ -n "${BASELINE_RUN:-}" ]; then
                "$BASELINE_RUN" --disk "$disk" "$guests/blkbench.nabla" "$mode" "$size" | mibs >> "$out/disk-baseline.txt" ||
                    fail "the baseline run failed: $BASELINE_RUN --disk $disk $guests/blkbench.nabla $mode $size"
            fi
            i=$((i + 1))
        done
        g=$(median "$out/disk-guest.txt")
        n=$(median "$out/disk-native.txt")
        if [ -n "${BASELINE_RUN:-}" ]; then
            b=$(median "$out/disk-baseline.txt")
            awk -v c="$mode $((size / 1024))K" -v g="$g" -v n="$n" -v b="$b" \
                'BEGIN { printf "%-12s %12.1f %12.1f %8.3f %12.1f %10.3f\n", c, g, n, g / n, b, g / b }'
        else
            awk -v c="$mode $((size / 1024))K" -v g="$g" -v n="$n" \
                'BEGIN { printf "%-12s %12.1f %12.1f %8.3f\n", c, g, n, g / n }'
        fi
    done
done
echo "(targets: ratio >= 0.95 at 64K, >= 0.90 at 4K)"
rm -f "$disk"
