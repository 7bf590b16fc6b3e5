#!/usr/bin/env bash
# `mpirun nablas train` when the ranks are not given the same run, each launch under a timeout
# (a hang fails the test): one rank given another data file (one value differs), another
# option, --checkpoint on one rank only: every rank exits non-zero before training, the
# differing rank naming the option and both values, and no file is written; one rank given
# --help, or `nablas --version`, `nablas info` (an MPMD launch): the train ranks stop with a
# message instead of waiting for it.  Run by meson with $NABLAS, $PYTHON and $SRC set.
set -u
work=$(mktemp -d /tmp/nablas-mpi-guard-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
mpi() { timeout -k 10 120 mpirun --allow-run-as-root --oversubscribe "$@"; }
# expect STATUS FILE MESSAGE...: the launch ended (not timed out) with STATUS, FILE says each
expect() {
    local st=$1 want=$2 f=$3; shift 3
    [ "$st" -ne 124 ] && [ "$st" -ne 137 ] || { cat "$f"; fail "$f: mpirun timed out (a rank waited forever)"; }
    [ "$st" -eq "$want" ] || { cat "$f"; fail "$f: exit $st, expected $want"; }
    for m in "$@"; do
        grep -qF -- "$m" "$f" || { cat "$f"; fail "$f lacks '$m'"; }
    done
}

"$PYTHON" "$SRC/tools/make_blobs.py" --rows 120 blobs.csv >/dev/null || fail "make_blobs"
"$PYTHON" - <<'PY' || fail "one changed value"
import csv
rows = list(csv.reader(open("blobs.csv")))
rows[7][1] = repr(float(rows[7][1]) + 0.25)
csv.writer(open("other.csv", "w", newline="")).writerows(rows)
PY
args=(--label-column species --layers 8:relu,3 --epochs 2 --batch 16 --seed 1)

# another data file on rank 1: one value differs
mpi -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --out d.nbm \
    : -np 1 "$NABLAS" train --data other.csv "${args[@]}" --out d.nbm >d.out 2>&1
expect $? 2 d.out "rank 1: --data differs from rank 0's (here: 120 rows, 4 features, 3 targets, crc32" \
    "every rank must be given the same data"
# said once, by the rank that differs (no echo of it from rank 0)
[ "$(grep -c 'nablas train' d.out)" -eq 1 ] || { cat d.out; fail "d.out: not one message"; }
! grep -q "^epoch" d.out || { cat d.out; fail "trained with different data"; }
[ ! -e d.nbm ] || fail "a model was written from different data"

# another option on rank 2 of 3
mpi -np 2 "$NABLAS" train --data blobs.csv "${args[@]}" --lr 0.05 --out o.nbm \
    : -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --lr 0.1 --out o.nbm >o.out 2>&1
expect $? 2 o.out "rank 2: --lr differs from rank 0's (here: 0.1; rank 0: 0.05): every rank must be given the same options"
! grep -q "invalid argument value" o.out || { cat o.out; fail "the generic message"; }
[ ! -e o.nbm ] || fail "a model was written from different options"
mpi -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --optimizer adam --out o.nbm \
    : -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --optimizer adam --beta2 0.99 --out o.nbm >o2.out 2>&1
expect $? 2 o2.out "rank 1: --beta2 differs from rank 0's (here: 0.99; rank 0: 0.999)"

# --checkpoint on rank 0 only (every rank takes part in its saves)
mpi -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --checkpoint c.ckpt --out c.nbm \
    : -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --out c.nbm >c.out 2>&1
expect $? 2 c.out "rank 1: --checkpoint differs from rank 0's (here: none; rank 0: given)"
[ ! -e c.ckpt ] && [ ! -e c.nbm ] || fail "a file was written"

# --help on one rank: it prints its help and exits 0, the others stop
mpi -np 1 "$NABLAS" train --help : -np 2 "$NABLAS" train --data blobs.csv "${args[@]}" --out h.nbm \
    >h.out 2>&1
expect $? 1 h.out "usage: nablas train" "another rank ended without training"
[ "$(grep -c 'another rank ended without training' h.out)" -eq 1 ] || { cat h.out; fail "not one message"; }
[ ! -e h.nbm ] || fail "a model was written"
mpi -np 2 "$NABLAS" train --data blobs.csv "${args[@]}" --out h.nbm : -np 1 "$NABLAS" train --help \
    >h2.out 2>&1
expect $? 1 h2.out "another rank ended without training"  # (rank 2 prints to /dev/null)
# nablas --version and another command beside train ranks
mpi -np 1 "$NABLAS" --version : -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --out v.nbm \
    >v.out 2>&1
expect $? 1 v.out "nablas 0." "another rank ended without training"
mpi -np 1 "$NABLAS" train --data blobs.csv "${args[@]}" --out v.nbm : -np 1 "$NABLAS" info nope.nbm \
    >i.out 2>&1
expect $? 1 i.out "nope.nbm" "another rank ended without training"
[ ! -e v.nbm ] || fail "a model was written"
# every rank given --help or --version: all exit 0
mpi -np 2 "$NABLAS" train --help >a.out 2>&1
expect $? 0 a.out "usage: nablas train"
mpi -np 2 "$NABLAS" --version >a.out 2>&1
expect $? 0 a.out "nablas 0."

# and the same run on every rank still trains
mpi -np 2 "$NABLAS" train --data blobs.csv "${args[@]}" --checkpoint ok.ckpt --out ok.nbm >ok.out 2>&1
expect $? 0 ok.out "model saved to ok.nbm"
echo "mpirun nablas train: differing ranks refused by name, early exits reach every rank"
