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
    for c in train eval predict info export import; do
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
precision)
    # bf16 trains where the library has oneDNN and the CPU AVX512-BF16; elsewhere one line, exit 1
    blobs
    "$NABLAS" train --data blobs.csv --label-column species --layers 16:relu,3 --epochs 5 \
        --batch 16 --lr 0.05 --precision bf16 --out m.nbm >out 2>err
    got=$?
    if [ "$got" -eq 0 ]; then
        has out "model saved to m.nbm"
        run 0 eval --model m.nbm --data blobs.csv --label-column species
    else
        [ "$got" -eq 1 ] || fail "exit $got"
        one_line
        has err "--precision bf16:"
        [ ! -e m.nbm ] || fail "model written"
    fi
    run 0 train --data blobs.csv --label-column species --layers 3 --precision fp32 --out f.nbm
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
    has out "format version 2" # it has the column names
    has out "feature names  4: x0, x1, x2, x3"
    has out "target names   1: species"
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
    run 2 train --data blobs.csv --label-column species --layers 3 --precision fp16 --out m.nbm
    has err "unknown precision 'fp16'"
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
    has err "narrow.csv: feature column 1 is 'x1' but the model was trained on 'x0' there"
    one_line
    tail -n +2 narrow.csv >bare.csv # without names, only the widths can be compared
    run 1 predict --model m.nbm --data bare.csv --label-column 3 --no-header --out p.csv
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
fullbatch)
    "$PYTHON" - <<'PY'
import math, random
r = random.Random(7)
with open("sc.csv", "w") as f:
    f.write("x,y,z\n")
    for i in range(300):
        x, y = r.uniform(-3, 3), r.uniform(-3, 3)
        f.write(f"{x:.6f},{y:.6f},{math.sin(x) * math.cos(y):.6f}\n")
PY
    run 0 train --data sc.csv --target-columns z --layers 8:tanh,8:tanh,1 --optimizer lm \
        --epochs 40 --batch 7 --validation 0.2 --out lm.nbm
    has out "note: --batch is ignored"
    has out "Levenberg-Marquardt stopped"
    has out "model saved to lm.nbm"
    run 0 eval --model lm.nbm --data sc.csv --target-columns z
    loss=$(sed -n 's/^loss *\([0-9.e-]*\).*/\1/p' out)
    "$PYTHON" -c "import sys; sys.exit(0 if float('$loss') < 0.01 else 1)" || fail "lm mse $loss"
    run 0 train --data sc.csv --target-columns z --layers 8:tanh,8:tanh,1 --optimizer lbfgs \
        --epochs 40 --history 10 --out lb.nbm
    has out "L-BFGS stopped"
    run 0 train --data sc.csv --target-columns z --layers 8:tanh,1 --optimizer lbfgs \
        --line-search none --lr 0.5 --epochs 5 --out lb2.nbm
    run 0 train --help
    has out "--optimizer NAME"
    has out "--line-search NAME"
    run 2 train --data sc.csv --target-columns z --layers 4:tanh,1 --optimizer lm --mu 0 --out x.nbm
    has err "--mu"
    one_line
    run 2 train --data sc.csv --target-columns z --layers 4:tanh,1 --optimizer newton --out x.nbm
    has err "unknown 'newton'"
    run 2 train --data sc.csv --target-columns z --layers 4:tanh,1 --optimizer lbfgs \
        --line-search armijo --out x.nbm
    one_line
    run 2 train --data sc.csv --target-columns z --layers 4:tanh,1 --optimizer lm --loss bce \
        --out x.nbm
    has err "minimises the MSE"
    run 1 train --data sc.csv --target-columns z --layers 100:tanh,100:tanh,1 --optimizer lm \
        --max-mem 1 --out x.nbm
    one_line
    [ ! -e x.nbm ] || fail "model written"
    ;;
regression_metrics)
    # y and z in their own units (around 100 and -50): eval and predict must answer in them.
    "$PYTHON" - <<'PY'
import random
r = random.Random(7)
with open("reg.csv", "w") as f:
    f.write("a,b,y,z\n")
    for i in range(300):
        a, b = r.uniform(-1, 1), r.uniform(-1, 1)
        f.write(f"{a:.5f},{b:.5f},{100+20*(2*a-b)+r.gauss(0,0.5):.5f},{-50+5*a*b:.5f}\n")
