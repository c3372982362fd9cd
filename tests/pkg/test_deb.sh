#!/bin/sh
# test_deb.sh - the Debian package, built, linted, installed on this machine
# and removed again (issue 12):
#   - scripts/build-deb.sh builds udp-proxy_VERSION_ARCH.deb (debhelper, out of tree);
#   - lintian: no error and no warning (overrides carry their reason);
#   - dpkg -i installs; every path `dpkg -L` lists exists; the daemon is
#     /usr/sbin/udp-proxy and its --version is VERSION; the man page is in
#     section 8; the unit passes `systemd-analyze verify`;
#     /etc/udp-proxy/udp-proxy.conf is a conffile that names no target (so
#     the proxy cannot forward anywhere unnamed) and the unit is not enabled;
#   - once config-write names two loopback sinks, the installed daemon run
#     with that conffile forwards to both;
#   - an upgrade to a higher package version keeps an edited conffile;
#   - dpkg -r removes the files and keeps the conffile; dpkg -P leaves nothing.
# The service is never started: there may be no systemd running here.
# Needs root (dpkg -i), dpkg-buildpackage, debhelper and lintian; skips (77)
# with the reason otherwise. Refuses to run if udp-proxy is already installed.
# Usage: test_deb.sh SRCDIR
src=$1
version=$(tr -d ' \n' <"$src/VERSION")
arch=$(dpkg --print-architecture 2>/dev/null)
skip() {
    echo "SKIP: $*"
    exit 77
}
[ "$(id -u)" = 0 ] || skip "dpkg -i needs root (CI runs the suite as root)"
for t in dpkg-buildpackage dh lintian systemd-analyze; do
    command -v $t >/dev/null 2>&1 ||
        skip "'$t' is missing: sudo apt-get install -y debhelper dpkg-dev lintian systemd (or: sudo make dist)"
done
if dpkg-query -W -f='${Status}' udp-proxy 2>/dev/null | grep -qv "not-installed"; then
    echo "FAIL: a udp-proxy package is already on this machine ($(dpkg-query -W -f='${Version} ${Status}' udp-proxy));"
    echo "      this test installs and purges its own and will not touch that one: dpkg -P udp-proxy first"
    exit 1
fi
tmp=$(mktemp -d)
installed=0
cleanup() {
    [ $installed = 1 ] && dpkg -P udp-proxy >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
status=0
fail() {
    echo "FAIL: $*"
    status=1
}
conf=/etc/udp-proxy/udp-proxy.conf
unit=/lib/systemd/system/udp-proxy.service

# ---- build and lint ----
sh "$src/scripts/build-deb.sh" "$tmp/v1" || { echo "FAIL: build-deb.sh"; exit 1; }
deb=$tmp/v1/udp-proxy_${version}_$arch.deb
[ -f "$deb" ] || { echo "FAIL: no $deb"; exit 1; }
echo "ok: built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
lintian --pedantic "$deb" >"$tmp/lintian" 2>&1
grep -v '^running with root privileges' "$tmp/lintian" | sed 's/^/lintian: /'
if grep -Eq '^(E|W): ' "$tmp/lintian"; then
    fail "lintian reports errors or warnings (above)"
else
    echo "ok: lintian --pedantic: no error, no warning ($(grep -c '^[IPX]: ' "$tmp/lintian") info/pedantic tag(s))"
fi

# ---- install ----
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; echo "FAIL: dpkg -i"; exit 1; }
installed=1
dpkg-query -W -f='${Status} ${Version}\n' udp-proxy | grep -qx "install ok installed $version" ||
    fail "dpkg status after dpkg -i: $(dpkg-query -W -f='${Status} ${Version}' udp-proxy)"
dpkg -L udp-proxy >"$tmp/files"
n=0
while IFS= read -r f; do
    n=$((n + 1))
    [ -e "$f" ] || fail "dpkg -L lists $f, which does not exist"
done <"$tmp/files"
echo "ok: all $n paths dpkg -L lists exist"
# The optional socket unit ships (not enabled), and an upgrade re-executes a
# running proxy in place (SIGUSR2) instead of restarting it: the postinst is
# read here, since no systemd runs as PID 1 on the test machine.
[ -f /lib/systemd/system/udp-proxy.socket ] || fail "the package lacks /lib/systemd/system/udp-proxy.socket"
dpkg-deb -e "$deb" "$tmp/ctl"
grep -q 'systemctl kill --kill-who=main --signal=SIGUSR2 udp-proxy.service' "$tmp/ctl/postinst" ||
    fail "the postinst does not upgrade a running proxy with SIGUSR2"
