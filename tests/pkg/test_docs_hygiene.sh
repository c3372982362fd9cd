#!/bin/sh
# test_docs_hygiene.sh - the user documentation carries no authoring notes
# ("Text for the README", "the lead folds it in", "Paste this section"...) and
# the repository no build leftovers (__pycache__, .pyc): finding 25 of the
# new-user walkthrough. Usage: test_docs_hygiene.sh SRCDIR
src=$1
status=0
cd "$src" || exit 1
docs="README.md docs/*.md docs/udp-proxy.8 bench/README.md bench/results/RESULTS.md packaging/udp-proxy.conf"
hits=$(grep -n -i -E "text for the (top-level )?readme|for the top-level readme|the lead (folds|merges)|folds it in|paste this( section)?|for the readme's|TODO|FIXME|XXX|the go tool" $docs 2>/dev/null)
if [ -n "$hits" ]; then
    echo "FAIL: authoring notes in the user documentation:"
    echo "$hits"
    status=1
fi
if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
    left=$(git ls-files | grep -E '(^|/)__pycache__/|\.pyc$')
    if [ -n "$left" ]; then
        echo "FAIL: build leftovers tracked by git: $left"
        status=1
    fi
else
    echo "note: not a git checkout: tracked leftovers not checked"
fi
[ $status = 0 ] && echo "ok: no authoring notes in $(echo $docs | wc -w) documents; no tracked __pycache__ or .pyc"
exit $status