PY
    run 0 train --data reg.csv --target-columns y,z --standardize-targets --standardize \
        --layers 16:tanh,2 --epochs 80 --lr 0.05 --seed 1 --out r.nbm
    has out "targets standardised"
    run 0 info r.nbm
    has out "targets        standardised"
    has out "target names   2: y, z"
    # eval finds the targets by the names the model remembers
    run 0 eval --model r.nbm --data reg.csv
    cp out eval.txt
    has out "in standardised target units"
    has out "RMSE"
    has out "overall"
    run 0 eval --model r.nbm --data reg.csv --target-columns y,z
    diff <(grep -v '^model' out) <(grep -v '^model' eval.txt) || fail "told and untold eval differ"
    # predict drops y and z by itself and writes values in the targets' units
    run 0 predict --model r.nbm --data reg.csv --out p.csv
    head -1 p.csv | grep -qx 'y,z' || fail "header $(head -1 p.csv)"
    "$PYTHON" - <<'PY' || fail "metrics differ from a direct computation"
import csv, math
data = list(csv.DictReader(open("reg.csv")))
pred = list(csv.DictReader(open("p.csv")))
assert len(pred) == len(data) == 300
want = {}
for c in "yz":
    t = [float(r[c]) for r in data]
    y = [float(r[c]) for r in pred]
    n = len(t); m = sum(t) / n
    sse = sum((a - b) ** 2 for a, b in zip(y, t)); sst = sum((b - m) ** 2 for b in t)
    want[c] = (math.sqrt(sse / n), sum(abs(a - b) for a, b in zip(y, t)) / n, 1 - sse / sst)
# the predictions are in the targets' units, and fit them
assert abs(sum(float(r["y"]) for r in pred) / 300 - 100) < 3, "y not in its units"
assert abs(sum(float(r["z"]) for r in pred) / 300 + 50) < 1, "z not in its units"
assert want["y"][2] > 0.9, want
got = {}
for line in open("eval.txt"):
    f = line.split()
    if f and f[0] in ("y", "z", "overall"):
        got[f[0]] = tuple(map(float, f[1:4]))
for c in "yz":
    for g, w in zip(got[c], want[c]):
        assert abs(g - w) <= 2e-5 * max(1, abs(w)), (c, got[c], want[c])
rm = math.sqrt((want["y"][0] ** 2 + want["z"][0] ** 2) / 2)
ma = (want["y"][1] + want["z"][1]) / 2
r2 = (want["y"][2] + want["z"][2]) / 2
for g, w in zip(got["overall"], (rm, ma, r2)):
    assert abs(g - w) <= 2e-5 * max(1, abs(w)), (got["overall"], rm, ma, r2)
PY
    # a file without the target columns: predict reads every column as a feature
    cut -d, -f1,2 reg.csv >features.csv
    run 0 predict --model r.nbm --data features.csv --out p2.csv
    cmp -s p.csv p2.csv || fail "predictions differ without the target columns"
    run 2 eval --model r.nbm --data features.csv
    has err "lacks the model's target columns 'y,z'"
    one_line
    run 2 train --data reg.csv --label-column y --standardize-targets --layers 2 --out x.nbm
    run 2 train --data reg.csv --target-columns y --loss bce --standardize-targets --layers 1 --out x.nbm
    has err "--standardize-targets is for regression targets"
    ;;
columns)
    blobs
    run 0 train --data blobs.csv --label-column species --layers 8:relu,3 --epochs 2 --out m.nbm
    # the label column is dropped (predict) or used (eval) without being named
    run 0 predict --model m.nbm --data blobs.csv --out p.csv
    head -1 p.csv | grep -qx 'setosa,versicolor,virginica,class' || fail "header $(head -1 p.csv)"
    run 0 eval --model m.nbm --data blobs.csv
    has out "accuracy"
    # renamed and reordered columns: the first mismatch is named
    sed '1s/x2/width/' blobs.csv >renamed.csv
    run 1 eval --model m.nbm --data renamed.csv
    has err "renamed.csv: feature column 3 is 'width' but the model was trained on 'x2' there (its features: x0, x1, x2, x3)"
    one_line
    awk -F, -v OFS=, '{print $2,$1,$3,$4,$5}' blobs.csv >swapped.csv
    run 1 predict --model m.nbm --data swapped.csv --out q.csv
    has err "feature column 1 is 'x1' but the model was trained on 'x0'"
    [ ! -e q.csv ] || fail "predictions written"
    awk -F, -v OFS=, '{print $1,$2,$3,$4,"7",$5}' blobs.csv | sed '1s/,7,/,extra,/' >wide.csv
    run 1 predict --model m.nbm --data wide.csv --out q.csv
    has err "column 'extra' is not one of the model's features"
    cut -d, -f1-3,5 blobs.csv >short.csv
    run 1 predict --model m.nbm --data short.csv --out q.csv
    has err "the feature column 'x3' the model was trained on is missing"
    ;;
label_refused)
    "$PYTHON" - <<'PY'
