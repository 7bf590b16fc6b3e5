#!/usr/bin/env bash
# One run of every benchmark docs/performance.md quotes, one after the other, into one log:
# the figures in that document come from a single run of this script on a quiet machine.
# Usage: bash tools/perf-run.sh [BUILD_DIR] [LOG]     (QUICK=1: every bench in --quick mode,
# to check that the script works; SKIP_PEERS=1: no PyTorch/FANN run; SKIP_MPI=1: no mpirun)
# The build must have the benches (meson's default) and, for the bf16 and MPI parts,
# -Ddnnl=enabled and -Dmpi=enabled.  OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are left as the
# environment sets them, except in the steps marked "native", which unset both in their own
# command line to show the kernels OpenBLAS picks for this CPU (every bench prints the core
# type it got and its thread counts).
set -u
build=${1:-build}
log=${2:-perf-run.log}
quick=${QUICK:+--quick}
b=$build/bench
: > "$log"

say() { printf '%s\n' "$*" | tee -a "$log"; }
run() { # run LABEL CMD...: prints the command, the load, the output
    local label=$1
    shift
    say ""
    say "## $label"
    say "\$ $*"
    say "load: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u +%H:%M:%S)"
    "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || say "(exit status $rc)"
}
native() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }

say "# nablas perf run $(date -u '+%Y-%m-%d %H:%M UTC')"
say "commit: $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
say "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
say "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' \
    | grep -E '^(avx2|avx512f|avx512_bf16|avx512_vnni|amx_bf16)$' | tr '\n' ' ')"
say "environment: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-<unset>}"

# The project machines set OPENBLAS_CORETYPE=Haswell (AVX2 kernels); show that case even where
# the environment does not set it.
run "training, W1-W4, 1 and 2 threads, core type ${OPENBLAS_CORETYPE:-Haswell}" \
    env OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" "$b/nablas-bench-train" $quick
run "training, W1-W4, 1 and 2 threads, native core type" \
    native "$b/nablas-bench-train" $quick
run "thread policy vs OpenBLAS's split vs 1 thread (native)" \
    native "$b/nablas-bench-train" --policy-ab $quick
run "batch split across threads vs unsplit vs 1 thread (native)" \
    native "$b/nablas-bench-train" --split-ab $quick
run "batch split sweep: the split rule's measurements (native)" \
    native "$b/nablas-bench-train" --split-sweep
run "each training product on 1 vs 2 threads (native)" \
    native "$b/nablas-bench-kernels" --kernel none --thread-crossover $quick
run "Adam and AdamW epochs beside plain SGD's (native)" \
    native "$b/nablas-bench-train" --workload W2,W3 --no-naive --threads 1,2 \
    --optimizer adam,adamw $quick
run "optimizer steps on 10^7 parameters vs memcpy (native)" \
    native "$b/nablas-bench-optim" $quick
run "bf16 vs fp32 training products (native)" \
    native env OMP_WAIT_POLICY=passive "$b/nablas-bench-train" --bf16 $quick
run "kernels vs naive loops, sgemm and memcpy (native)" \
    native "$b/nablas-bench-kernels" --crossover $quick
run "single-row latency: nablas vs FANN vs a plain loop (native)" \
    native "$b/nablas-bench-latency" $quick
run "full-batch trainers, CPU time, 1 thread (native)" \
    native env OPENBLAS_NUM_THREADS=1 "$b/nablas-bench-fullbatch" --cpu-time $quick
if [ -z "${SKIP_MPI:-}" ] && [ -x "$b/nablas-bench-mpi" ]; then
    run "2 ranks x 1 thread vs 1 rank x 2 threads (native)" \
        native mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 \
        "$b/nablas-bench-mpi" --workload W2,W3 $quick
fi
if [ -z "${SKIP_PEERS:-}" ]; then
    run "nablas vs PyTorch vs FANN (native)" \
        native env ROUNDS="${ROUNDS:-2}" sh "$(dirname "$0")/../bench/peers/run.sh" "$build" $quick
fi
say ""
say "# done $(date -u +%H:%M:%S)"
