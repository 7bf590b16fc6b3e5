#!/bin/sh
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each one for SECONDS
# (default 60) on a copy of its seed corpus.  Exits non-zero if any target crashes; the
# crashing input is left in build-fuzz/crashes/<target>/ (add it to
# tests/fuzz/regressions/<target>/ once fixed, so that tests/io replays it).
# Usage: tools/fuzz.sh [SECONDS]
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
cd "$root"
if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" -Dfuzz=true -Dtests=disabled \
        -Dbuildtype=debugoptimized -Db_lundef=false >/dev/null
else
    meson configure "$build" -Dfuzz=true >/dev/null
fi
if ! ninja -C "$build" tests/fuzz/fuzz_model tests/fuzz/fuzz_csv tests/fuzz/fuzz_npy \
        tests/fuzz/fuzz_safetensors tests/fuzz/fuzz_onnx \
        >"$build/fuzz-build.log" 2>&1; then
    echo "fuzz.sh: building the fuzz targets failed:" >&2
    tail -n 40 "$build/fuzz-build.log" >&2
    exit 1
fi
status=0
for target in model csv npy safetensors onnx; do
    work="$build/corpus/$target"
    crashes="$build/crashes/$target"
    mkdir -p "$work" "$crashes"
    cp "$root/tests/fuzz/corpus/$target/"* "$work/"
    if [ -d "$root/tests/fuzz/regressions/$target" ]; then
        cp "$root/tests/fuzz/regressions/$target/"* "$work/"
    fi
    echo "fuzz_$target: ${seconds}s"
    if ! "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=4096 \
            -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 \
            "$work" >"$build/fuzz_$target.log" 2>&1; then
        echo "fuzz_$target: CRASH (see $build/fuzz_$target.log and $crashes/)" >&2
        tail -n 30 "$build/fuzz_$target.log" >&2
        status=1
    else
        grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz_$target.log" || true
    fi
done
exit $status
