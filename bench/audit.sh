#!/bin/sh
# The syscall surface of the bundled guests against native programs doing the
# same job: the table in docs/audit.md. Each guest runs under
# `nabla-run --audit --json`, its native counterpart (bench/native/) under
# `nabla-run --audit-native --json`, with the same inputs. For a guest the
# figures are its guest phase; for a native program its whole run.
# Kernel functions need ftrace's function tracer (root, and a kernel that
# allows it); where it is refused the column says so.
# Needs root for the udp-echo row (a TAP interface). Usage: bench/audit.sh
set -eu
. "$(dirname "$0")/common.sh"
out=$out/audit
mkdir -p "$out"
require_built "$tender" "$guests/hello.nabla" "$guests/udp-echo.nabla"
for p in hello kvlog udpecho udpclient; do
    $cc -O2 -static -o "$out/$p" "$root/bench/native/$p.c"
done

kernel=""
if "$tender" --audit --audit-kernel --audit-out /dev/null "$guests/hello.nabla" >/dev/null 2>"$out/kernel-probe.txt"; then
    kernel="--audit-kernel"
else
    echo "note: $(cat "$out/kernel-probe.txt")" >&2
fi

# summarise JSON: distinct, total, kernel functions (or n/a) of the guest or native phase
summarise() {
    python3 - "$1" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
phase = report["phases"]["guest" if report["mode"] == "guest" else "native"]
kernel = report.get("kernel", {}).get("functions", "n/a")
names = ",".join(sorted(phase["syscalls"]))
print(f'{len(phase["syscalls"])} {phase["total"]} {kernel} {names}')
EOF
}

row() { # NAME GUEST_JSON NATIVE_JSON
    set -- "$1" "$(summarise "$2")" "$(summarise "$3")"
    echo "$1 $2 $3" | awk '{ printf "| %-9s | %3s | %3s | %5s | %5s | %6s | %6s |\n", $1, $2, $6, $3, $7, $4, $8 }'
    echo "$1 $2 $3" | awk '{ printf "%s\n  guest syscalls:  %s\n  native syscalls: %s\n", $1, $5, $9 }' >> "$out/names.txt"
}

: > "$out/names.txt"
echo "| workload | distinct: nabla | native | total: nabla | native | kernel functions: nabla | native |"
echo "|---|---|---|---|---|---|---|"

# hello: print a line and exit.
"$tender" --audit --json $kernel --audit-out "$out/hello-guest.json" "$guests/hello.nabla" >/dev/null
"$tender" --audit-native --json $kernel --audit-out "$out/hello-native.json" -- "$out/hello" >/dev/null
row hello "$out/hello-guest.json" "$out/hello-native.json"

# kvlog: 200 puts then a get on a 4 MiB log.
if [ -e "$guests/kvlog.nabla" ]; then
    truncate -s 0 "$out/kv-guest.img" "$out/kv-native.img"
    truncate -s 4M "$out/kv-guest.img" "$out/kv-native.img"
    "$tender" --audit --json $kernel --audit-out "$out/kvlog-guest.json" --disk "$out/kv-guest.img" "$guests/kvlog.nabla" fill 200 >/dev/null
    "$tender" --audit-native --json $kernel --audit-out "$out/kvlog-native.json" -- "$out/kvlog" "$out/kv-native.img" fill 200 >/dev/null
    row kvlog "$out/kvlog-guest.json" "$out/kvlog-native.json"
else
    echo "| kvlog     | (pending: guests/kvlog not built) |"
fi

# udp-echo: 200 request/response round trips, then a quit datagram.
if [ "$(id -u)" -eq 0 ] && [ -e /dev/net/tun ]; then
    tap=nbaudit0
    ip tuntap del dev $tap mode tap 2>/dev/null || true
    ip tuntap add dev $tap mode tap && ip link set $tap up && ip addr add 10.215.0.1/24 dev $tap
    trap 'ip tuntap del dev $tap mode tap 2>/dev/null || true' EXIT
    "$tender" --audit --json $kernel --audit-out "$out/udp-guest.json" --net $tap "$guests/udp-echo.nabla" \
        --ipv4=10.215.0.2/24 --port=7 >/dev/null &
    guest=$!
    sleep 0.5
    "$out/udpclient" 10.215.0.2 7 200 64 >/dev/null
    python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'nabla:quit', ('10.215.0.2', 7))"
    wait $guest
    "$tender" --audit-native --json $kernel --audit-out "$out/udp-native.json" -- "$out/udpecho" 127.0.0.1 7007 >/dev/null &
    native=$!
    sleep 0.5
    "$out/udpclient" 127.0.0.1 7007 200 64 >/dev/null
    python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'nabla:quit', ('127.0.0.1', 7007))"
    wait $native
    row udp-echo "$out/udp-guest.json" "$out/udp-native.json"
else
    echo "| udp-echo  | (needs root and /dev/net/tun) |"
fi

echo
cat "$out/names.txt"
