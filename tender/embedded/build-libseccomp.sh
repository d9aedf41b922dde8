#!/bin/sh
# build-libseccomp.sh DIR VERSION CC: builds Debian's libseccomp, exactly
# VERSION (source package, Debian's patches applied), as a static library
# against musl with the compiler command CC, into DIR/install (lib/ and
# include/), for nabla-run (Makefile, "tender"). Nothing of libseccomp is
# kept in the repository. gperf regenerates the syscall table from
# Debian's patched syscalls.csv. On failure: one line, exit 1.
set -eu
dir=$1
version=$2
cc=$3
root=$(cd "$(dirname "$0")/../.." && pwd)

fail() {
    echo "nabla: cannot build libseccomp $version against musl: $1" >&2
    exit 1
}
command -v gperf >/dev/null 2>&1 || fail "no gperf (tools/install-deps installs it)"
[ -r /usr/lib/x86_64-linux-musl/libc.a ] || fail "no musl (tools/install-deps installs musl-dev)"

sh "$root/tools/fetch-debian-source.sh" libseccomp "$version" "$dir" src/api.c
cd "$dir/src"
rm -f src/syscalls.perf src/syscalls.perf.c
log="$dir/build.log"
{
    ./configure --prefix="$dir/install" --enable-static --disable-shared --disable-python \
        CC="$cc" CFLAGS="-O2 -g -fPIE -ffunction-sections -fdata-sections" &&
    make -C src && make -C src install && make -C include install
} >"$log" 2>&1 || fail "configure or make failed (see $log)"
[ -f "$dir/install/lib/libseccomp.a" ] || fail "no libseccomp.a was installed (see $log)"
