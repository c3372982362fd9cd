#!/bin/sh
# test_dist.sh - `make dist` leaves exactly the release artifacts in DIST:
# udp-proxy_VERSION_ARCH.deb, udp-proxy-VERSION-x64.msi / -x86.msi,
# udp-proxy-VERSION-x64.exe / -x86.exe, and a SHA256SUMS that verifies them
# all; the .deb's version and the MSIs' ProductVersion are VERSION; the
# worktree gains no file (the .deb is built in a temporary copy).
# Skips (77) with the apt-get line when a tool is missing.
# Usage: test_dist.sh SRCDIR BUILDDIR
src=$1
build=$2
version=$(tr -d ' \n' <"$src/VERSION")
for t in dpkg-buildpackage dh wixl msibuild msiinfo x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc; do
    command -v $t >/dev/null 2>&1 || {
        echo "SKIP: '$t' is missing: sudo sh scripts/deps.sh dist"
        exit 77
    }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
    echo "FAIL: $*"
    status=1
}
before=$(git -C "$src" status --porcelain 2>/dev/null)
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$src" dist BUILD="$build" DIST="$tmp/dist" JOBS=2 \
    >"$tmp/make.log" 2>&1 || {
    tail -n 40 "$tmp/make.log"
    echo "FAIL: make dist"
    exit 1
}
arch=$(dpkg --print-architecture)
want="SHA256SUMS udp-proxy-$version-x64.exe udp-proxy-$version-x64.msi udp-proxy-$version-x86.exe \
udp-proxy-$version-x86.msi udp-proxy_${version}_$arch.deb"
got=$(cd "$tmp/dist" && ls | sort | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" ] || fail "dist/ holds: $got"
(cd "$tmp/dist" && sha256sum -c SHA256SUMS) >"$tmp/sums" 2>&1 || fail "SHA256SUMS does not verify: $(cat "$tmp/sums")"
[ "$(wc -l <"$tmp/dist/SHA256SUMS")" = 5 ] || fail "SHA256SUMS lists $(wc -l <"$tmp/dist/SHA256SUMS") files, not 5"
[ "$(dpkg-deb -f "$tmp/dist/udp-proxy_${version}_$arch.deb" Version)" = "$version" ] || fail ".deb version"
for a in x64 x86; do
    v=$(msiinfo export "$tmp/dist/udp-proxy-$version-$a.msi" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductVersion" { print $2 }')
    [ "$v" = "$version" ] || fail "udp-proxy-$version-$a.msi: ProductVersion '$v'"
done
[ "$(git -C "$src" status --porcelain 2>/dev/null)" = "$before" ] || fail "make dist changed the worktree:
$(git -C "$src" status --porcelain)"
[ $status = 0 ] && echo "ok: make dist: $(cd "$tmp/dist" && ls -l | awk 'NR > 1 { printf "%s (%s bytes) ", $9, $5 }')"
exit $status