sh -n "$tmp/ctl/postinst" || fail "the postinst does not parse"
echo "ok: udp-proxy.socket shipped; the postinst upgrades a running proxy with SIGUSR2 (0.3.0 and later)"
tpl=/lib/systemd/system/udp-proxy@.service
lrot=/etc/logrotate.d/udp-proxy
for want in /usr/sbin/udp-proxy /usr/share/man/man8/udp-proxy.8.gz $unit $tpl $conf $lrot \
    /usr/share/doc/udp-proxy/copyright; do
    grep -qxF "$want" "$tmp/files" || fail "the package does not ship $want"
done
[ "$(stat -c %a /usr/sbin/udp-proxy)" = 755 ] || fail "/usr/sbin/udp-proxy mode $(stat -c %a /usr/sbin/udp-proxy)"
got=$(/usr/sbin/udp-proxy --version)
[ "$got" = "udp-proxy $version" ] || fail "/usr/sbin/udp-proxy --version says '$got', VERSION is $version"
echo "ok: /usr/sbin/udp-proxy --version: $got"
zcat /usr/share/man/man8/udp-proxy.8.gz | grep -q '^\.TH  *"\{0,1\}UDP-PROXY"\{0,1\}  *"\{0,1\}8' ||
    fail "the man page is not section 8: $(zcat /usr/share/man/man8/udp-proxy.8.gz | grep '^\.TH')"
dpkg-query -W -f='${Conffiles}\n' udp-proxy | grep -q "^ $conf " || fail "$conf is not a conffile"
dpkg-query -W -f='${Conffiles}\n' udp-proxy | grep -q "^ $lrot " || fail "$lrot is not a conffile"
cmp -s $lrot "$src/packaging/udp-proxy.logrotate" || fail "$lrot differs from packaging/udp-proxy.logrotate"
grep -qx 'ExecStart=/usr/sbin/udp-proxy --config /etc/udp-proxy/%i.conf' $tpl ||
    fail "the template's ExecStart: $(grep ^ExecStart $tpl)"
# The user documentation (dh_compress may gzip the larger files).
for d in README.md ARCHITECTURE.md METRICS.md OPERATIONS.md SYSTEMD.md WINDOWS.md; do
    grep -Eq "^/usr/share/doc/udp-proxy/$d(\.gz)?\$" "$tmp/files" || fail "the package does not ship $d in /usr/share/doc/udp-proxy"
done
# The man page's FILES names this package's paths, not make install's defaults.
zcat /usr/share/man/man8/udp-proxy.8.gz | grep -n /usr/local && fail "the packaged man page names /usr/local paths"
for want in '.I /usr/sbin/udp\-proxy' '.I /lib/systemd/system/udp\-proxy@.service'; do
    zcat /usr/share/man/man8/udp-proxy.8.gz | grep -qxF "$want" || fail "the packaged man page's FILES lacks: $want"
done
grep -qx 'ExecStart=/usr/sbin/udp-proxy --config /etc/udp-proxy/udp-proxy.conf' $unit ||
    fail "the unit's ExecStart: $(grep ^ExecStart $unit)"

# A fresh install forwards nowhere unnamed: no target in the file, the
# daemon refuses it (exit 2), and the unit is not enabled.
grep -n '^[[:space:]]*target' $conf && fail "$conf names a target on a fresh install"
out=$(/usr/sbin/udp-proxy --config $conf --check-config 2>&1)
rc=$?
[ $rc = 2 ] && echo "$out" | grep -q target ||
    fail "--check-config on the shipped conffile: exit $rc (expected 2, no target): $out"
