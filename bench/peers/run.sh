#!/bin/sh
# Side-by-side: nablas, PyTorch and FANN on W1-W4, the same data (written once by
# nablas-bench-train), all in one run.  Usage: bench/peers/run.sh [BUILD_DIR] [--quick]
# Needs Debian's python3-torch and python3-numpy (for /usr/bin/python3) and libfann-dev
# (bash tools/setup.sh --peers).  ROUNDS=N (default 3) alternates nablas and PyTorch N times
# and the table keeps each one's best round: on a shared machine the load drifts, and a
# comparison of two runs minutes apart would measure the drift.  OPTIMIZERS=adam,adamw (default
# adam; empty for none) adds those optimizer variants of W2 and W3 (lr 1e-3; AdamW weight decay
# 0.01) for both nablas and PyTorch.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
quick=${2:-}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
# One OpenMP thread unless a configuration asks for more: no second pool may oversubscribe
# the cores.
export OMP_NUM_THREADS=1
rounds=${ROUNDS:-3}
optimizers=${OPTIMIZERS-adam}
"$build/bench/nablas-bench-train" --no-naive --threads 1,2 $quick \
    ${optimizers:+--optimizer "$optimizers"} --json "$data/nablas.1.json" --dump-data "$data"
fann_args=""
if [ -x "$build/bench/nablas-fann-peer" ]; then
    for w in W1 W2 W3 W4; do
        "$build/bench/nablas-fann-peer" "$w" "$data" 3 >> "$data/fann.jsonl"
    done
    fann_args="--fann $data/fann.jsonl"
fi
# bf16 on W3 (nablas-bench-train --bf16, when the build and the CPU have it) beside
# PyTorch's torch.autocast("cpu", dtype=torch.bfloat16)
bf16_torch="" bf16_args=""
if "$build/bench/nablas-bench-train" --bf16 --workload W3 --threads 1,2 $quick \
        --json "$data/bf16.json" | tee "$data/bf16.txt" | grep -q 'bf16/fp32:'; then
    bf16_torch="--bf16"
    bf16_args="--nablas-bf16 $data/bf16.json"
else
    cat "$data/bf16.txt"
fi
r=1
while :; do
    # PyTorch: one process per (OpenMP, OpenBLAS) thread configuration; see peers.py.
    for cfg in "1 1" "1 2" "2 1"; do
        set -- $cfg
        OPENBLAS_NUM_THREADS=$2 /usr/bin/python3 "$here/peers.py" --measure --omp "$1" \
            --data "$data" --out "$data/torch.jsonl" ${quick:+--quick} $bf16_torch \
            --optimizers "sgd${optimizers:+,$optimizers}"
    done
    [ "$r" -lt "$rounds" ] || break
    r=$((r + 1))
    "$build/bench/nablas-bench-train" --no-naive --threads 1,2 $quick \
        ${optimizers:+--optimizer "$optimizers"} --json "$data/nablas.$r.json" > /dev/null
done
echo
/usr/bin/python3 "$here/peers.py" --data "$data" --nablas "$data"/nablas.*.json \
    --torch "$data/torch.jsonl" $fann_args $bf16_args
