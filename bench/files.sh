#!/bin/sh
# Files benchmark (docs/files.md, docs/performance.md):
#
#  1. Reading a FILE_MB (100) MB file from the root file system (a tar
#     archive on the disk named root, read in place) with cat.nabla against
#     the host's `cat` of the same file, both to /dev/null: median of RUNS
#     (5) runs each, alternating, in MB/s, and the ratio guest/native.
#  2. Lua start-up with a script from the root file system: lua.nabla
#     against Debian's lua5.4 running the same one-line script, median wall
#     time of STARTS (50) runs each, and the ratio.
#  3. Creating, writing (100 bytes), fsync-ing, closing and then deleting
#     SMALL_FILES (10000) files: smallfiles.nabla in the guest's /tmp (in
#     memory) against the same program built natively in /dev/shm (tmpfs,
#     where fsync costs nothing either), median of RUNS runs, and the ratio.
#     Neither persists anything: the guests have no writable disk file
#     system yet (docs/files.md).
#
# Usage: bench/files.sh   (needs `make tender guests` first)
# Paths: NABLA_RUN (default .build/release/nabla-run), NABLA_GUESTS
# (default .build/guests).
set -eu
. "$(dirname "$0")/common.sh"
file_mb=${FILE_MB:-100}
runs=${RUNS:-5}
starts=${STARTS:-50}

small=${SMALL_FILES:-10000}

require_built "$tender" "$guests/cat.nabla" "$guests/lua.nabla" "$guests/smallfiles.nabla"
command -v "$cc" >/dev/null 2>&1 || fail "'$cc' is missing (apt-get install gcc)"
"$cc" -O2 -o "$out/smallfiles" "$root/guests/smallfiles/smallfiles.c"
command -v lua5.4 >/dev/null 2>&1 || fail "lua5.4 is missing (apt-get install lua5.4)"

dir=$out/files-root
rm -rf "$dir" && mkdir -p "$dir"
head -c "$((file_mb * 1000000))" /dev/urandom > "$dir/big"
echo 'print("hello from lua")' > "$dir/hello.lua"
tar -cf "$out/files-root.tar" -C "$dir" .
# Warm the page cache for both.
cat "$dir/big" > /dev/null
cat "$out/files-root.tar" > /dev/null

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

guest_ns=$out/files-guest.ns native_ns=$out/files-native.ns
: > "$guest_ns"; : > "$native_ns"
for _ in $(seq "$runs"); do
    t=$(now); "$tender" --disk-readonly root="$out/files-root.tar" "$guests/cat.nabla" /big > /dev/null; echo $(( $(now) - t )) >> "$guest_ns"
    t=$(now); cat "$dir/big" > /dev/null; echo $(( $(now) - t )) >> "$native_ns"
done
g=$(median < "$guest_ns"); n=$(median < "$native_ns")
awk -v g="$g" -v n="$n" -v mb="$file_mb" 'BEGIN {
    printf "read %d MB from the root file system: cat.nabla %.0f MB/s, native cat %.0f MB/s, ratio %.2f\n",
        mb, mb / (g / 1e9), mb / (n / 1e9), n / g }'

: > "$guest_ns"; : > "$native_ns"
for _ in $(seq "$starts"); do
    t=$(now); "$tender" --disk-readonly root="$out/files-root.tar" "$guests/lua.nabla" /hello.lua > /dev/null; echo $(( $(now) - t )) >> "$guest_ns"
    t=$(now); lua5.4 "$dir/hello.lua" > /dev/null; echo $(( $(now) - t )) >> "$native_ns"
done
g=$(median < "$guest_ns"); n=$(median < "$native_ns")
awk -v g="$g" -v n="$n" 'BEGIN {
    printf "Lua start-up with a script from the root: lua.nabla %.2f ms, native lua5.4 %.2f ms, ratio %.2f\n",
        g / 1e6, n / 1e6, g / n }'

# One run's time in ns, from its "smallfiles: N files in T ns" line.
small_ns() { awk '/^smallfiles: / { print $5; found = 1 } END { if (!found) exit 1 }'; }
shm=$(mktemp -d /dev/shm/nabla-smallfiles.XXXXXX)
: > "$guest_ns"; : > "$native_ns"
for _ in $(seq "$runs"); do
    "$tender" "$guests/smallfiles.nabla" /tmp "$small" | small_ns >> "$guest_ns"
    "$out/smallfiles" "$shm" "$small" | small_ns >> "$native_ns"
done
rmdir "$shm"
g=$(median < "$guest_ns"); n=$(median < "$native_ns")
awk -v g="$g" -v n="$n" -v k="$small" 'BEGIN {
    printf "%d small files created, written, fsynced, deleted: guest /tmp %.1f ms, native /dev/shm %.1f ms, ratio %.2f\n",
        k, g / 1e6, n / 1e6, g / n }'
