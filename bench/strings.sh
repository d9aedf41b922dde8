#!/bin/sh
# bench/strings.sh: the guests' memcpy, memmove, memset and strlen (the
# library OS's, guests/libos/string.S) against glibc's, same run.
#
# One source, guests/string-bench/string-bench.c, built as a guest (make
# guests) and natively here with $CC (glibc, -fno-builtin so that every
# call is a call, as in the guest). Runs them alternately ROUNDS times
# (default 5) and prints, per function and size, the median nanoseconds
# per call of each and the ratio guest/native (below 1: the guest is
# faster). Method and results: docs/performance.md.
set -eu
. "$(dirname "$0")/common.sh"
require_built "$tender" "$guests/string-bench.nabla"
rounds=${ROUNDS:-5}

$cc -O2 -fno-builtin -o "$out/string-bench" "$root/guests/string-bench/string-bench.c"
rm -f "$out/strings-guest.txt" "$out/strings-native.txt"
i=0
while [ $i -lt "$rounds" ]; do
    "$tender" "$guests/string-bench.nabla" | grep -v '^checksum' >> "$out/strings-guest.txt"
    "$out/string-bench" | grep -v '^checksum' >> "$out/strings-native.txt"
    i=$((i + 1))
done

echo "== memcpy, memmove, memset, strlen: nabla guest vs native glibc (ns per call: fastest 1 ms slice of 15, median of $rounds alternating runs)"
printf '%-8s %8s %12s %12s %7s\n' function bytes guest native ratio
# The median of each (function, size) over the rounds, in the order printed.
median() {
    awk '{ k = $1 " " $2; v[k] = v[k] " " $3; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
         END { for (i = 1; i <= n; i++) { c = split(v[order[i]], x, " ");
               for (p = 1; p <= c; p++) for (q = p + 1; q <= c; q++) if (x[q] + 0 < x[p] + 0) { t = x[p]; x[p] = x[q]; x[q] = t }
               print order[i], x[int((c + 1) / 2)] } }' "$1"
}
median "$out/strings-guest.txt" > "$out/strings-guest.med"
median "$out/strings-native.txt" > "$out/strings-native.med"
paste -d' ' "$out/strings-guest.med" "$out/strings-native.med" |
    awk '{ if ($1 != $4 || $2 != $5) { print "strings.sh: the two runs printed different cases" > "/dev/stderr"; exit 1 }
           printf "%-8s %8s %12.2f %12.2f %6.2fx\n", $1, $2, $3, $6, $3 / $6 }'
