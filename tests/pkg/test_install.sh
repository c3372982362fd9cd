#!/bin/sh
# test_install.sh - `make install` into a temporary DESTDIR puts every file
# where it belongs: the binary (runs), the manual, the unit with ExecStart
# rewritten for PREFIX (and otherwise unchanged), the example configuration;
# a second install keeps an edited configuration; the default PREFIX is
# /usr/local; `make uninstall` removes all but the configuration.
# Usage: test_install.sh SRCDIR BUILDDIR
src=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
    echo "FAIL: $*"
    status=1
}
# Run make as a fresh top-level make (ctest may run under make -j).
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$src" BUILD="$build" "$@" >"$tmp/make.log" 2>&1 ||
        { cat "$tmp/make.log"; fail "make $*"; }
}
mode() { stat -c %a "$1" 2>/dev/null; }

d=$tmp/root
mk install DESTDIR="$d" PREFIX=/opt/udp-proxy
bin=$d/opt/udp-proxy/bin/udp-proxy
man=$d/opt/udp-proxy/share/man/man8/udp-proxy.8
unit=$d/opt/udp-proxy/lib/systemd/system/udp-proxy.service
conf=$d/etc/udp-proxy/udp-proxy.conf
[ "$(mode "$bin")" = 755 ] || fail "$bin: missing or mode $(mode "$bin"), not 755"
"$bin" --version | grep -q '^udp-proxy ' || fail "the installed binary does not run"
[ "$(mode "$man")" = 644 ] && cmp -s "$man" "$src/docs/udp-proxy.8" || fail "$man: missing, mode or content"
[ "$(mode "$conf")" = 644 ] && cmp -s "$conf" "$src/packaging/udp-proxy.conf" || fail "$conf: missing, mode or content"
[ "$(mode "$unit")" = 644 ] || fail "$unit: missing or mode $(mode "$unit")"
grep -qxF "ExecStart=/opt/udp-proxy/bin/udp-proxy --config /etc/udp-proxy/udp-proxy.conf" "$unit" ||
    fail "ExecStart not rewritten for PREFIX=/opt/udp-proxy: $(grep ^ExecStart "$unit")"
grep -v '^ExecStart=' "$unit" >"$tmp/a"
grep -v '^ExecStart=' "$src/packaging/udp-proxy.service" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "the installed unit differs from packaging/udp-proxy.service beyond ExecStart"
sock=$d/opt/udp-proxy/lib/systemd/system/udp-proxy.socket
[ "$(mode "$sock")" = 644 ] && cmp -s "$sock" "$src/packaging/udp-proxy.socket" || fail "$sock: missing, mode or content"
[ "$(find "$d" -type f | wc -l)" = 5 ] || fail "expected 5 files, got: $(find "$d" -type f)"

echo "# edited by the operator" >>"$conf"
mk install DESTDIR="$d" PREFIX=/opt/udp-proxy
grep -q "^# edited by the operator" "$conf" || fail "a second install overwrote the existing configuration"
grep -q "keeping the existing" "$tmp/make.log" || fail "a second install did not say it kept the configuration"

mk uninstall DESTDIR="$d" PREFIX=/opt/udp-proxy
[ -e "$bin" ] || [ -e "$man" ] || [ -e "$unit" ] || [ -e "$sock" ] && fail "uninstall left files: $(find "$d" -type f)"
[ -e "$conf" ] || fail "uninstall removed the configuration"

d=$tmp/default
mk install DESTDIR="$d"
[ -x "$d/usr/local/bin/udp-proxy" ] || fail "default PREFIX: no $d/usr/local/bin/udp-proxy"
[ -f "$d/usr/local/share/man/man8/udp-proxy.8" ] || fail "default PREFIX: no man page"
grep -qxF "ExecStart=/usr/local/bin/udp-proxy --config /etc/udp-proxy/udp-proxy.conf" \
    "$d/usr/local/lib/systemd/system/udp-proxy.service" || fail "default PREFIX: unit missing or ExecStart wrong"
[ -f "$d/etc/udp-proxy/udp-proxy.conf" ] || fail "default PREFIX: no configuration"

[ $status = 0 ] && echo "ok: install (PREFIX=/opt/udp-proxy and default), config kept on reinstall, uninstall"
exit $status
