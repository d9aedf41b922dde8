#!/bin/bash
# Density benchmark: N idle guests at once (guests/idle: each sleeps in the
# poll hypercall until a common wall-clock deadline), against N idle native
# static processes (bench/native/idle.c) started the same way, in the same
# invocation.
#
# For each side: the time from the first start until all N are up (for a
# guest: its filter is loaded, /proc/PID/status says Seccomp: 2), the total
# and per-process PSS (from /proc/PID/smaps_rollup: pages shared between the
# processes, the tender's text among them, count once), and that all N then
# exit 0 at the deadline. Prints per-process PSS nabla/native.
#
# Usage: bench/density.sh            (needs `make tender guests` first)
#   N=1000     processes per side
#   SLACK=20   seconds from the first start to the deadline (must cover
#              starting and measuring all N)
#   SOLO5_SPT  a solo5-spt binary: adds the Solo5 idle guest under nabla-run
#              and under solo5-spt
# Paths: NABLA_RUN, NABLA_GUESTS, CC (bench/common.sh).
set -eu
. "$(dirname "$0")/common.sh"
n=${N:-1000}
slack=${SLACK:-20}

require_built "$tender" "$guests/idle.nabla"
command -v "$cc" >/dev/null 2>&1 || fail "'$cc' is missing (apt-get install gcc)"
"$cc" -O2 -static -o "$out/idle" "$root/bench/native/idle.c"
# Each nabla-run holds 64 MiB of (unbacked) guest memory and a few files.
ulimit -n 65536 2>/dev/null || true

now_ns() { date +%s%N; }

# run_side NAME STATUS-CHECK COMMAND...: starts N copies of COMMAND UNTIL,
# waits until STATUS-CHECK holds for every pid, then reports.
run_side() {
    local name=$1 ready=$2; shift 2
    local until=$(( $(now_ns) + slack * 1000000000 ))
    local start=$(now_ns) pids=() i
    for ((i = 0; i < n; i++)); do
        "$@" "$until" >/dev/null 2>"$out/density-$name.err" &
        pids+=($!)
    done
    local pending=("${pids[@]}") still
    while [ ${#pending[@]} -gt 0 ]; do
        still=()
        for pid in "${pending[@]}"; do
            grep -q "$ready" "/proc/$pid/status" 2>/dev/null || still+=("$pid")
        done
        pending=("${still[@]+"${still[@]}"}")
        [ $(( $(now_ns) - start )) -lt $(( slack * 1000000000 )) ] || fail "$name: ${#pending[@]} of $n not up in ${slack}s"
    done
    local up_ms=$(( ($(now_ns) - start) / 1000000 ))
    local pss=0 rss=0 p r
    for pid in "${pids[@]}"; do
        read -r p r < <(awk '/^Pss:/ {p=$2} /^Rss:/ {r=$2} END {print p, r}' "/proc/$pid/smaps_rollup")
        pss=$((pss + p)); rss=$((rss + r))
    done
    local failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
    [ "$(( $(now_ns) ))" -ge "$until" ] || fail "$name: the processes ended before their deadline"
    printf '%-9s %5d up in %6d ms   PSS %8d KB total, %7.1f KB each   RSS %7.1f KB each   %d exited non-zero\n' \
        "$name" "$n" "$up_ms" "$pss" "$(echo "$pss / $n" | bc -l)" "$(echo "$rss / $n" | bc -l)" "$failed"
    echo "$pss" > "$out/density-$name.pss"
    [ "$failed" -eq 0 ] || { cat "$out/density-$name.err" >&2; fail "$name: $failed processes did not exit 0"; }
}

echo "== density: $n idle nabla guests (guests/idle, poll hypercall) vs $n idle static native processes, all at once"
run_side nabla 'Seccomp:[[:space:]]*2' "$tender" "$guests/idle.nabla"
run_side native 'State:[[:space:]]*S' "$out/idle"
awk -v g="$(cat "$out/density-nabla.pss")" -v n="$(cat "$out/density-native.pss")" \
    'BEGIN { printf "PSS per process, nabla/native: %.2fx (target: at most 2x)\n", g / n }'

# With SOLO5_SPT (a solo5-spt built by hand outside the project, see
# bench/solo5.sh): the same Solo5 idle guest (guests/solo5/tests/idle.c,
# waiting in epoll) under both tenders.
if [ -n "${SOLO5_SPT:-}" ]; then
    [ -x "$SOLO5_SPT" ] || fail "SOLO5_SPT=$SOLO5_SPT is not an executable"
    require_built "$guests/solo5/idle.spt"
    echo "== density: $n idle Solo5 guests (guests/solo5 idle.spt) under nabla-run vs under solo5-spt"
    run_side nabla-spt 'Seccomp:[[:space:]]*2' "$tender" "$guests/solo5/idle.spt"
    run_side solo5-spt 'Seccomp:[[:space:]]*2' "$SOLO5_SPT" "$guests/solo5/idle.spt"
    awk -v g="$(cat "$out/density-nabla-spt.pss")" -v n="$(cat "$out/density-solo5-spt.pss")" \
        'BEGIN { printf "PSS per process, nabla-run/solo5-spt: %.2fx\n", g / n }'
fi
