#!/bin/sh
# test_man_lint.sh - docs/udp-proxy.8 renders without a single warning, under
# both formatters `man` may use: mandoc (lint, warnings and worse) and groff
# (all warnings, -ww). Any output fails the test.
# Usage: test_man_lint.sh path/to/udp-proxy.8
page=$1
status=0
for tool in mandoc:mandoc groff:groff-base; do
    if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
        echo "SKIP: ${tool%%:*} not found (apt-get install ${tool#*:})"
        exit 77
    fi
done
# check CMD...: run CMD on the page; any output or a non-zero exit fails.
check() {
    out=$("$@" "$page" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        echo "FAIL: $* (exit $rc):"
        echo "$out"
        status=1
    else
        echo "ok: $*: clean"
    fi
}
check mandoc -T lint -W warning
check groff -ww -man -Tutf8 -z
exit $status
