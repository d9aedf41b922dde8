#!/bin/sh
# OCI runtime benchmark: the time to run the hello guest as a container,
# nabla-runc against runc running the same tender and guest as an ordinary
# container, measured alternately in the same run.
#
#   runtime   `nabla-runc run` of a bundle with /hello.nabla, against `runc
#             run` of a bundle with the static nabla-run and /hello.nabla
#             (no engine: the runtimes alone)
#   podman    `podman run --rm --network none` of the two images built from
#             those bundles (conmon, storage and podman included)
#
# Usage: bench/oci.sh [runtime|podman]...   (as root; default: both; RUNS,
# default 20). Needs `make tender runtime guests` first. Makes images
# localhost/nabla-bench-{guest,native} and removes them on exit.
set -eu
. "$(dirname "$0")/common.sh"
runs=${RUNS:-20}
runtime=${NABLA_RUNC:-$root/.build/release/nabla-runc}
limits="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

[ "$(id -u)" -eq 0 ] || fail "needs root (containers need namespaces and cgroups)"
for tool in runc podman; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is missing (tools/install-deps)"
done
require_built "$tender" "$runtime" "$guests/hello.nabla"

work=$out/oci
rm -rf "$work"
mkdir -p "$work/guest/rootfs" "$work/native/rootfs" "$work/state"
cleanup() {
    podman rmi -f localhost/nabla-bench-guest localhost/nabla-bench-native >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cp "$guests/hello.nabla" "$work/guest/rootfs/"
cp "$tender" "$guests/hello.nabla" "$work/native/rootfs/"
config() {   # config ARGS-JSON: a minimal bundle config (proc mounted for runc)
    printf '{"ociVersion":"1.0.2","process":{"args":%s,"cwd":"/","env":["PATH=/"],"user":{"uid":0,"gid":0}},' "$1"
    printf '"root":{"path":"rootfs"},"mounts":[{"destination":"/proc","type":"proc","source":"proc"}],'
    printf '"linux":{"namespaces":[{"type":"mount"},{"type":"pid"},{"type":"ipc"},{"type":"uts"}]}}\n'
}
config '["/hello.nabla"]' > "$work/guest/config.json"
config '["/nabla-run","/hello.nabla"]' > "$work/native/config.json"

# time_ms CMD...: wall time of one run in milliseconds (output discarded).
time_ms() {
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || fail "failed: $*"
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

# compare LABEL-A LABEL-B: runs "a" and "b" alternately, prints medians and ratio.
compare() {
    : > "$work/a.txt"
    : > "$work/b.txt"
    i=0
    while [ $i -lt "$runs" ]; do
        time_ms a $i >> "$work/a.txt"
        time_ms b $i >> "$work/b.txt"
        i=$((i + 1))
    done
    middle=$(( (runs + 1) / 2 ))
    ma=$(sort -n "$work/a.txt" | sed -n "${middle}p")
    mb=$(sort -n "$work/b.txt" | sed -n "${middle}p")
    printf '%-12s median %4s ms   (all: %s)\n' "$1" "$ma" "$(sort -n "$work/a.txt" | tr '\n' ' ')"
    printf '%-12s median %4s ms   (all: %s)\n' "$2" "$mb" "$(sort -n "$work/b.txt" | tr '\n' ' ')"
    awk -v a="$ma" -v b="$mb" 'BEGIN { printf "ratio        %.2fx (nabla-runc / runc)\n", a / b }'
}

bench_runtime() {
    echo "== runtime alone: nabla-runc run (hello.nabla) vs runc run (nabla-run hello.nabla in a container), $runs runs each, alternating"
    a() { "$runtime" --root "$work/state" run --bundle "$work/guest" "nabla-bench-a$1"; }
    b() { runc --root "$work/state/runc" run --bundle "$work/native" "nabla-bench-b$1"; }
    compare nabla-runc runc
}

bench_podman() {
    echo "== podman run --rm --network none: nabla image on nabla-runc vs the native image on runc, $runs runs each, alternating"
    printf 'FROM scratch\nCOPY hello.nabla /\nCMD ["/hello.nabla"]\n' > "$work/guest/rootfs/Containerfile"
    printf 'FROM scratch\nCOPY nabla-run hello.nabla /\nCMD ["/nabla-run", "/hello.nabla"]\n' > "$work/native/rootfs/Containerfile"
    podman build -q -t localhost/nabla-bench-guest "$work/guest/rootfs" >/dev/null
    podman build -q -t localhost/nabla-bench-native "$work/native/rootfs" >/dev/null
    # shellcheck disable=SC2086
    a() { podman --runtime "$runtime" run --rm --network none $limits localhost/nabla-bench-guest; }
    # shellcheck disable=SC2086
    b() { podman --runtime runc run --rm --network none $limits localhost/nabla-bench-native; }
    compare nabla-runc runc
}

[ $# -gt 0 ] || set -- runtime podman
for b in "$@"; do "bench_$b"; done
