#!/bin/sh
# test_install.sh - `make install` into a temporary DESTDIR puts every file
# where it belongs, and nothing else (an exact list): the binary (runs,
# stripped), the manual (its FILES section naming the PREFIX's paths, the rest
# unchanged), the unit and the instance template with ExecStart rewritten for
# PREFIX (and otherwise unchanged), README.md and docs/*.md in
# share/doc/udp-proxy, the logrotate file in /etc/logrotate.d, the example
# configuration; a second install keeps an edited configuration and logrotate
# file; the default PREFIX is /usr/local; `make uninstall` removes all but the
# configuration (and a logrotate file only when unchanged).
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
tpl=$d/opt/udp-proxy/lib/systemd/system/udp-proxy@.service
doc=$d/opt/udp-proxy/share/doc/udp-proxy
conf=$d/etc/udp-proxy/udp-proxy.conf
lr=$d/etc/logrotate.d/udp-proxy
[ "$(mode "$bin")" = 755 ] || fail "$bin: missing or mode $(mode "$bin"), not 755"
"$bin" --version | grep -q '^udp-proxy ' || fail "the installed binary does not run"
if command -v readelf >/dev/null 2>&1; then
    readelf -S "$bin" | grep -q '[.]symtab' && fail "$bin is not stripped (it has a .symtab)"
else
    echo "note: readelf missing (binutils): stripping not checked"
fi
[ "$(mode "$man")" = 644 ] || fail "$man: missing or mode $(mode "$man")"
# FILES names the paths under this PREFIX; reversing that gives the source page.
grep -q '/usr/local' "$man" && fail "the installed man page still names /usr/local: $(grep -n /usr/local "$man")"
for want in '.I /opt/udp\-proxy/bin/udp\-proxy' '.I /opt/udp\-proxy/lib/systemd/system/udp\-proxy.service' \
    '.I /opt/udp\-proxy/lib/systemd/system/udp\-proxy@.service' '.I /opt/udp\-proxy/share/doc/udp\-proxy/' \
    '.I /etc/logrotate.d/udp\-proxy'; do
    grep -qxF "$want" "$man" || fail "the installed man page's FILES lacks: $want"
done
sed 's|/opt/udp\\-proxy|/usr/local|g' "$man" | cmp -s - "$src/docs/udp-proxy.8" ||
    fail "the installed man page differs from docs/udp-proxy.8 beyond the PREFIX paths"
[ "$(mode "$conf")" = 644 ] && cmp -s "$conf" "$src/packaging/udp-proxy.conf" || fail "$conf: missing, mode or content"
[ "$(mode "$lr")" = 644 ] && cmp -s "$lr" "$src/packaging/udp-proxy.logrotate" || fail "$lr: missing, mode or content"
for u in "$unit" "$tpl"; do
    [ "$(mode "$u")" = 644 ] || fail "$u: missing or mode $(mode "$u")"
    grep -v '^ExecStart=' "$u" >"$tmp/a"
    grep -v '^ExecStart=' "$src/packaging/$(basename "$u")" >"$tmp/b"
    cmp -s "$tmp/a" "$tmp/b" || fail "the installed $(basename "$u") differs from packaging/ beyond ExecStart"
done
grep -qxF "ExecStart=/opt/udp-proxy/bin/udp-proxy --config /etc/udp-proxy/udp-proxy.conf" "$unit" ||
    fail "ExecStart not rewritten for PREFIX=/opt/udp-proxy: $(grep ^ExecStart "$unit")"
sock=$d/opt/udp-proxy/lib/systemd/system/udp-proxy.socket
[ "$(mode "$sock")" = 644 ] && cmp -s "$sock" "$src/packaging/udp-proxy.socket" || fail "$sock: missing, mode or content"
grep -qxF "ExecStart=/opt/udp-proxy/bin/udp-proxy --config /etc/udp-proxy/%i.conf" "$tpl" ||
    fail "the template's ExecStart not rewritten for PREFIX=/opt/udp-proxy: $(grep ^ExecStart "$tpl")"
