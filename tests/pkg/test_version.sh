#!/bin/sh
# test_version.sh - the version comes from the top-level VERSION file:
# `udp-proxy --version` prints it, and the man page's title line carries it.
# (The Windows executables: windows_msi_tables; the .deb: pkg_deb.)
# Usage: test_version.sh SRCDIR PROXY
version=$(tr -d ' \n' <"$1/VERSION")
status=0
echo "$version" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' || { echo "FAIL: VERSION '$version' is not X.Y.Z"; status=1; }
got=$("$2" --version)
[ "$got" = "udp-proxy $version" ] || { echo "FAIL: --version says '$got', VERSION is $version"; status=1; }
grep -q "^\.TH UDP-PROXY 8 [0-9-]* \"udp-proxy $version\"" "$1/docs/udp-proxy.8" ||
    { echo "FAIL: docs/udp-proxy.8 .TH does not say udp-proxy $version: $(grep '^\.TH' "$1/docs/udp-proxy.8")"; status=1; }
[ $status = 0 ] && echo "ok: VERSION $version: --version and the man page agree"
exit $status