echo "ok: the shipped conffile names no target; --check-config refuses it: $(echo "$out" | head -n 1)"
ls /etc/systemd/system/*.wants/udp-proxy.service 2>/dev/null && fail "dpkg -i enabled the unit"

# systemd-analyze verify on the installed unit (the installed man page
# answers its Documentation=man:udp-proxy(8)).
man_opt=
command -v man >/dev/null 2>&1 || man_opt=--man=no
for u in $unit $tpl; do
    out=$(systemd-analyze verify $man_opt $u 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || echo "$out" | grep -q udp-proxy; then
        fail "systemd-analyze verify $u (exit $rc): $out"
    else
        echo "ok: systemd-analyze verify $u: no warning about the unit"
    fi
done

# ---- configured by the administrator, the packaged daemon forwards ----
# Two loopback sinks, their ports written into the conffile with config-write,
# /usr/sbin/udp-proxy --config run in the foreground (not the service: there
# may be no systemd here), one datagram to both sinks, SIGTERM, exit 0.
python3 - "$conf" <<'PY' || fail "the installed daemon with the edited conffile does not forward"
import signal, socket, subprocess, sys, time
conf = sys.argv[1]
sinks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.1)
    sinks.append(s)
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
targets = " ".join("127.0.0.1:%d" % s.getsockname()[1] for s in sinks)
subprocess.run(["/usr/sbin/udp-proxy", "config-write", "--file", conf, "--source", "127.0.0.1:%d" % port,
                "--targets", targets], check=True, stdout=subprocess.DEVNULL, timeout=10)
p = subprocess.Popen(["/usr/sbin/udp-proxy", "--config", conf, "--stats-interval", "0"], stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
got = [False, False]
deadline = time.time() + 10
while not all(got) and time.time() < deadline and p.poll() is None:
    tx.sendto(b"deb.test:1|c", ("127.0.0.1", port))
    for i, s in enumerate(sinks):
        try:
            got[i] = got[i] or s.recv(100) == b"deb.test:1|c"
        except socket.timeout:
            pass
p.send_signal(signal.SIGTERM) if p.poll() is None else None
rc = p.wait(10)
err = p.stderr.read().decode()
if not all(got) or rc != 0:
    print("FAIL: sinks got %s, exit %s:\n%s" % (got, rc, err))
    sys.exit(1)
print("ok: /usr/sbin/udp-proxy --config %s (source 127.0.0.1:%d, targets %s) forwarded to both, exit 0 on SIGTERM"
      % (conf, port, targets))
PY

# ---- upgrade: an edited conffile stays ----
cp $conf "$tmp/edited.conf"
UP_DEB_VERSION=$version+upgradetest sh "$src/scripts/build-deb.sh" "$tmp/v2" >/dev/null ||
    { echo "FAIL: build-deb.sh (upgrade package)"; exit 1; }
dpkg -i "$tmp/v2/udp-proxy_$version+upgradetest_$arch.deb" >"$tmp/dpkg.log" 2>&1 ||
    { cat "$tmp/dpkg.log"; fail "dpkg -i of the upgrade"; }
dpkg-query -W -f='${Status} ${Version}\n' udp-proxy | grep -qx "install ok installed $version+upgradetest" ||
    fail "after the upgrade: $(dpkg-query -W -f='${Status} ${Version}' udp-proxy)"
cmp -s $conf "$tmp/edited.conf" || fail "the upgrade changed the edited $conf"
/usr/sbin/udp-proxy --config $conf --check-config >/dev/null || fail "the edited $conf does not load"
echo "ok: upgrade to $version+upgradetest kept the edited conffile (2 targets)"

# ---- remove: the conffile stays ----
dpkg -r udp-proxy >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -r"; }
dpkg-query -W -f='${Status}\n' udp-proxy | grep -qx "deinstall ok config-files" ||
    fail "after dpkg -r: $(dpkg-query -W -f='${Status}' udp-proxy)"
while IFS= read -r f; do
    [ -d "$f" ] && continue # shared directories (/usr, /etc...) stay
    case $f in
    $conf) cmp -s "$f" "$tmp/edited.conf" || fail "dpkg -r did not keep $conf as edited" ;;
    $lrot) [ -e "$f" ] || fail "dpkg -r removed the conffile $lrot" ;;
    *) [ -e "$f" ] && fail "dpkg -r left $f" ;;
    esac
done <"$tmp/files"
echo "ok: dpkg -r removed the files, kept the conffiles $conf and $lrot"

# ---- purge: nothing left ----
dpkg -P udp-proxy >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -P"; }
installed=0
dpkg-query -W -f='${Status}\n' udp-proxy 2>/dev/null | grep -qv "not-installed" &&
    fail "after dpkg -P: $(dpkg-query -W -f='${Status}' udp-proxy)"
while IFS= read -r f; do
    case $f in
    /etc/udp-proxy | /etc/udp-proxy/* | /usr/sbin/udp-proxy | /usr/share/doc/udp-proxy* | /usr/share/man/man8/udp-proxy* | \
        $unit | $tpl | $lrot)
        [ -e "$f" ] && fail "dpkg -P left $f" ;;
    esac
done <"$tmp/files"
left=$(grep -rl udp-proxy /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    2>/dev/null)
[ -z "$left" ] || fail "systemd helper state left after purge: $left"
[ -e /etc/udp-proxy ] && fail "dpkg -P left /etc/udp-proxy"
echo "ok: dpkg -P: no file, no /etc/udp-proxy, no systemd helper state left"
exit $status
