#!/bin/bash
# End-to-end cases for the nablas command; run by meson test with $NABLAS (the executable),
# $PYTHON and $SRC (the source root) set.  Usage: cli_test.sh CASE
set -u
case_name=$1
work=$(mktemp -d /tmp/nablas-cli-XXXXXX)
cd "$work" || exit 1

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
# run EXPECTED_STATUS CMD...: runs nablas, keeps stdout/stderr in out/err, checks the status.
run() {
    local want=$1; shift
    "$NABLAS" "$@" >out 2>err
    local got=$?
    [ "$got" -eq "$want" ] || { cat out err >&2; fail "nablas $* exited $got, expected $want"; }
}
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks '$2'"; }; }
one_line() { [ "$(wc -l <err)" -eq 1 ] || { cat err >&2; fail "stderr is not one line"; }; }
blobs() { "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 "${1:-blobs.csv}"; }
train_blobs() {
    blobs
    run 0 train --data blobs.csv --label-column species --layers 16:relu,3 --epochs 5 \
        --batch 16 --lr 0.05 --seed 3 --validation 0.2 --standardize --out m.nbm --plot c.svg
}

case $case_name in
help)
    for c in train eval predict info; do
        run 0 "$c" --help
        has out "usage: nablas $c"
        has out "--help"
    done
    run 0 --help
    has out "commands:"
    run 2
    run 2 frobnicate
    has err "unknown command 'frobnicate'"
    ;;
train)
    train_blobs
    has out "training 4-16:relu,3 network on 240 rows (60 for validation)"
    [ "$(grep -c '^epoch [ 0-9]*/5  loss' out)" -eq 5 ] || { cat out; fail "not 5 progress lines"; }
    has out "val_acc"
    has out "samples/s"
    has out "model saved to m.nbm"
    [ -s m.nbm ] || fail "no model"
    has c.svg "<svg"
    has c.svg "validation"
    [ "$(grep -c '<polyline' c.svg)" -eq 2 ] || fail "expected 2 curves"
    [ ! -s err ] || fail "stderr not empty"
    ;;
eval)
    train_blobs
    run 0 eval --model m.nbm --data blobs.csv --label-column species
    has out "rows      300"
    has out "loss "
    has out "accuracy  "
    has out "confusion matrix"
    has out "versicolor"
    acc=$(sed -n 's/^accuracy  \([0-9.]*\)%.*/\1/p' out)
    "$PYTHON" -c "import sys; sys.exit(0 if float('$acc') > 80 else 1)" || fail "accuracy $acc"
    ;;
predict)
    train_blobs
    run 0 predict --model m.nbm --data blobs.csv --label-column species --out p.csv
    has out "300 predictions written to p.csv"
    [ "$(wc -l <p.csv)" -eq 301 ] || fail "p.csv rows"
    head -1 p.csv | grep -qx 'setosa,versicolor,virginica,class' || fail "header $(head -1 p.csv)"
    run 0 predict --model m.nbm --data blobs.csv --label-column species --out p.npy
    head -c 6 p.npy | od -c | grep -q 'N   U   M   P   Y' || fail "not npy"
    grep -aq "'shape': (300, 3)" p.npy || fail "npy shape"
    # the CSV's probabilities sum to 1
    "$PYTHON" - <<'PY' || fail "probabilities"
import csv
rows = list(csv.reader(open("p.csv")))[1:]
assert all(abs(sum(map(float, r[:3])) - 1) < 1e-5 for r in rows)
PY
    ;;
info)
    train_blobs
    run 0 info m.nbm
    has out "format version 1"
    has out "checksum       OK (crc32"
    has out "inputs         4"
    has out "dense      4 -> 16     relu"
    has out "parameters     131"
    has out "loss           softmax-ce"
    has out "normalisation  standardised inputs"
    has out "classes        3: setosa, versicolor, virginica"
    ;;
regression)
    "$PYTHON" - <<'PY'
import random
r = random.Random(5)
with open("reg.csv", "w") as f:
    f.write("# y = 2a - b, noisy\na;b;y;z\n")
    for i in range(400):
        a, b = r.uniform(-1, 1), r.uniform(-1, 1)
        f.write(f"{a:.5f};{b:.5f};{2*a-b+r.gauss(0,0.01):.5f};{a+b:.5f}\n")
PY
    run 0 train --data reg.csv --delimiter ';' --target-columns y,z --layers 16:tanh,2 --loss mse \
        --epochs 60 --lr 0.1 --out r.nbm
    run 0 eval --model r.nbm --data reg.csv --delimiter ';' --target-columns y,z
    has out "(mse)"
    grep -q accuracy out && fail "accuracy for regression"
    loss=$(sed -n 's/^loss *\([0-9.e-]*\).*/\1/p' out)
    "$PYTHON" -c "import sys; sys.exit(0 if float('$loss') < 0.05 else 1)" || fail "mse $loss"
    run 0 info r.nbm
    has out "normalisation  none"
    has out "classes        none"
    ;;
