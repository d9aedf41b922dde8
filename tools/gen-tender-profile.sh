#!/bin/sh
# gen-tender-profile.sh: the tender's own seccomp profile, the one nabla-runc
# loads around nabla-run (docs/oci.md, "The tender's profile"), from the
# tender's own audits.
#
#   tools/gen-tender-profile.sh TENDER GUESTS > Sources/nabla-runc/TenderProfile.swift
#   tools/gen-tender-profile.sh --json TENDER GUESTS     (the profile alone)
#
# Runs `nabla-run --audit --seccomp-profile` over every kind of guest
# nabla-runc starts (a nabla guest with arguments and environment, standard
# input from a pipe, a disk file read-write and read-only, a block device, a
# TAP interface, Solo5 images with a disk and a NIC) and merges the
# profiles (--merge). The merged file allows what --seccomp-profile allows
# to start any program under runc (SeccompProfile.startCalls); the tender
# starts from nabla-runc, which loads the profile after everything but its
# execveat, so those calls are kept only where the tender itself made them
# (the audits' phase counts say which), and execveat is added.
#
# Needs root (ptrace, a loop device, a TAP interface inside a network
# namespace made here and removed on exit). TenderProfileTests runs this
# and fails when the checked-in profile differs.
set -eu

mode=swift
if [ "${1:-}" = --json ]; then mode=json; shift; fi
[ $# -eq 2 ] || { echo "usage: $0 [--json] TENDER GUESTS" >&2; exit 64; }
tender=$1 guests=$2
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (ptrace, a loop device, a TAP interface)" >&2; exit 77; }

work=$(mktemp -d)
netns=nbtp-$$
loop=
cleanup() {
    ip netns del "$netns" 2>/dev/null || true
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

profile=$work/profile.json
runs=0
# audit NAME [nabla-run options and image...]: one traced run merged in.
audit() {
    name=$1; shift
    merge=
    [ $runs -gt 0 ] && merge="--merge $profile"
    # shellcheck disable=SC2086
    "$tender" --audit --json --audit-out "$work/$name.json" --seccomp-profile "$work/next.json" $merge "$@" \
        < "${stdin:-/dev/null}" > "$work/$name.out" 2>&1 || {
        echo "$0: the audited run $name failed:" >&2; cat "$work/$name.out" >&2; exit 1; }
    mv "$work/next.json" "$profile"
    runs=$((runs + 1))
}

audit hello --mem 64M --env COLOUR=blue "$guests/hello.nabla" one two
printf 'a line\n' > "$work/line"
stdin=$work/line audit cat "$guests/cat.nabla"
stdin=
audit clock "$guests/clock.nabla"
for what in clock streams random identity tty; do audit "process-$what" "$guests/process.nabla" "$what"; done
truncate -s 4M "$work/kv.img"
audit kvlog-put --disk "disk=$work/kv.img" "$guests/kvlog.nabla" put colour blue
audit kvlog-get --disk-readonly "disk=$work/kv.img" "$guests/kvlog.nabla" get colour
loop=$(losetup -f --show "$work/kv.img")
audit kvlog-block --disk "disk=$loop" "$guests/kvlog.nabla" get colour
audit solo5-hello "$guests/solo5/hello.spt"
truncate -s 1M "$work/blk.img"
audit solo5-blk --disk "storage=$work/blk.img" "$guests/solo5/blk.spt"

# The network guest: a TAP inside a namespace of its own; udp-echo quits on
# a datagram from the host end.
ip netns add "$netns"
ip -n "$netns" link set lo up
ip -n "$netns" tuntap add dev nbtp0 mode tap
ip -n "$netns" addr add 10.216.0.1/24 dev nbtp0
ip -n "$netns" link set nbtp0 up
ip netns exec "$netns" "$tender" --audit --json --audit-out "$work/net.json" \
    --seccomp-profile "$work/next.json" --merge "$profile" --net nbtp0 --net-mac 02:00:0a:d8:00:02 \
    "$guests/udp-echo.nabla" --ipv4=10.216.0.2/24 --port=7 > "$work/net.out" 2>&1 &
guest=$!
i=0
while kill -0 $guest 2>/dev/null && [ $i -lt 50 ]; do
    ip netns exec "$netns" python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'nabla:quit', ('10.216.0.2', 7))" 2>/dev/null || true
    sleep 0.2
    i=$((i + 1))
done
wait $guest || { echo "$0: the audited run net failed:" >&2; cat "$work/net.out" >&2; exit 1; }
mv "$work/next.json" "$profile"

# Solo5's net test answers three pings at 10.0.0.2 and exits.
ip -n "$netns" tuntap add dev nbtp1 mode tap
ip -n "$netns" addr add 10.0.0.1/24 dev nbtp1
ip -n "$netns" link set nbtp1 up
ip netns exec "$netns" "$tender" --audit --json --audit-out "$work/solo5-net.json" \
    --seccomp-profile "$work/next.json" --merge "$profile" --net service=nbtp1 \
    "$guests/solo5/net.spt" > "$work/solo5-net.out" 2>&1 &
guest=$!
sleep 0.5
ip netns exec "$netns" ping -c 3 -i 0.2 -W 2 10.0.0.2 > /dev/null || true
wait $guest || { echo "$0: the audited run solo5-net failed:" >&2; cat "$work/solo5-net.out" >&2; exit 1; }
mv "$work/next.json" "$profile"

python3 - "$mode" "$profile" "$work"/*.json <<'EOF'
import json, sys
mode, profile_path, audits = sys.argv[1], sys.argv[2], [p for p in sys.argv[3:] if not p.endswith("/profile.json")]
profile = json.load(open(profile_path))
made = {"execveat"}
for path in audits:
    for phase in json.load(open(path))["phases"].values():
        made.update(phase["syscalls"])
for entry in profile["syscalls"]:
    if "args" not in entry:
        entry["names"] = sorted(n for n in entry["names"] if n in made)
lines = ['{', '  "defaultAction": "%s",' % profile["defaultAction"], '  "defaultErrnoRet": %d,' % profile["defaultErrnoRet"],
         '  "architectures": %s,' % json.dumps(profile["architectures"]), '  "syscalls": [']
entries = [json.dumps(e, separators=(", ", ": ")) for e in profile["syscalls"]]
lines += ["    " + e + ("," if i < len(entries) - 1 else "") for i, e in enumerate(entries)]
lines += ['  ]', '}']
text = "\n".join(lines)
if mode == "json":
    print(text)
else:
    rules = []
    for entry in profile["syscalls"]:
        pins = ", ".join("(%d, %d)" % (a["index"], a["value"]) for a in entry.get("args", []))
        for name in entry["names"]:
            rules.append('        Rule("%s"%s),' % (name, ", [" + pins + "]" if pins else ""))
    print("""// TenderProfile.swift: GENERATED by tools/gen-tender-profile.sh from the
// tender's own audits; do not edit. The seccomp profile nabla-runc loads
// around the tender (docs/oci.md, "The tender's profile").
// TenderProfileTests regenerates it and fails when this one is stale.

extension TenderProfile {
    /// The profile as OCI seccomp JSON (`nabla-runc tender-profile`).
    static let json = #\"\"\"
%s
\"\"\"#

    /// The same profile as the rules TenderFilter compiles: a call is
    /// allowed when every (argument index, value) pin of one of its rules
    /// holds; anything else fails with EPERM.
    static let rules: [Rule] = [
%s
    ]
}""" % (text, "\n".join(rules)))
EOF
