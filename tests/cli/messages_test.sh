#!/bin/bash
# Messages, the run's log, metrics, threads and progress: one case per point of the newcomer's
# "smaller" list (the --warmup unit, the rate shown, "iter" for lm/lbfgs, the LM demo's
# transcript) and of what such users expect next to it (--log, eval's per-class report,
# --threads, progress within an epoch).  The MPI points (the process count, an error said once)
# and C++ with <nablas/mpi.h> are in the mpi suite.  Run by meson test with $NABLAS, $PYTHON
# and $SRC set.  Usage: messages_test.sh CASE
. "$(dirname "$0")/harness.sh"
blobs() { "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 "${1:-blobs.csv}"; }
B=(--data blobs.csv --label-column species)

case $case_name in
warmup_steps)
    # --warmup counts optimizer steps, said where it is used: the help and docs/cli.md
    run 0 train --help
    has out "over the first STEPS optimizer steps"
    has out "(batches, not epochs"
    grep -q '`--warmup STEPS` | 0 | .*optimizer steps (batches, not epochs' "$SRC/docs/cli.md" \
        || fail "docs/cli.md does not say what --warmup counts"
    ;;
lr_shown)
    # a schedule (or a warm-up alone) shows the rate of each epoch's last step; constant: not
    blobs
    # 240 rows, batch 16: 15 steps an epoch; warm-up over 20 steps from 1% of 0.01, then
    # constant: after epoch 1 (step 15 done, the 15th step took rate(14)) 0.01 * (0.01 + 0.99 * 14/20)
    run 0 train "${B[@]}" --layers 8:relu,3 --epochs 3 --batch 16 --validation 0.2 \
        --optimizer sgd --lr 0.01 --warmup 20 --log w.csv --out m.nbm
    [ "$(grep -c '  lr ' out)" -eq 3 ] || { cat out; fail "not one rate per epoch line"; }
    "$PYTHON" - <<'PY' || fail "the rates differ from the warm-up's"
import csv
rows = list(csv.DictReader(open("w.csv")))
want = [0.01 * (0.01 + 0.99 * min(t, 20) / 20) for t in (14, 29, 44)]
got = [float(r["lr"]) for r in rows]
assert len(got) == 3 and all(abs(g - w) <= 1e-9 * w for g, w in zip(got, want)), (got, want)
PY
    has out "lr 0.00703 "
    run 0 train "${B[@]}" --layers 8:relu,3 --epochs 2 --optimizer adam --out m.nbm
    ! grep -q '  lr ' out || { cat out; fail "a constant rate is shown"; }
    ;;
iter_label)
    # lm and lbfgs count iterations: their progress lines say so
    blobs
    run 0 train "${B[@]}" --layers 3 --loss mse --optimizer lm --epochs 3 --no-standardize --out m.nbm
    [ "$(grep -c '^iter [0-9]/3  loss' out)" -eq 3 ] || { cat out; fail "lm: not 3 iter lines"; }
    ! grep -q '^epoch' out || fail "lm: an epoch line"
    run 0 train "${B[@]}" --layers 3 --optimizer lbfgs --epochs 2 --out m.nbm
    [ "$(grep -c '^iter [0-9]/2  loss' out)" -eq 2 ] || { cat out; fail "lbfgs: not 2 iter lines"; }
    ;;
demo_transcript)
    # the LM demo's iterations depend on the CPU's last bits: its transcript is marked so, and
    # the readme suite then checks only its last line (the final MSE)
    grep -B2 -F '$ tools/demo.sh --optimizer lm' "$SRC/docs/demo.md" | grep -qF '<!-- transcript: varies by CPU -->' \
        || fail "docs/demo.md's LM transcript is not marked as varying by CPU"
    grep -qF 'VARIES = "<!-- transcript: varies by CPU -->"' "$SRC/tests/readme/transcript.py" \
        || fail "transcript.py does not know the marker"
    ;;
log_csv)
    blobs
    # mini-batch with validation: one row per epoch, every column
    run 0 train "${B[@]}" --layers 8:relu,3 --epochs 4 --validation 0.2 --optimizer adam \
        --schedule cosine --log run.csv --out m.nbm
    has out "log saved to run.csv"
    "$PYTHON" - <<'PY' || fail "run.csv"
import csv, re
rows = list(csv.reader(open("run.csv")))
assert rows[0] == ["epoch", "train_loss", "val_loss", "val_accuracy", "lr", "seconds"], rows[0]
assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"], rows
out = open("out").read()
for r in rows[1:]:
    loss, val, acc, lr, sec = map(float, r[1:])
    assert 0 <= acc <= 1 and lr > 0 and sec >= 0
    line = re.search(r"epoch %s/4  loss (\S+)  val_loss (\S+)" % r[0], out)
    assert abs(float(line.group(1)) - loss) <= 1e-4 and abs(float(line.group(2)) - val) <= 1e-4
