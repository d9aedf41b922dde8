#!/bin/sh
# surface.sh: the system calls and argument conditions a program needs as a
# native process against the same program as a nabla guest (tender set-up
# and guest phase), from `--audit --json --seccomp-profile` (docs/audit.md,
# "Surfaces"). The profiles' start calls (SeccompProfile.startCalls, the
# same in every profile) are not counted: only what the traced run made.
set -eu
. "$(dirname "$0")/common.sh"
out=$out/surface
mkdir -p "$out"
require_built "$tender" "$guests/hello.nabla" "$guests/kvlog.nabla"
for p in hello kvlog; do
    $cc -O2 -static -o "$out/$p" "$root/bench/native/$p.c"
done

# NAME AUDIT_JSON PROFILE_JSON: distinct calls by phase, pinned argument tuples.
summarise() {
    python3 - "$@" <<'PY'
import json, sys
report, profile = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
phases = report["phases"]
seen = set().union(*[set(p["syscalls"]) for p in phases.values()])
tuples = sum(1 for e in profile["syscalls"] for n in e["names"] if e.get("args") and n in seen)
if report["mode"] == "guest":
    print(len(phases["setup"]["syscalls"]), len(phases["guest"]["syscalls"]), len(seen), tuples,
          " ".join(sorted(phases["guest"]["syscalls"])) or "-")
else:
    print(len(seen), tuples, " ".join(sorted(seen)))
PY
}

row() { # NAME GUEST_PREFIX NATIVE_PREFIX
    g=$(summarise "$2.json" "$2.profile.json"); n=$(summarise "$3.json" "$3.profile.json")
    set -- "$1" $g -- $n
    name=$1; setup=$2; guest=$3; whole=$4; gtuples=$5; shift 5
    gnames=""; while [ "$1" != "--" ]; do gnames="$gnames $1"; shift; done; shift
    echo "| $name | $1 ($2 pinned tuples) | $setup | $guest ($(echo $gnames)) | $whole ($gtuples pinned tuples) |"
}

echo "| workload | native process: distinct calls | nabla tender set-up | nabla guest phase | nabla whole process |"
echo "|---|---|---|---|---|"
"$tender" --audit --json --audit-out "$out/hello-guest.json" --seccomp-profile "$out/hello-guest.profile.json" "$guests/hello.nabla" >/dev/null
"$tender" --audit-native --json --audit-out "$out/hello-native.json" --seccomp-profile "$out/hello-native.profile.json" -- "$out/hello" >/dev/null
row hello "$out/hello-guest" "$out/hello-native"

truncate -s 0 "$out/kv-guest.img" "$out/kv-native.img"
truncate -s 4M "$out/kv-guest.img" "$out/kv-native.img"
"$tender" --audit --json --audit-out "$out/kvlog-guest.json" --seccomp-profile "$out/kvlog-guest.profile.json" \
    --disk "$out/kv-guest.img" "$guests/kvlog.nabla" fill 200 >/dev/null
"$tender" --audit-native --json --audit-out "$out/kvlog-native.json" --seccomp-profile "$out/kvlog-native.profile.json" \
    -- "$out/kvlog" "$out/kv-native.img" fill 200 >/dev/null
row kvlog "$out/kvlog-guest" "$out/kvlog-native"
echo "profiles and reports: $out" >&2
