#!/bin/sh
# build-newlib.sh: the guests' C library. Fetches newlib 3.3.0 from Debian's
# newlib-source package, checks the version, and builds libc.a and libm.a
# for x86_64-unknown-none-elf with the Swift toolchain's clang, for the
# library OS to be their platform (guests/libos/newlib.c). Nothing of newlib
# is kept in the repository.
#
#   build-newlib.sh WORK OUT TOOLCHAIN_BIN
#
# WORK holds the download, the private apt state and the build; OUT gets
# include/, lib/libc.a and lib/libm.a. apt runs with its own state, cache
# and a copy of this machine's source lists, all under WORK: the machine's
# apt configuration is read, never changed, and nothing is installed.
set -eu

work=$1 out=$2 bin=$3
version=3.3.0

fail() { echo "build-newlib: $*" >&2; exit 1; }
[ -x "$bin/clang" ] || fail "no clang in $bin (set TOOLCHAIN)"
command -v apt-get >/dev/null || fail "apt-get is needed to fetch Debian's newlib-source package"

mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sources.list.d"
# The machine's Debian sources, copied (deb lines only are needed: the
# tarball is in a binary package).
rm -f "$work/apt/sources.list.d/"*
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && cp "$f" "$work/apt/sources.list.d/"
done
if [ -f /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$work/apt/sources.list"; else : > "$work/apt/sources.list"; fi
apt() {
    "$@" -q -o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts="$work/apt/sources.list.d" \
        -o Dir::State::Lists="$work/apt/lists" -o Dir::State::status=/dev/null -o Dir::Cache="$work/apt/cache" \
        -o Debug::NoLocking=1 -o APT::Sandbox::User=root
}

deb=$(ls "$work"/newlib-source_"$version"-*_all.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
    apt apt-get update >/dev/null || fail "apt-get update failed (private state in $work/apt): is the network up?"
    (cd "$work" && apt apt-get download newlib-source >/dev/null) ||
        fail "cannot download Debian's newlib-source package"
    deb=$(ls "$work"/newlib-source_*_all.deb | head -1)
fi
got=$(dpkg-deb -f "$deb" Version)
case $got in
    "$version"-*) ;;
    *) fail "newlib-source is version $got, this build is pinned to $version (guests/libc/build-newlib.sh)" ;;
esac

src=$work/src
rm -rf "$src" "$work/build" "$work/stage"
mkdir -p "$src" "$work/build"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src" ./usr/src/newlib/newlib-$version.tar.xz
tar -xJf "$src/usr/src/newlib/newlib-$version.tar.xz" -C "$src"
top=$(ls -d "$src"/newlib-*/ | head -1)
grep -q "PACKAGE_VERSION='$version'" "$top/newlib/configure" || fail "the tarball in $deb is not newlib $version"

# -fno-builtin: clang would otherwise turn newlib's copy loops into calls
# to memcpy/memmove themselves. -ffile-prefix-map: assert messages name
# newlib's files, not this build directory. The rest as for the library OS
# (guests/Makefile).
cflags="-target x86_64-unknown-none-elf -ffreestanding -fno-builtin -fno-pic -fno-pie -mno-red-zone \
-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables -ffunction-sections -fdata-sections \
-O2 -g0 -ffile-prefix-map=${top%/}=newlib-$version -Wno-implicit-function-declaration -Wno-int-conversion -Wno-implicit-int"
cd "$work/build"
"$top/configure" --target=x86_64-elf --prefix=/newlib --disable-multilib --disable-libgloss --disable-nls \
    --disable-newlib-supplied-syscalls --disable-newlib-multithread \
    --enable-newlib-io-long-long --enable-newlib-io-c99-formats \
    CC_FOR_TARGET="$bin/clang" AS_FOR_TARGET="$bin/clang" CFLAGS_FOR_TARGET="$cflags" \
    AR_FOR_TARGET="$bin/llvm-ar" RANLIB_FOR_TARGET="$bin/llvm-ranlib" NM_FOR_TARGET="$bin/llvm-nm" \
    > configure.log 2>&1 || fail "configure failed: see $work/build/configure.log"
make -j"$(nproc)" all-target-newlib > build.log 2>&1 || fail "build failed: see $work/build/build.log"
make install-target-newlib DESTDIR="$work/stage" > install.log 2>&1 || fail "install failed: see $work/build/install.log"

rm -rf "$out"
mkdir -p "$out/lib"
cp -R "$work/stage/newlib/x86_64-elf/include" "$out/include"
cp "$work/stage/newlib/x86_64-elf/lib/libc.a" "$work/stage/newlib/x86_64-elf/lib/libm.a" "$out/lib/"
# The library OS has faster memcpy, memmove, memset and strlen
# (guests/libos/string.S): newlib's go, so that no link order can pick them.
"$bin/llvm-ar" d "$out/lib/libc.a" lib_a-memcpy.o lib_a-memmove.o lib_a-memset.o lib_a-strlen.o
! "$bin/llvm-nm" -g --defined-only "$out/lib/libc.a" | grep -qE ' T (memcpy|memmove|memset|strlen)$' ||
    fail "newlib's libc.a still defines memcpy, memmove, memset or strlen"
echo "newlib $got" > "$out/VERSION"