npy_data)
    "$PYTHON" - <<'PY'
import random, struct
def npy(path, descr, shape, fmt, values):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    pad = (10 + len(d) + 1 + 63) // 64 * 64 - 10
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", pad) + (d + " " * (pad - len(d) - 1) + "\n").encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
r = random.Random(2)
X, y = [], []
for i in range(200):
    k = i % 2
    X += [r.gauss(3 * k, 1), r.gauss(-3 * k, 1)]
    y.append(k)
npy("X.npy", "<f8", "(200, 2)", "d", X)
npy("y.npy", "<i8", "(200,)", "q", y)
PY
    run 0 train --data X.npy --targets y.npy --layers 8:relu,2 --epochs 20 --lr 0.1 --out n.nbm
    run 0 eval --model n.nbm --data X.npy --targets y.npy
    has out "accuracy"
    run 0 predict --model n.nbm --data X.npy --out q.npy
    [ -s q.npy ] || fail "no q.npy"
    run 2 train --data X.npy --layers 8,2 --out n2.nbm
    has err "--targets FILE.npy"
    ;;
error_outputs)
    blobs
    run 2 train --data blobs.csv --label-column species --layers 8:relu,2 --out m.nbm
    has err "the last layer has 2 outputs but the data have 3 classes"
    one_line
    run 2 train --data blobs.csv --label-column species --layers 8:relu,3:relu --loss softmax-ce --out m.nbm
    has err "softmax-ce takes logits"
    cut -d, -f1-4 blobs.csv >numeric.csv
    run 2 train --data numeric.csv --target-columns x0,x1 --layers 8,3 --out m.nbm
    has err "2 target columns"
    [ ! -e m.nbm ] || fail "model written"
    ;;
error_csv)
    printf 'a,b,label\n1,2,x\n3,abc,y\n' >bad.csv
    run 1 train --data bad.csv --label-column label --layers 2 --out m.nbm
    has err "bad.csv:3:2: not a number: 'abc'"
    one_line
    printf 'a,b,label\n1,2,x\n3,4\n' >ragged.csv
    run 1 train --data ragged.csv --label-column label --layers 2 --out m.nbm
    has err "ragged.csv:3:2: expected 3 fields, found 2"
    printf 'a,b,label\n' >header.csv
    run 1 train --data header.csv --label-column label --layers 2 --out m.nbm
    has err "no data rows (only a header)"
    : >empty.csv
    run 1 train --data empty.csv --label-column label --layers 2 --out m.nbm
    has err "empty file"
    printf 'a,b,label\n1,,x\n' >missing.csv
    run 1 train --data missing.csv --label-column label --layers 2 --out m.nbm
    has err "missing.csv:2:2: missing value"
    run 1 train --data nonexistent.csv --label-column label --layers 2 --out m.nbm
    has err "cannot read nonexistent.csv"
    run 2 train --data missing.csv --label-column nope --layers 2 --out m.nbm
    has err "no column 'nope'"
    [ ! -e m.nbm ] || fail "model written"
    ;;
error_options)
    blobs
    run 2 train --data blobs.csv --label-column species --layers 3 --out m.nbm --bogus
    has err "unknown option '--bogus'"
    one_line
    run 2 train --data blobs.csv --layers 3 --out m.nbm
    has err "say which column holds the targets"
    run 2 train --data blobs.csv --label-column species --layers 3:nope --out m.nbm
    has err "--layers"
    run 2 train --data blobs.csv --label-column species --layers 3 --epochs zero --out m.nbm
    has err "--epochs: 'zero' is not a non-negative integer"
    run 2 train --data blobs.csv --label-column species --layers 3 --lr -1 --out m.nbm
    has err "--lr must be between"
    run 2 train --data blobs.csv --label-column species --layers 3 --loss hinge --out m.nbm
    has err "unknown loss 'hinge'"
    run 2 train --data blobs.csv --label-column species --layers 3
    has err "--out MODEL is required"
    run 2 train --data blobs.csv --label-column species --layers 3 --out m.nbm --validation 0.95
    has err "--validation must be between"
    run 2 info
    has err "usage: nablas info MODEL"
    [ ! -e m.nbm ] || fail "model written"
    ;;
error_model)
    train_blobs
    cp m.nbm flipped.nbm
    printf '\x55' | dd of=flipped.nbm bs=1 seek=200 conv=notrunc status=none
    run 1 info flipped.nbm
    has err "checksum mismatch"
    one_line
    head -c 100 m.nbm >short.nbm
    run 1 info short.nbm
    has err "truncated"
    run 1 eval --model blobs.csv --data blobs.csv --label-column species
    has err "bad magic"
    run 1 info missing.nbm
    has err "cannot read model missing.nbm"
    ;;
