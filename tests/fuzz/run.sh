#!/bin/sh
# Run every libFuzzer target built in BUILD_DIR/tests/fuzz for SECONDS each
# (called by `make fuzz`). Seeds (tests/fuzz/corpus/NAME/) and a dictionary
# (tests/fuzz/NAME.dict) are used when present; new inputs and any crash
# land in BUILD_DIR/tests/fuzz/, never in the source tree.
# Usage: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -eu
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-20}
src=$(cd "$(dirname "$0")" && pwd)
out="$build/tests/fuzz"
found=0
for bin in "$out"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    mkdir -p "$out/corpus/$name"
    set -- -max_total_time="$secs" -timeout=10 -print_final_stats=1 -artifact_prefix="$out/$name-"
    [ -f "$src/$name.dict" ] && set -- "$@" -dict="$src/$name.dict"
    set -- "$@" "$out/corpus/$name"
    [ -d "$src/corpus/$name" ] && set -- "$@" "$src/corpus/$name"
    echo "== fuzz: $name for ${secs}s"
    "$bin" "$@"
    found=$((found + 1))
done
if [ "$found" -eq 0 ]; then
    echo "fuzz: no fuzzers in $out (configure with CC=clang -DUP_FUZZ=ON)" >&2
    exit 1
fi
echo "== fuzz: $found fuzzers ran ${secs}s each without a crash"