docs=$(cd "$src" && ls README.md docs/*.md)
for f in $docs; do
    g=$doc/$(basename "$f")
    [ "$(mode "$g")" = 644 ] && cmp -s "$g" "$src/$f" || fail "$g: missing, mode or content (from $f)"
done
# Exactly these files, nothing else.
{
    for f in bin/udp-proxy share/man/man8/udp-proxy.8 lib/systemd/system/udp-proxy.service \
        lib/systemd/system/udp-proxy@.service lib/systemd/system/udp-proxy.socket; do echo "/opt/udp-proxy/$f"; done
    for f in $docs; do echo "/opt/udp-proxy/share/doc/udp-proxy/$(basename "$f")"; done
    echo /etc/udp-proxy/udp-proxy.conf
    echo /etc/logrotate.d/udp-proxy
} | sort >"$tmp/want"
(cd "$d" && find . -type f | sed 's|^[.]||' | sort) >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got" || fail "installed files differ from the expected list (- expected, + installed):
$(diff "$tmp/want" "$tmp/got" | grep '^[<>]' | sed -e 's/^</-/' -e 's/^>/+/')"

echo "# edited by the operator" >>"$conf"
echo "# edited by the operator" >>"$lr"
mk install DESTDIR="$d" PREFIX=/opt/udp-proxy
grep -q "^# edited by the operator" "$conf" || fail "a second install overwrote the existing configuration"
grep -q "^# edited by the operator" "$lr" || fail "a second install overwrote the existing logrotate file"
grep -q "keeping the existing $conf" "$tmp/make.log" || fail "a second install did not say it kept the configuration"

mk uninstall DESTDIR="$d" PREFIX=/opt/udp-proxy
left=$(cd "$d" && find . -type f | sed 's|^[.]||' | sort | tr '\n' ' ')
[ "$left" = "/etc/logrotate.d/udp-proxy /etc/udp-proxy/udp-proxy.conf " ] ||
    fail "after uninstall, wanted only the configuration and the edited logrotate file, got: $left"
[ -d "$doc" ] && fail "uninstall left $doc"
# An unchanged logrotate file goes with the program.
cp "$src/packaging/udp-proxy.logrotate" "$lr"
mk uninstall DESTDIR="$d" PREFIX=/opt/udp-proxy
[ -e "$lr" ] && fail "uninstall kept an unchanged $lr"

d=$tmp/default
mk install DESTDIR="$d"
[ -x "$d/usr/local/bin/udp-proxy" ] || fail "default PREFIX: no $d/usr/local/bin/udp-proxy"
[ -f "$d/usr/local/share/man/man8/udp-proxy.8" ] || fail "default PREFIX: no man page"
grep -qxF "ExecStart=/usr/local/bin/udp-proxy --config /etc/udp-proxy/udp-proxy.conf" \
    "$d/usr/local/lib/systemd/system/udp-proxy.service" || fail "default PREFIX: unit missing or ExecStart wrong"
[ -f "$d/etc/udp-proxy/udp-proxy.conf" ] || fail "default PREFIX: no configuration"
[ -f "$d/etc/logrotate.d/udp-proxy" ] || fail "default PREFIX: no /etc/logrotate.d/udp-proxy"
[ -f "$d/usr/local/share/doc/udp-proxy/README.md" ] || fail "default PREFIX: no share/doc/udp-proxy/README.md"
cmp -s "$d/usr/local/share/man/man8/udp-proxy.8" "$src/docs/udp-proxy.8" ||
    fail "default PREFIX: the man page should equal docs/udp-proxy.8 (its FILES names the defaults)"

[ $status = 0 ] && echo "ok: install (PREFIX=/opt/udp-proxy and default): exact file list, stripped, man FILES per PREFIX, config and logrotate kept on reinstall, uninstall"
exit $status
