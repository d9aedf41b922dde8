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
#   cri       pods through containerd's CRI (bench/cri-bench.py): a private
#             containerd in a network namespace of its own with Debian's
#             CNI bridge, runtime handlers `nabla` (the runc shim with
#             BinaryName nabla-runc) and `runc`, the same pause image
#             (tools/cri/pause.c); pod create-to-running and
#             stop-to-removed, and containers started per second
#
# Usage: bench/oci.sh [runtime|podman|cri]...   (as root; default: all;
# RUNS, default 20). Needs `make tender runtime guests` first. Makes images
# localhost/nabla-bench-{guest,native,pause} and removes them on exit.
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
cri_netns=nabla-bench-cri-$$
# The runtimes' state on tmpfs, as containerd's default /run/containerd/runc.
cri_root=/run/nabla-bench-cri-$$
cleanup() {
    if [ -f "$work/cri/containerd.pid" ]; then
        # cri-bench.py removes its pods; after a failure, what it left.
        for id in $(ls "$cri_root/k8s.io" 2>/dev/null); do
            "$runtime" --root "$cri_root/k8s.io" delete --force "$id" >/dev/null 2>&1 ||
                runc --root "$cri_root/k8s.io" delete --force "$id" >/dev/null 2>&1 || true
        done
        kill "$(cat "$work/cri/containerd.pid")" 2>/dev/null || true
        sleep 1
        for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $work/cri/containerd.sock"); do kill "$pid"; done
    fi
    ip netns del "$cri_netns" 2>/dev/null || true
    rm -rf "$cri_root"
    for hierarchy in /sys/fs/cgroup/*; do
        [ -d "$hierarchy/nabla-bench-cri" ] || continue
        for cgroup in "$hierarchy"/nabla-bench-cri/*/; do [ -d "$cgroup" ] && rmdir "$cgroup"; done
        rmdir "$hierarchy/nabla-bench-cri" 2>/dev/null || true
    done
    podman rmi -f localhost/nabla-bench-guest localhost/nabla-bench-native localhost/nabla-bench-pause >/dev/null 2>&1 || true
    grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r point; do umount -l "$point"; done
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

bench_cri() {
    for tool in containerd ctr nsenter protoc gcc; do
        command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is missing (tools/install-deps)"
    done
    [ -x /usr/lib/cni/bridge ] || fail "Debian's CNI plugins are missing (tools/install-deps)"
    c=$work/cri
    mkdir -p "$c/cni" "$c/images" "$cri_root"
    chmod 700 "$cri_root"
    gcc -static -O2 -o "$c/images/pause" "$root/tools/cri/pause.c"
    cp "$guests/hello.nabla" "$tender" "$c/images/"
    printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' > "$c/images/pause.file"
    printf 'FROM scratch\nCOPY hello.nabla /\nCMD ["/hello.nabla"]\n' > "$c/images/guest.file"
    printf 'FROM scratch\nCOPY nabla-run hello.nabla /\nCMD ["/nabla-run", "/hello.nabla"]\n' > "$c/images/native.file"
    ip netns add "$cri_netns"
    ip -n "$cri_netns" link set lo up
    printf '{"cniVersion": "1.0.0", "name": "nabla-bench", "plugins": [
  {"type": "bridge", "bridge": "nbench0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.78.0/24"}]], "dataDir": "%s/ipam"}},
  {"type": "loopback"}]}\n' "$c" > "$c/cni/10-bench.conflist"
    cri='plugins."io.containerd.grpc.v1.cri"'
    {
        echo 'version = 2'
        echo "root = \"$c/root\""
        echo "state = \"$c/state\""
        echo "[grpc]"
        echo "  address = \"$c/containerd.sock\""
        echo "[ttrpc]"
        echo "  address = \"$c/containerd.sock.ttrpc\""
        echo "[$cri]"
        echo '  sandbox_image = "localhost/nabla-bench-pause:latest"'
        echo '  stream_server_address = "127.0.0.1"'
        echo '  stream_server_port = "0"'
        echo '  restrict_oom_score_adj = true'
        echo "  [$cri.cni]"
        echo '    bin_dir = "/usr/lib/cni"'
        echo "    conf_dir = \"$c/cni\""
        echo "  [$cri.containerd.runtimes.runc]"
        echo '    runtime_type = "io.containerd.runc.v2"'
        echo "    [$cri.containerd.runtimes.runc.options]"
        echo "      Root = \"$cri_root\""
        echo "  [$cri.containerd.runtimes.nabla]"
        echo '    runtime_type = "io.containerd.runc.v2"'
        echo "    [$cri.containerd.runtimes.nabla.options]"
        echo "      BinaryName = \"$runtime\""
        echo "      Root = \"$cri_root\""
        echo '      SystemdCgroup = false'
    } > "$c/config.toml"
    nsenter --net="/run/netns/$cri_netns" containerd --config "$c/config.toml" > "$c/containerd.log" 2>&1 &
    echo $! > "$c/containerd.pid"
    i=0
    while [ ! -S "$c/containerd.sock" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    [ -S "$c/containerd.sock" ] || fail "containerd did not start: $(tail -5 "$c/containerd.log")"
    for image in pause guest native; do
        podman build -q -t "localhost/nabla-bench-$image" -f "$c/images/$image.file" "$c/images" >/dev/null
        podman save --format oci-archive -o "$c/$image.tar" "localhost/nabla-bench-$image" 2>/dev/null
        ctr -a "$c/containerd.sock" -n k8s.io images import "$c/$image.tar" >/dev/null
    done
    echo "== pods through containerd's CRI: handler nabla (nabla-runc, hello.nabla) vs runc (nabla-run hello.nabla), same pause image, $runs runs each, alternating"
    /usr/bin/python3 "$root/bench/cri-bench.py" "$c/containerd.sock" "$c/logs" /nabla-bench-cri \
        localhost/nabla-bench-guest:latest localhost/nabla-bench-native:latest "$runs"
}

[ $# -gt 0 ] || set -- runtime podman cri
for b in "$@"; do "bench_$b"; done
