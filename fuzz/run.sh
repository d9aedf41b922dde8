#!/bin/sh
# fuzz/run.sh [SECONDS]: builds nabla-fuzz (libFuzzer + AddressSanitizer),
# writes the seed corpus, and fuzzes the ELF validator, GuestLayout and
# ImageInspection for SECONDS (default $FUZZ_SECONDS, else 600).
#
# Exits non-zero if the build fails or the fuzzer finds a crash, a trap, a
# sanitizer report, a hang (an input running over $FUZZ_TIMEOUT seconds,
# default 10) or an out-of-memory; the input is saved in fuzz/crashes/ and
# the commands to reproduce and minimise it are printed.
#
# Environment: SWIFT (default swift), NABLA_GUESTS (guest images for seeds,
# default .build/guests), FUZZ_FLAGS (more libFuzzer flags, e.g. -fork=2).
# Everything built or found goes to .build-fuzz/ (corpus/ is kept between
# runs), crashing inputs to fuzz/crashes/; both are ignored by git.
set -eu
cd "$(dirname "$0")/.."

seconds=${1:-${FUZZ_SECONDS:-600}}
swift=${SWIFT:-swift}
guests=${NABLA_GUESTS:-.build/guests}
scratch=.build-fuzz
bin=$scratch/release/nabla-fuzz
seeds=$scratch/seeds
corpus=$scratch/corpus
crashes=fuzz/crashes
log=$scratch/fuzz.log

# A Swift trap goes straight to libFuzzer's handler, which prints the stack
# symbolised: the runtime's own backtracer would run first and trip ASan.
export SWIFT_BACKTRACE=enable=no

mkdir -p "$scratch"
echo "nabla-fuzz: building $bin (-sanitize=fuzzer,address)"
# One -sanitize= with both: swiftc keeps only the last -sanitize= flag, so
# SwiftPM's --sanitize=fuzzer --sanitize=address would drop one of them.
build() {
    "$swift" build -c release --package-path fuzz --scratch-path "$scratch" --product nabla-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >"$scratch/build.log" 2>&1
}
# SwiftPM does not always notice a new file or target in the main package
# (a local dependency here) in an existing scratch folder: on failure, build
# once more from a clean one, keeping the corpus.
if ! build; then
    echo "nabla-fuzz: rebuilding from a clean $scratch" >&2
    find "$scratch" -mindepth 1 -maxdepth 1 ! -name corpus ! -name crashes -exec rm -rf {} +
    if ! build; then
        cat "$scratch/build.log" >&2
        echo "nabla-fuzz: build failed" >&2
        exit 1
    fi
fi

rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$crashes"
set -- "$guests"/*.nabla "$guests"/solo5/*.spt
if [ ! -e "$1" ]; then
    echo "nabla-fuzz: no guest images in $guests ('make guests' builds them): seeding with synthetic images only" >&2
    set --
fi
"$bin" --write-seeds "$seeds" "$@"

echo "nabla-fuzz: fuzzing for ${seconds}s; corpus $corpus ($(ls "$corpus" | wc -l) inputs), log $log"
status=0
# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
"$bin" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
    -use_value_profile=1 -dict=fuzz/elf.dict -print_final_stats=1 \
    -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} "$corpus" "$seeds" >"$log" 2>&1 || status=$?

# The summary: coverage at start and end, executions, speed, corpus.
grep -E '^#[0-9]+[[:space:]]+INITED' "$log" | tail -n 1 || true
grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)|^#[0-9]+: cov:' "$log" | tail -n 1 || true
grep -E '^Done [0-9]+ runs|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
echo "nabla-fuzz: corpus $corpus: $(ls "$corpus" | wc -l) inputs"

if [ "$status" -ne 0 ]; then
    echo "----- $log, from the first error -----" >&2
    awk '/Fatal error|==[0-9]+== *ERROR|ERROR: libFuzzer|ALARM: working/ { on = 1 } on && shown++ < 50' "$log" >&2
    echo "-----" >&2
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [ -n "$artifact" ]; then
        cat >&2 <<EOF
nabla-fuzz: FAILED (libFuzzer exit status $status): the input is $artifact
  reproduce: SWIFT_BACKTRACE=enable=no $bin $artifact
  minimise:  SWIFT_BACKTRACE=enable=no $bin -minimize_crash=1 -max_total_time=60 -artifact_prefix=$crashes/ $artifact
             (writes $crashes/minimized-from-*, the smallest last; reproduce it the same way)
  as hex:    od -An -tx1 -v $artifact
EOF
    else
        echo "nabla-fuzz: FAILED (libFuzzer exit status $status); see $log" >&2
    fi
    exit 1
fi
echo "nabla-fuzz: no crash in ${seconds}s"
