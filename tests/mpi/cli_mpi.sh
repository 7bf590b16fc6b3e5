#!/usr/bin/env bash
# `mpirun -np P nablas train` (P = 2, 3; also with Adam, a schedule and clipping, and with early
# stopping: --patience and --validation) writes the
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
"$NABLAS" "${args[@]}" --out one.nbm >one.out 2>one.err || { cat one.err; fail "single run"; }

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
    mpi "$np" "$NABLAS" "${args[@]}" --out "p$np.nbm" >"p$np.out" 2>"p$np.err" \
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
     --batch 16 --lr 0.2 --seed 3 --validation 0.2 --standardize --patience 3)  # stops after epoch 11 (best 8) here
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

# rank 1 cannot read its data: every rank stops, non-zero, nothing written
mpi 2 bash -c 'd=blobs.csv; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && d=missing.csv
               exec "$0" "$@" --data "$d"' "$NABLAS" "${args[@]:0:1}" "${args[@]:3}" --out bad.nbm \
    >bad.out 2>bad.err && fail "a rank without data: exit 0"
grep -q "missing.csv" bad.err || { cat bad.err; fail "no message from the failing rank"; }
grep -q "another rank failed" bad.err || { cat bad.err; fail "rank 0 did not say another rank failed"; }
[ ! -e bad.nbm ] || fail "a model was written although a rank failed"

# rank 0 cannot write the model: every rank exits non-zero
mpi 2 "$NABLAS" "${args[@]}" --out no/such/dir/m.nbm >w.out 2>w.err && fail "unwritable model: exit 0"
grep -q "no/such/dir/m.nbm: directory no/such/dir: No such file or directory" w.err || { cat w.err; fail "no message for the failed save"; }
echo "mpirun nablas train: the single run's model at -np 2 and 3; failures stop every rank"
