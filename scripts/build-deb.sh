#!/bin/sh
# build-deb.sh OUTDIR - build udp-proxy_VERSION_ARCH.deb the Debian way
# (debian/, debhelper, dpkg-buildpackage -b -us -uc) in a temporary copy of
# the source, and leave the .deb in OUTDIR. The worktree is not touched.
#
# The copy holds the files git knows (tracked, or new and not ignored), so a
# build directory never leaks into the package; debian/changelog is written
# there from VERSION, dated by the last commit (reproducible builds).
set -e
out=${1:?usage: build-deb.sh OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
# UP_DEB_VERSION overrides the package version (tests build a higher one to
# test upgrades); the daemon's --version always comes from VERSION.
version=${UP_DEB_VERSION:-$(tr -d ' \n' <"$src/VERSION")}
for tool in dpkg-buildpackage dh cmake; do
    command -v $tool >/dev/null || {
        echo "build-deb: '$tool' is missing. Run: sudo apt-get install -y debhelper dpkg-dev cmake build-essential" >&2
        exit 1
    }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/udp-proxy-$version
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    # --ignore-failed-read: a tracked file deleted in the worktree is left out.
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -C "$tree" -xf -
    epoch=$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)
else
    (cd "$src" && tar --exclude='./build*' --exclude=./dist -cf - .) | tar -C "$tree" -xf -
    epoch=$(date +%s)
fi
cat >"$tree/debian/changelog" <<CHANGELOG
udp-proxy ($version) unstable; urgency=medium

  * udp-proxy $version: see the project's git history for the changes.

 -- udp-proxy maintainers <maintainers@users.noreply.r-seed-e3576add.example>  $(date -R -u -d "@$epoch")
CHANGELOG
(cd "$tree" && SOURCE_DATE_EPOCH=$epoch dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1) || {
    tail -n 60 "$tmp/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed (last lines above)" >&2
    exit 1
}
mkdir -p "$out"
deb=udp-proxy_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
cp "$tmp/$deb" "$out/"
echo "build-deb: $out/$deb"
