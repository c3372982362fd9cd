#!/bin/sh
# Install the Debian packages the build and the tests need (as root), or
# print the exact command for a person to run. Called by `make test`.
# What each package is for: see README.md, "Dependencies".
set -e
# `deps.sh build`: only what building and running the daemon needs.
# `deps.sh windows`: the Windows cross build and its tests under Wine
# (scripts/deps-windows.sh, which says what each package is for).
# `deps.sh dist`: what `make dist` needs to build the .deb, the Windows
# executables and the MSIs (no Wine).
BUILD_PKGS="build-essential cmake"
TEST_PKGS="pkg-config libcmocka-dev clang clang-format python3 gnuplot-nox mandoc groff-base man-db systemd strace logrotate prometheus libclang-rt-14-dev curl nodejs"
MINGW_PKGS="gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 binutils-mingw-w64-x86-64 binutils-mingw-w64-i686"
WINDOWS_PKGS="$MINGW_PKGS wine wine64"
# The packages (make dist; tests pkg_deb, windows_msi_*):
#   debhelper, dpkg-dev   dpkg-buildpackage and dh (debian/, compat 13)
#   lintian               checks the .deb (pkg_deb asserts no error, no warning)
#   wixl, msitools        builds the MSIs (wixl) and edits/reads their tables (msibuild, msiinfo)
DIST_PKGS="debhelper dpkg-dev lintian wixl msitools"
case "${1:-}" in
build) PKGS="$BUILD_PKGS" ;;
windows) PKGS="$WINDOWS_PKGS" ;;
dist) PKGS="$BUILD_PKGS $DIST_PKGS $MINGW_PKGS" ;;
*) PKGS="$BUILD_PKGS $TEST_PKGS $DIST_PKGS" ;;
esac
# A real DogStatsD client library for tests/integration/test_shape_hotshots.py: the npm package
# hot-shots, in a prefix of its own outside the tree (the test skips, saying why, without it).
NODE_PREFIX=/usr/local/lib/udp-proxy-tests
if [ -z "${1:-}" ] && [ "$(id -u)" = 0 ] && command -v npm >/dev/null 2>&1 &&
    [ ! -f "$NODE_PREFIX/node_modules/hot-shots/package.json" ]; then
    echo "deps: npm install hot-shots@17.1.1 into $NODE_PREFIX"
    npm install --no-audit --no-fund --prefix "$NODE_PREFIX" hot-shots@17.1.1 >/dev/null ||
        echo "deps: npm install hot-shots failed: test_shape_hotshots will be skipped"
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || echo "deps: apt-get update failed; trying with the package lists we have"
    apt-get install -y -qq $missing
else
    echo "deps: missing Debian packages. Run:"
    echo "  sudo apt-get install -y$missing"
    exit 1
fi