error_eval)
    train_blobs
    sed 's/virginica$/dahlia/' blobs.csv >other.csv
    run 1 eval --model m.nbm --data other.csv --label-column species
    has err "other.csv:4:5: unknown class 'dahlia'"
    cut -d, -f2- blobs.csv >narrow.csv
    run 1 predict --model m.nbm --data narrow.csv --label-column species --out p.csv
    has err "the model takes 4 features but the data have 3"
    [ ! -e p.csv ] || fail "partial predictions written"
    ;;
no_partial_output)
    train_blobs
    cp m.nbm before.nbm
    printf 'x0,x1,x2,x3,species\n1,2,3,4,a\n1,2,3,oops,b\n' >bad.csv
    run 1 train --data bad.csv --label-column species --layers 3 --out m.nbm --plot c2.svg
    cmp -s m.nbm before.nbm || fail "the old model changed"
    [ ! -e c2.svg ] || fail "plot written"
    run 1 train --data blobs.csv --label-column species --layers 3 --out no/such/dir/m.nbm
    has err "cannot write no/such/dir/m.nbm"
    [ "$(ls | grep -c tmp)" -eq 0 ] || fail "temporary files left: $(ls)"
    ;;
optimizers)
    blobs
    run 0 train --data blobs.csv --label-column species --layers 16:relu,3 --epochs 30 \
        --batch 16 --optimizer adamw --lr 0.01 --weight-decay 0.05 --schedule cosine \
        --warmup 20 --min-lr 1e-4 --clip-norm 1 --seed 3 --validation 0.2 --standardize \
        --out a.nbm
    has out "optimizer adamw, lr 0.01, schedule cosine after a linear warm-up, gradient norm clipped"
    has out "model saved to a.nbm"
    [ ! -s err ] || fail "stderr not empty"
    run 0 eval --model a.nbm --data blobs.csv --label-column species
    acc=$(sed -n 's/^accuracy  \([0-9.]*\)%.*/\1/p' out)
    "$PYTHON" -c "import sys; sys.exit(0 if float('$acc') > 80 else 1)" || fail "accuracy $acc"
    for o in "--optimizer sgd --momentum 0.9 --nesterov --schedule step --step-size 20 --gamma 0.5" \
             "--optimizer adam --amsgrad --beta1 0.8 --beta2 0.99 --eps 1e-7 --schedule linear" \
             "--optimizer rmsprop --alpha 0.9 --momentum 0.5 --centered --lr 0.001" \
             "--schedule onecycle --lr 0.1" "--momentum 0.9 --clip-norm 5"; do
        # shellcheck disable=SC2086
        run 0 train --data blobs.csv --label-column species --layers 8:relu,3 --epochs 3 \
            --batch 16 --out o.nbm $o
        has out "model saved to o.nbm"
    done
    ;;
error_optim)
    blobs
    bad() { # bad MESSAGE OPTIONS...: a usage error, one line, no model
        local msg=$1; shift
        run 2 train --data blobs.csv --label-column species --layers 3 --out m.nbm "$@"
        has err "$msg"
        one_line
        [ ! -e m.nbm ] || fail "model written"
    }
    bad "--optimizer: unknown 'adagrad'" --optimizer adagrad
    bad "--lr must be between" --optimizer adam --lr -0.1
    bad "--lr: 'nan' is not a number" --lr nan
    bad "--beta1 must be at least 0 and below 1" --optimizer adam --beta1 1
    bad "--beta2 must be at least 0 and below 1" --optimizer adamw --beta2 -0.5
    bad "--beta2: 'inf' is not a number" --optimizer adamw --beta2 inf
    bad "--momentum must be at least 0 and below 1" --momentum 1.5
    bad "--weight-decay must be between" --weight-decay -1
    bad "--eps must be between" --optimizer rmsprop --eps -1e-8
    bad "--momentum applies to sgd and rmsprop, not to adam" --optimizer adam --momentum 0.9
    bad "--beta1 applies to adam and adamw, not to sgd" --beta1 0.5
    bad "--nesterov needs --momentum above 0" --nesterov
    bad "--nesterov applies to sgd, not to rmsprop" --optimizer rmsprop --nesterov
    bad "--schedule: unknown 'exp'" --schedule exp
    bad "--gamma applies to --schedule step, not to cosine" --schedule cosine --gamma 0.5
    bad "--step-size must be at least 1" --schedule step --step-size 0
    bad "--warmup: '-3' is not a non-negative integer" --warmup -3
    bad "--warmup applies to every schedule but onecycle" --schedule onecycle --warmup 5
    bad "--min-lr must be between" --schedule cosine --min-lr 1
    bad "--clip-norm must be above 0" --clip-norm 0
    bad "--clip-norm: 'nan' is not a number" --clip-norm nan
    ;;
*)
    fail "unknown case"
    ;;
esac
rm -rf "$work"
echo "ok $case_name"
