#!/usr/bin/env bash
# The whole test suite: install what is missing, then build and test twice, once optimised with
# warnings as errors and once under AddressSanitizer + UndefinedBehaviorSanitizer, both with the
# MPI feature on (tools/setup.sh installs Open MPI), so that the mpi suite runs under mpirun.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --interop --fortran # PyTorch for the interop suite, gfortran for fortran
# ONNX Runtime for the interop suite (npm's onnxruntime-node; its tests say so and skip without)
bash tools/ort-setup.sh || echo "test.sh: onnxruntime-node could not be installed" >&2

passed=0 failed=0 skipped=0
run_suite() { # build dir, then meson setup options
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"
  meson compile -C "$dir"
  local rc=0
  meson test -C "$dir" --print-errorlogs || rc=$?
  # one JSON object per test in meson's log
  local log="$dir/meson-logs/testlog.json"
  passed=$((passed + $(grep -c '"result": "OK"' "$log" || true)))
  failed=$((failed + $(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)))
  # a test that could not run here (exit 77: no bf16, a sanitizer, no MPI) is neither
  skipped=$((skipped + $(grep -c '"result": "SKIP"' "$log" || true)))
  return $rc
}

status=0
run_suite build -Dwerror=true -Dmpi=enabled || status=1
# -Db_lundef=false: the sanitizer runtimes are linked into executables, not the library
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  run_suite build-asan -Dwerror=true -Dmpi=enabled -Db_sanitize=address,undefined -Db_lundef=false || status=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