import random
r = random.Random(3)
with open("houses.csv", "w") as f, open("ints.csv", "w") as g:
    f.write("rooms,area,price\n"); g.write("rooms,area,price\n")
    for i in range(200):
        rooms, area = r.randint(1, 6), r.uniform(30, 200)
        f.write(f"{rooms},{area:.1f},{1000 * area + r.gauss(0, 5000):.2f}\n")
        g.write(f"{rooms},{area:.1f},{int(1000 * area)}\n")
PY
    run 2 train --data houses.csv --label-column price --layers 8,3 --out m.nbm
    has err "--label-column price holds non-integer numbers"
    has err "for regression use --target-columns price"
    one_line
    run 2 train --data ints.csv --label-column price --layers 8,3 --out m.nbm
    has err "distinct values in 200 rows"
    has err "--target-columns price"
    one_line
    [ ! -e m.nbm ] || fail "model written"
    run 0 train --data houses.csv --label-column rooms --layers 8,7 --epochs 1 --out m.nbm
    ;;
progress_tty)
    # On a terminal the progress line is redrawn in place; an error must still start a line.
    blobs
    script -qec "'$NABLAS' train --data blobs.csv --label-column species --layers 16:relu,3 \
        --epochs 50 --lr 1e6 --out m.nbm" /dev/null >tty.out 2>&1
    [ $? -ne 0 ] || fail "diverging training succeeded"
    grep -q $'\033\\[K' tty.out || fail "no redrawn progress line: $(cat -v tty.out)"
    "$PYTHON" - <<'PY' || fail "error message not on its own line: $(cat -v tty.out)"
lines = open("tty.out", encoding="utf-8", errors="replace").read().split("\n")
err = [l for l in lines if "nablas train:" in l]
assert len(err) == 1 and err[0].lstrip("\r").startswith("nablas train:"), err
PY
    [ ! -e m.nbm ] || fail "model written"
    ;;
safetensors)
    blobs
    run 0 train --data blobs.csv --label-column species --layers 16:relu,3 --epochs 3 --out m.nbm
    run 0 export m.nbm m.safetensors
    has out "exported 2 layers (131 parameters) to m.safetensors as 0.* 2.*"
    run 0 import m.safetensors --layers 16:relu,3 --loss softmax-ce --out back.nbm
    has out "imported 4-16:relu,3:identity network (131 parameters)"
    run 0 predict --model m.nbm --data blobs.csv --label-column species --out a.npy
    run 0 predict --model back.nbm --data blobs.csv --label-column species --out b.npy
    cmp -s a.npy b.npy || fail "predictions differ after export + import"
    # a standardised model: folded into the first layer, the same outputs from raw inputs
    train_blobs
    run 0 export m.nbm m.safetensors
    has out "standardisation folded into layer 0"
    run 0 import m.safetensors --layers 16:relu,3 --loss softmax-ce --out back.nbm
    run 0 predict --model m.nbm --data blobs.csv --label-column species --out a.csv
    run 0 predict --model back.nbm --data blobs.csv --label-column species --out b.csv
    "$PYTHON" - <<'PY' || fail "standardised predictions differ"
import csv
a = [list(map(float, r[:3])) for r in list(csv.reader(open("a.csv")))[1:]]
b = [list(map(float, r[:3])) for r in list(csv.reader(open("b.csv")))[1:]]
assert len(a) == len(b) == 300
assert max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)) <= 1e-5
PY
    # errors: one line on stderr, status 1 (data) or 2 (usage)
    run 2 export m.nbm
    run 2 export m.nbm a b
    run 2 export --frobnicate m.nbm m.safetensors
    run 1 export missing.nbm x.safetensors
    one_line; has err "cannot read model missing.nbm"
    run 1 export m.nbm /nonexistent-dir/x.safetensors
    one_line; has err "cannot write /nonexistent-dir/x.safetensors"
    run 2 import m.safetensors --out x.nbm
    run 2 import m.safetensors --layers 16:relu,3 --out x.nbm --loss hinge
    run 2 import m.safetensors --layers 16:relu,3:relu --loss softmax-ce --out x.nbm
    run 1 import m.safetensors --layers 8:relu,3 --out x.nbm
    one_line; has err "do not fit --layers 8:relu,3"
    run 1 import m.safetensors --layers 16:relu,3,2 --out x.nbm
    one_line
    run 1 import missing.safetensors --layers 3 --out x.nbm
    one_line; has err "cannot read missing.safetensors"
    head -c 100 m.safetensors > cut.safetensors
    run 1 import cut.safetensors --layers 16:relu,3 --out x.nbm
    one_line; has err "the file is truncated"
    printf 'not a safetensors file at all' > junk.safetensors
    run 1 import junk.safetensors --layers 16:relu,3 --out x.nbm
    one_line; has err "header length exceeds 100000000 bytes"
    [ ! -e x.nbm ] || fail "a model was written after an error"
    ;;
*)
    fail "unknown case"
    ;;
esac
rm -rf "$work"
echo "ok $case_name"