PY
    # no validation, no schedule: those fields are empty; lbfgs: one row per iteration
    run 0 train "${B[@]}" --layers 8:relu,3 --epochs 2 --log a.csv --out m.nbm
    [ "$(sed -n 2p a.csv | cut -d, -f3-5)" = ",," ] || { cat a.csv; fail "absent values are not empty"; }
    run 0 train "${B[@]}" --layers 3 --optimizer lbfgs --epochs 3 --log l.csv --out m.nbm
    head -1 l.csv | grep -q '^iteration,train_loss' || { cat l.csv; fail "lbfgs: no iteration column"; }
    [ "$(wc -l <l.csv)" -eq 4 ] || { cat l.csv; fail "lbfgs: not 3 rows"; }
    # a refused log path: nothing trained (usage error); the log may not be an input
    run 2 train "${B[@]}" --layers 3 --log blobs.csv --out m.nbm
    has err "--log"
    run 1 train "${B[@]}" --layers 3 --log no/such/dir/l.csv --out m2.nbm
    [ ! -e m2.nbm ] || fail "a model was written with an unwritable log"
    # a diverging run still leaves its log (the rows up to the divergence)
    run 1 train "${B[@]}" --layers 16:relu,3 --epochs 5 --optimizer sgd --lr 1e6 --log d.csv --out m3.nbm
    [ "$(wc -l <d.csv)" -ge 2 ] || { cat d.csv; fail "no log of the diverged run"; }
    ;;
class_report)
    # eval's per-class precision, recall, F1 and support against the definitions applied by
    # Python to predict's classes (scikit-learn's classification_report, zero_division=0)
    blobs
    run 0 train "${B[@]}" --layers 16:relu,3 --epochs 2 --lr 0.05 --standardize --out m.nbm
    run 0 predict --model m.nbm --data blobs.csv --out p.csv
    run 0 eval --model m.nbm --data blobs.csv
    has out "virginica  precision  recall      f1  support"
    "$PYTHON" - <<'PY' || fail "the report differs from the definitions"
import csv
truth = [r["species"] for r in csv.DictReader(open("blobs.csv"))]
pred = [r["class"] for r in csv.DictReader(open("p.csv"))]
names = ["setosa", "versicolor", "virginica"]
lines = {l.split()[0] if not l.lstrip().startswith(("macro", "weighted")) else " ".join(l.split()[:2]): l.split()
         for l in open("out") if l.strip()}
P, R, F, S = [], [], [], []
for c in names:
    tp = sum(t == c and p == c for t, p in zip(truth, pred))
    npred, sup = pred.count(c), truth.count(c)
    p = tp / npred if npred else 0.0
    r = tp / sup if sup else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    P.append(p); R.append(r); F.append(f); S.append(sup)
    got = lines[c][-4:]
    assert [round(x, 4) for x in (p, r, f)] == [float(g) for g in got[:3]] and int(got[3]) == sup, (c, got, p, r, f)
n = len(truth)
macro = [sum(v) / 3 for v in (P, R, F)]
weighted = [sum(a * s for a, s in zip(v, S)) / n for v in (P, R, F)]
for key, want in (("macro avg", macro), ("weighted avg", weighted)):
    got = [float(g) for g in lines[key][2:5]]
    assert all(abs(g - w) <= 5.1e-5 for g, w in zip(got, want)), (key, got, want)
PY
    ;;
threads)
    blobs
    run 0 train "${B[@]}" --layers 16:relu,3 --epochs 2 --threads 1 --out m.nbm
    run 0 eval --model m.nbm --data blobs.csv --threads 2
    run 0 predict --model m.nbm --data blobs.csv --threads 1 --out p.csv
    for bad in 0 -1 1025 100000000000 two; do
        for cmd in train eval predict; do
            case $cmd in
            train) run 2 train "${B[@]}" --layers 3 --threads "$bad" --out x.nbm ;;
            eval) run 2 eval --model m.nbm --data blobs.csv --threads "$bad" ;;
            predict) run 2 predict --model m.nbm --data blobs.csv --threads "$bad" --out x.csv ;;
            esac
            one_line
            has err "--threads"
        done
    done
    [ ! -e x.nbm ] && [ ! -e x.csv ] || fail "an output was written with a refused --threads"
    # the thread count is what a checkpoint notes
    run 0 train "${B[@]}" --layers 16:relu,3 --epochs 2 --threads 1 --checkpoint c.ckpt --out m.nbm
    run 0 train "${B[@]}" --layers 16:relu,3 --epochs 3 --threads 2 --resume c.ckpt --out m.nbm
    has out "the checkpoint was written with 1 threads, this run has 2"
    ;;
batch_progress)
    # on a terminal (script's pty) the line shows the batch an epoch is at, and the model is
    # the one a pipe's run writes, bit for bit; a pipe never sees those lines
    command -v script >/dev/null || { echo "no script(1): skipped"; exit 77; }
    blobs
    A=(train "${B[@]}" --layers 16:relu,3 --epochs 3 --batch 16 --validation 0.2 --seed 4 --lr 0.05)
    NABLAS_TEST_BATCH_PROGRESS=1 run 0 "${A[@]}" --out pipe.nbm
    ! grep -q 'batch [0-9]' out || { cat out; fail "batch progress in a pipe"; }
    [ "$(grep -c '^epoch [1-3]/3  loss' out)" -eq 3 ] || { cat out; fail "not one line per epoch in a pipe"; }
    NABLAS_TEST_BATCH_PROGRESS=1 script -qec "$(printf '%q ' "$NABLAS" "${A[@]}" --out tty.nbm)" \
        /dev/null >tty.out 2>&1 || { cat -v tty.out; fail "the run on a terminal failed"; }
    grep -q $'\033\\[Kepoch 2/3  batch 7/15' tty.out || { cat -v tty.out; fail "no batch progress on a terminal"; }
    cmp -s pipe.nbm tty.nbm || fail "the terminal's run wrote another model"
    ;;
*)
    fail "unknown case"
    ;;
esac
exit 0
