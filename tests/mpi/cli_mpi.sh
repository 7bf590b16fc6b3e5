#!/usr/bin/env bash
# `mpirun -np P nablas train` (P = 2, 3; also with Adam, a schedule and clipping, and with early
# stopping: --patience and --validation; and checkpointed with --checkpoint, then --resume'd,
# also across 1 and P processes) writes the
# model of a single run: the same bytes but
# for the parameters (within 1e-6 of their scale: the gradient sums run in another order) and
# the checksum; rank 0 alone prints progress; a rank that cannot read the data, or a model that
# cannot be written, stops every rank with a non-zero status and no model.
# Run by meson with $NABLAS, $PYTHON and $SRC set.
set -u
work=$(mktemp -d /tmp/nablas-mpi-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
mpi() { local np=$1; shift; timeout -k 10 240 mpirun --allow-run-as-root --oversubscribe -np "$np" "$@"; }

"$PYTHON" "$SRC/tools/make_blobs.py" --rows 301 blobs.csv || fail "make_blobs"
args=(train --data blobs.csv --label-column species --layers 16:relu,8:tanh,3 --epochs 4
      --batch 16 --lr 0.05 --seed 3 --validation 0.2 --standardize)
"$NABLAS" "${args[@]}" --optimizer sgd --out one.nbm >one.out 2>one.err || { cat one.err; fail "single run"; }

# params_match A B: same length, equal bytes outside the parameters and the CRC, parameters
# within 1e-6 of their largest magnitude (the layout: docs/model-format.md)
params_match() {
    "$PYTHON" - "$1" "$2" <<'PY'
import struct, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
assert len(a) == len(b), "lengths differ"
flags, _, L, inputs, P = struct.unpack_from("<IIIQQ", a, 12)
off = 40 + 16 * L
if flags & 1:
    off += 8 * inputs
if flags & 2:
    k, = struct.unpack_from("<I", a, off); off += 4
    for _ in range(k):
        n, = struct.unpack_from("<I", a, off); off += 4 + n
end = off + 4 * P
assert a[:off] == b[:off], "header differs"
assert a[end:-4] == b[end:-4], "bytes after the parameters differ"
pa, pb = (struct.unpack_from("<%df" % P, x, off) for x in (a, b))
scale = max(abs(v) for v in pb)
diff = max(abs(x - y) for x, y in zip(pa, pb))
print("parameters: largest difference %.3g of scale %.3g (%.3g relative)" % (diff, scale, diff / scale))
assert diff <= 1e-6 * scale, "parameters differ"
PY
}

for np in 2 3; do
    mpi "$np" "$NABLAS" "${args[@]}" --optimizer sgd --out "p$np.nbm" >"p$np.out" 2>"p$np.err" \
        || { cat "p$np.out" "p$np.err"; fail "mpirun -np $np exited $?"; }
    params_match "p$np.nbm" one.nbm || fail "-np $np: model differs from the single run's"
    [ "$(grep -o 'epoch [ 0-9]*/4  loss' "p$np.out" | wc -l)" -eq 4 ] \
        || { cat "p$np.out"; fail "-np $np: not 4 progress lines (rank 0 only)"; }
    [ "$(grep -c 'model saved to' "p$np.out")" -eq 1 ] || fail "-np $np: not one 'model saved'"
    ! grep -q $'\r' "p$np.out" || fail "-np $np: progress redrawn in place (mpirun's pty)"
    grep -qF "training 4-16:relu,8:tanh,3 network on 241 rows (60 for validation)" "p$np.out" \
        || fail "-np $np: not the single run's split"
done

# an optimizer with a schedule and clipping (nb_train_opts' optimizer path) over 3 ranks
opt=(--optimizer adam --schedule cosine --warmup 5 --clip-norm 1)  # at --lr 0.05
"$NABLAS" "${args[@]}" "${opt[@]}" --out adam1.nbm >/dev/null 2>adam1.err || { cat adam1.err; fail "single run with adam"; }
mpi 3 "$NABLAS" "${args[@]}" "${opt[@]}" --out adam3.nbm >adam3.out 2>adam3.err \
    || { cat adam3.out adam3.err; fail "mpirun -np 3 with adam exited $?"; }
params_match adam3.nbm adam1.nbm || fail "adam, -np 3: model differs from the single run's"

# early stopping (--patience on the validation rows): every rank takes the same decision, so
# the run stops after the single run's epoch and keeps the single run's best parameters
pat=(train --data blobs.csv --label-column species --layers 16:relu,8:tanh,3 --epochs 60
     --batch 16 --optimizer sgd --lr 0.2 --seed 3 --validation 0.2 --standardize --patience 3)  # stops after epoch 11 (best 8) here
"$NABLAS" "${pat[@]}" --out pat1.nbm >pat1.out 2>pat1.err || { cat pat1.err; fail "single run with --patience"; }
grep -q "early stopping: stopped after epoch" pat1.out \
    || { cat pat1.out; fail "the single run did not stop early (the test wants an early stop)"; }
for np in 2 3; do
    mpi "$np" "$NABLAS" "${pat[@]}" --out "pat$np.nbm" >"pat$np.out" 2>"pat$np.err" \
        || { cat "pat$np.out" "pat$np.err"; fail "mpirun -np $np with --patience exited $?"; }
    params_match "pat$np.nbm" pat1.nbm || fail "--patience, -np $np: model differs from the single run's"
    [ "$(grep "early stopping:" "pat$np.out")" = "$(grep "early stopping:" pat1.out)" ] \
        || { grep "early stopping:" "pat$np.out" pat1.out; fail "--patience, -np $np: another stop or best epoch"; }
done

# --checkpoint / --resume under mpirun: 3 epochs with a checkpoint (rank 0 writes it), then a
# resume to 6, is the 6-epoch run over MPI byte for byte, and the single run's to rounding; a
# checkpoint moves between 1 and P processes; early stopping resumes as it would have gone on
ck=(train --data blobs.csv --label-column species --layers 16:relu,8:tanh,3 --batch 16 --seed 3
    --validation 0.2 --standardize --optimizer adam --lr 0.01)
"$NABLAS" "${ck[@]}" --epochs 6 --out ck_one6.nbm >/dev/null 2>ck.err || { cat ck.err; fail "single 6-epoch run"; }
"$NABLAS" "${ck[@]}" --epochs 3 --checkpoint ck_one3.ckpt --out ck_one3.nbm >/dev/null 2>ck.err \
    || { cat ck.err; fail "single run with --checkpoint"; }
mpi 2 "$NABLAS" "${ck[@]}" --epochs 6 --out ck_p6.nbm >ck_p6.out 2>&1 || { cat ck_p6.out; fail "mpirun 6 epochs"; }
mpi 2 "$NABLAS" "${ck[@]}" --epochs 3 --checkpoint ck_p3.ckpt --out ck_p3.nbm >ck_p3.out 2>&1 \
    || { cat ck_p3.out; fail "mpirun with --checkpoint"; }
[ -s ck_p3.ckpt ] || fail "mpirun --checkpoint wrote no checkpoint"
mpi 2 "$NABLAS" "${ck[@]}" --epochs 6 --resume ck_p3.ckpt --out ck_r6.nbm >ck_r6.out 2>&1 \
    || { cat ck_r6.out; fail "mpirun --resume"; }
grep -q "resuming ck_p3.ckpt: 3 of 6 epochs done" ck_r6.out || { cat ck_r6.out; fail "no resume line"; }
[ "$(grep -c 'epoch [ 0-9]*/6  loss' ck_r6.out)" -eq 3 ] || { cat ck_r6.out; fail "resume: not epochs 4-6 once each"; }
cmp ck_r6.nbm ck_p6.nbm || fail "mpirun: checkpoint + resume differs from the uninterrupted run"
params_match ck_r6.nbm ck_one6.nbm || fail "mpirun resume: differs from the single run"
# a single run's checkpoint resumed over 3 ranks, and an mpirun checkpoint in one process
mpi 3 "$NABLAS" "${ck[@]}" --epochs 6 --resume ck_one3.ckpt --out ck_13.nbm >ck_13.out 2>&1 \
    || { cat ck_13.out; fail "mpirun -np 3 --resume of a single run's checkpoint"; }
params_match ck_13.nbm ck_one6.nbm || fail "single checkpoint resumed over 3 ranks: differs"
"$NABLAS" "${ck[@]}" --epochs 6 --resume ck_p3.ckpt --out ck_p1.nbm >/dev/null 2>ck.err \
    || { cat ck.err; fail "one process --resume of an mpirun checkpoint"; }
params_match ck_p1.nbm ck_one6.nbm || fail "mpirun checkpoint resumed in one process: differs"
# early stopping (the run stops after epoch 11): a checkpoint at 6, resumed, stops alike
mpi 2 "$NABLAS" "${pat[@]/60/6}" --checkpoint es.ckpt --out es6.nbm >es6.out 2>&1 || { cat es6.out; fail "es checkpoint"; }
mpi 2 "$NABLAS" "${pat[@]}" --resume es.ckpt --out es_r.nbm >es_r.out 2>&1 || { cat es_r.out; fail "es resume"; }
cmp es_r.nbm pat2.nbm || fail "--patience: checkpoint + resume differs from the uninterrupted mpirun run"
[ "$(grep "early stopping:" es_r.out)" = "$(grep "early stopping:" pat2.out)" ] \
    || { grep "early stopping:" es_r.out pat2.out; fail "--patience resume: another stop"; }
# a checkpoint no rank can read: every rank exits 1, no model
mpi 2 "$NABLAS" "${ck[@]}" --epochs 6 --resume nope.ckpt --out nope.nbm >nope.out 2>&1 \
    && fail "mpirun --resume of a missing file: exit 0"
grep -q "resume nope.ckpt: cannot read it" nope.out || { cat nope.out; fail "no message for a missing checkpoint"; }
[ ! -e nope.nbm ] || fail "a model was written without the checkpoint"

# a rank whose own arguments are refused before the data is read (its --checkpoint directory
# is missing; a usage error) stops every rank, none waits forever
mpi 2 bash -c 'c=ok.ckpt; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && c=no/such/dir/ck.ckpt
               exec "$0" "$@" --checkpoint "$c"' "$NABLAS" "${ck[@]}" --epochs 3 --out rk.nbm \
    >rk.out 2>&1; st=$?
[ "$st" -eq 1 ] || { cat rk.out; fail "rank 1's missing --checkpoint directory: exit $st, not 1"; }
grep -q "checkpoint no/such/dir/ck.ckpt: directory no/such/dir" rk.out || { cat rk.out; fail "no message from rank 1"; }
[ "$(grep -c 'nablas train' rk.out)" -eq 1 ] || { cat rk.out; fail "rank 1's error not said once"; }
[ ! -e rk.nbm ] && [ ! -e ok.ckpt ] || fail "a file was written although a rank failed"
mpi 2 bash -c 'e=3; [ "$OMPI_COMM_WORLD_RANK" = 0 ] && e=0
               exec "$0" "$@" --epochs "$e"' "$NABLAS" "${ck[@]}" --out rk.nbm >rk.out 2>&1; st=$?
[ "$st" -eq 2 ] || { cat rk.out; fail "rank 0's usage error: exit $st, not 2"; }

# rank 1 cannot read its data: every rank stops, non-zero, nothing written
mpi 2 bash -c 'd=blobs.csv; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && d=missing.csv
               exec "$0" "$@" --data "$d"' "$NABLAS" "${args[@]:0:1}" "${args[@]:3}" --out bad.nbm \
    >bad.out 2>bad.err && fail "a rank without data: exit 0"
grep -q "missing.csv" bad.err || { cat bad.err; fail "no message from the failing rank"; }
grep -q "nablas train: rank 1: cannot read missing.csv" bad.err || { cat bad.err; fail "the failing rank is not named"; }
[ "$(grep -c 'nablas train' bad.err)" -eq 1 ] || { cat bad.err; fail "not one message"; }
[ ! -e bad.nbm ] || fail "a model was written although a rank failed"

# rank 0 cannot write the model: every rank exits non-zero
mpi 2 "$NABLAS" "${args[@]}" --out no/such/dir/m.nbm >w.out 2>w.err && fail "unwritable model: exit 0"
grep -q "no/such/dir/m.nbm: directory no/such/dir: No such file or directory" w.err || { cat w.err; fail "no message for the failed save"; }
# rank 0 says how many processes run, once; --log is rank 0's
mpi 3 "$NABLAS" "${args[@]}" --log p3.csv --out n3.nbm >n3.out 2>n3.err || { cat n3.out n3.err; fail "-np 3 with --log"; }
[ "$(grep -c 'over MPI: 3 processes, each taking its share of every batch' n3.out)" -eq 1 ] \
    || { cat n3.out; fail "-np 3: the process count is not said once"; }
[ "$(wc -l <p3.csv)" -eq 5 ] && head -1 p3.csv | grep -qx 'epoch,train_loss,val_loss,val_accuracy,lr,seconds' \
    || { cat p3.csv; fail "-np 3: the log is not the header and 4 epochs"; }
# an error every rank meets (the data file no rank can read) is said once, not once per rank
mpi 3 "$NABLAS" "${args[@]:0:1}" --data nowhere.csv "${args[@]:3}" --out x.nbm >all.out 2>all.err \
    && fail "no data on any rank: exit 0"
[ "$(grep -c 'nablas train' all.err)" -eq 1 ] || { cat all.err; fail "the error is not said once"; }
grep -q "^nablas train: cannot read nowhere.csv" all.err || { cat all.err; fail "not rank 0's message"; }
echo "mpirun nablas train: the single run's model at -np 2 and 3; failures stop every rank"
