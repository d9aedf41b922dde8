#!/bin/sh
# fetch-debian-source.sh PACKAGE VERSION DIR FILE: puts the source of
# Debian's source package PACKAGE, exactly VERSION, with Debian's patches
# applied, in DIR/src, and checks that it has FILE (a path inside it).
# Used for lwIP (guests/net) and libseccomp (tender/embedded); nothing of
# either is kept in the repository.
#
# It uses apt-get with a private sources.list (deb-src lines for bookworm
# and its updates), state and cache under DIR/apt, so the machine's own apt
# configuration is neither read nor changed. apt checks the archive's
# signature (debian-archive-keyring) and the files' hashes; dpkg-source
# checks the tarballs against the .dsc and applies Debian's patches.
#
# On failure it prints one line naming the fix and exits 1.
set -eu

package=$1
version=$2
mkdir -p "$3"
dir=$(cd "$3" && pwd)
file=$4
apt="$dir/apt"
fix="install apt, dpkg-dev and debian-archive-keyring (tools/install-deps) and check that deb.debian.org is reachable, then run make again"

fail() {
    echo "nabla: cannot fetch Debian source package $package $version: $1; $fix" >&2
    exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "no apt-get"
command -v dpkg-source >/dev/null 2>&1 || fail "no dpkg-source"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || fail "no $keyring"

rm -rf "$apt" "$dir/src" "$dir/unpack"
mkdir -p "$apt/etc" "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/download"
{
    echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm main"
    echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main"
    echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main"
} > "$apt/etc/sources.list"
: > "$apt/state/status"
apt_get() {
    apt-get -q -o Dir::Etc::SourceList="$apt/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
        -o Dir::State="$apt/state" -o Dir::State::status="$apt/state/status" \
        -o Dir::Cache="$apt/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}
apt_get update >"$apt/update.log" 2>&1 || fail "apt-get update failed (see $apt/update.log)"
(cd "$apt/download" && apt_get source --download-only "$package=$version") >"$apt/source.log" 2>&1 ||
    fail "apt-get source $package=$version failed (see $apt/source.log)"

dsc=$(ls "$apt/download"/"$package"_*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || fail "no .dsc was downloaded"
got=$(sed -n 's/^Version: //p' "$dsc")
[ "$got" = "$version" ] || fail "the archive has version $got, this build expects $version"

dpkg-source -q -x "$dsc" "$dir/unpack" >"$apt/unpack.log" 2>&1 || fail "dpkg-source -x failed (see $apt/unpack.log)"
[ -f "$dir/unpack/$file" ] || fail "the unpacked source has no $file"
mv "$dir/unpack" "$dir/src"
echo "$version" > "$dir/src/.nabla-version"
