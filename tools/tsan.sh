#!/usr/bin/env bash
# ThreadSanitizer job (CI): builds build-tsan with GCC and -Db_sanitize=thread and runs the tests
# that use threads: concurrent inference contexts (tests/io/test_infer.c, built without
# Criterion, whose runner does not start under TSan: io-infer-plain) and the README's inference
# example, which predicts from four threads, and the thread pool with the batch split of the
# training step (tests/unit/test_pool.c built without Criterion: unit-pool-plain).  The library's target_clones are off under TSan
# (src/core/base.h), so this build runs the baseline kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-tsan}
[ -f "$dir/build.ninja" ] || CC=gcc meson setup "$dir" -Dwerror=true -Db_sanitize=thread -Db_lundef=false
ninja -C "$dir" tests/io/io-infer-plain examples/readme-infer tests/unit/unit-pool-plain
# halt_on_error: a reported race fails the test
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
  meson test -C "$dir" --no-rebuild --print-errorlogs infer-plain readme-infer pool-plain
