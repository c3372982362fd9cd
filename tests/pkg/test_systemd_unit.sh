#!/bin/sh
# test_systemd_unit.sh - packaging/udp-proxy.service passes
# `systemd-analyze verify` without a single warning about it, keeps the
# settings the product promises (Type=notify, reload by SIGHUP, no privileges,
# the hardening below), and scores "OK" or better in `systemd-analyze security`;
# the same for the instance template udp-proxy@.service, whose settings must
# equal the main unit's but for the per-instance ones.
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

# The template for further instances (packaging/udp-proxy@.service): it
# exists, passes verify and security the same way, and differs from the main
# unit only where an instance must (Description, --config %i.conf, its own
# run-time and log directories): the hardening cannot drift apart.
tpl_src=$src/packaging/udp-proxy@.service
if [ ! -f "$tpl_src" ]; then
    echo "FAIL: no $tpl_src (a second instance on Linux needs a template unit)"
    exit 1
fi
tpl=$tmp/udp-proxy@.service
sed "s|^ExecStart=/usr/local/bin/udp-proxy |ExecStart=$bin |" "$tpl_src" >"$tpl"
for want in "ExecStart=$bin --config /etc/udp-proxy/%i.conf" "RuntimeDirectory=udp-proxy-%i" \
    "LogsDirectory=udp-proxy-%i"; do
    grep -qxF "$want" "$tpl" || { echo "FAIL: the template lacks the line: $want"; status=1; }
done
# Settings only (no comments, no blank lines), minus the per-instance ones.
settings() { grep -v -e '^#' -e '^$' -e '^Description=' -e '^ExecStart=' -e '^RuntimeDirectory=' -e '^LogsDirectory=' "$1"; }
settings "$unit" >"$tmp/main.settings"
settings "$tpl" >"$tmp/tpl.settings"
if ! cmp -s "$tmp/main.settings" "$tmp/tpl.settings"; then
    echo "FAIL: udp-proxy@.service differs from udp-proxy.service beyond the per-instance lines:"
    diff "$tmp/main.settings" "$tmp/tpl.settings"
    status=1
fi
# verify instantiates a template as udp-proxy@i.service.
out=$(systemd-analyze verify $man_opt "$tpl" 2>&1)
rc=$?
if [ $rc -ne 0 ] || echo "$out" | grep -q "udp-proxy"; then
    echo "FAIL: systemd-analyze verify of the template (exit $rc):"
    echo "$out"
    status=1
else
    echo "ok: systemd-analyze verify: no warning about udp-proxy@.service"
fi
cp "$tpl" "$tmp/udp-proxy@dsd.service"
if systemd-analyze security --offline=yes --threshold=29 "$tmp/udp-proxy@dsd.service" >"$tmp/security" 2>&1; then
    echo "ok: $(tail -n 1 "$tmp/security")"
else
    echo "FAIL: systemd-analyze security --offline=yes of udp-proxy@dsd.service: exposure above 2.9:"
    cat "$tmp/security"
    status=1
fi
if [ $status -eq 0 ] && [ -n "${skip_reason:-}" ]; then
    echo "SKIP: every other check passed, but $skip_reason"
    exit 77
fi
exit $status
