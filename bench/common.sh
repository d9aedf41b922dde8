# Sourced by the bench/*.sh scripts: where things are, and the checks they
# all make first. Paths: NABLA_RUN (default .build/release/nabla-run),
# NABLA_GUESTS (default .build/guests), CC (default gcc).
root=$(cd "$(dirname "$0")/.." && pwd)
tender=${NABLA_RUN:-$root/.build/release/nabla-run}
guests=${NABLA_GUESTS:-$root/.build/guests}
out=$root/.build/bench
cc=${CC:-gcc}
mkdir -p "$out"

fail() { echo "$(basename "$0"): $*" >&2; exit 1; }

# require_built FILE...: each must exist (the tender and guest images).
require_built() {
    for f in "$@"; do
        [ -e "$f" ] || fail "$f is missing: run 'make tender guests' first"
    done
}
