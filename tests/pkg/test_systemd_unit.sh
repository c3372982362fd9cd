#!/bin/sh
# test_systemd_unit.sh - packaging/udp-proxy.service passes
# `systemd-analyze verify` without a single warning about it, keeps the
# settings the product promises (Type=notify, reload by SIGHUP, no privileges,
# the hardening below), and scores "OK" or better in `systemd-analyze security`.
# verify wants ExecStart's binary to exist: a temporary copy of the unit points
# at the built one; Documentation=man:udp-proxy(8) is checked against
# docs/udp-proxy.8 through MANPATH.
# Usage: test_systemd_unit.sh SRCDIR PROXY
src=$1
bin=$2
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze not found (apt-get install systemd)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit=$tmp/udp-proxy.service
sed "s|^ExecStart=/usr/local/bin/udp-proxy |ExecStart=$bin |" "$src/packaging/udp-proxy.service" >"$unit"
status=0

for want in "Type=notify" "ExecStart=$bin --config /etc/udp-proxy/udp-proxy.conf" \
    'ExecReload=/bin/kill -HUP $MAINPID' "Restart=on-failure" "DynamicUser=yes" "NoNewPrivileges=yes" \
    "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "CapabilityBoundingSet=" \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "MemoryDenyWriteExecute=yes" \
    "SystemCallArchitectures=native" "RestrictNamespaces=yes" "LockPersonality=yes" "LogsDirectory=udp-proxy"; do
    if ! grep -qxF "$want" "$unit"; then
        echo "FAIL: the unit lacks the line: $want"
        status=1
    fi
done

man_opt=
if command -v man >/dev/null 2>&1; then
    mkdir -p "$tmp/man/man8"
    cp "$src/docs/udp-proxy.8" "$tmp/man/man8/"
    MANPATH=$tmp/man
    export MANPATH
else
    man_opt=--man=no
    echo "note: man not installed: Documentation=man:udp-proxy(8) cannot be checked (apt-get install man-db)"
    skip_reason="man (man-db) is not installed: the unit's Documentation=man:udp-proxy(8) was not checked"
fi
out=$(systemd-analyze verify $man_opt "$unit" 2>&1)
rc=$?
if [ $rc -ne 0 ] || echo "$out" | grep -q "udp-proxy"; then
    echo "FAIL: systemd-analyze verify (exit $rc):"
    echo "$out"
    status=1
else
    [ -n "$out" ] && echo "note: systemd-analyze verify said (not about this unit): $out"
    echo "ok: systemd-analyze verify: no warning about the unit"
fi

# Exposure 0.0 (best) .. 10.0; --threshold is in tenths. "OK" ends at 2.9.
if systemd-analyze security --offline=yes --threshold=29 "$unit" >"$tmp/security" 2>&1; then
    echo "ok: $(tail -n 1 "$tmp/security")"
else
    echo "FAIL: systemd-analyze security --offline=yes: exposure above 2.9:"
    cat "$tmp/security"
    status=1
fi
if [ $status -eq 0 ] && [ -n "${skip_reason:-}" ]; then
    echo "SKIP: every other check passed, but $skip_reason"
    exit 77
fi
exit $status
