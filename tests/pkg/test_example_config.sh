#!/bin/sh
# test_example_config.sh - packaging/udp-proxy.conf, the example the unit
# starts with, passes `udp-proxy --config FILE --check-config`. Reports a skip
# while the binary has no --config (the flag comes with the config-file work).
# Usage: test_example_config.sh PROXY CONF
out=$("$1" --config "$2" --check-config 2>&1)
rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q "unknown flag '--config'"; then
    echo "SKIP: this udp-proxy has no --config yet"
    exit 77
fi
if [ $rc -ne 0 ]; then
    echo "FAIL: udp-proxy --config $2 --check-config exited $rc:"
    echo "$out"
    exit 1
fi
echo "ok: $out"
