#!/bin/sh
# test_socket_unit.sh - packaging/udp-proxy.socket (optional socket activation,
# issue 13): `systemd-analyze verify` of the socket unit together with the
# service it activates prints nothing about either; the socket is a datagram
# socket on the example configuration's `source` (the proxy adopts only a socket
# bound to its --source); the service unit does not require the socket unit
# (it must work without it).
# Usage: test_socket_unit.sh SRCDIR PROXY
src=$1
bin=$2
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze not found (apt-get install systemd)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=/usr/local/bin/udp-proxy |ExecStart=$bin |" "$src/packaging/udp-proxy.service" >"$tmp/udp-proxy.service"
cp "$src/packaging/udp-proxy.socket" "$tmp/udp-proxy.socket"
status=0

source=$(sed -n 's/^source *= *//p' "$src/packaging/udp-proxy.conf")
listen=$(sed -n 's/^ListenDatagram=//p' "$tmp/udp-proxy.socket")
if [ -z "$source" ] || [ "$source" != "$listen" ]; then
    echo "FAIL: ListenDatagram=$listen is not the example configuration's source ($source)"
    status=1
else
    echo "ok: ListenDatagram=$listen is the example configuration's source"
fi
if grep -qE '^(Requires|BindsTo|Sockets)=.*udp-proxy\.socket' "$tmp/udp-proxy.service"; then
    echo "FAIL: the service unit requires the socket unit (it must work without it)"
    status=1
fi

man_opt=
if command -v man >/dev/null 2>&1; then
    mkdir -p "$tmp/man/man8"
    cp "$src/docs/udp-proxy.8" "$tmp/man/man8/"
    MANPATH=$tmp/man
    export MANPATH
else
    man_opt=--man=no
    echo "note: man not installed: Documentation=man:udp-proxy(8) not checked"
fi
out=$(systemd-analyze verify $man_opt "$tmp/udp-proxy.socket" "$tmp/udp-proxy.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || echo "$out" | grep -q "udp-proxy"; then
    echo "FAIL: systemd-analyze verify (exit $rc):"
    echo "$out"
    status=1
else
    [ -n "$out" ] && echo "note: systemd-analyze verify said (not about these units): $out"
    echo "ok: systemd-analyze verify: no warning about the socket and service units"
fi
exit $status
