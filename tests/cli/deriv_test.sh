#!/bin/bash
# End-to-end cases of `nablas predict --jacobian`; run by meson test with $NABLAS, $PYTHON and
# $SRC set, as cli_test.sh.  Usage: deriv_test.sh CASE
. "$(dirname "$0")/harness.sh"
regression_model() {
    "$PYTHON" "$SRC/tools/make_regression.py" --rows 400 --seed 3 reg.csv
    run 0 train --data reg.csv --target-columns price,rent --layers 16:tanh,16:tanh,2 \
        --standardize --standardize-targets --epochs 30 --lr 0.05 --seed 1 --out r.nbm
}
blobs_model() {
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 blobs.csv
    run 0 train --data blobs.csv --label-column species --layers 16:tanh,3 --epochs 10 \
        --batch 16 --lr 0.05 --seed 3 --standardize --out c.nbm
}

# float32 NPY files read without NumPy (the test's Python may lack it)
cat >npy.py <<'PY'
import ast, struct
def load(path):
    b = open(path, "rb").read()
    assert b[:8] == b"\x93NUMPY\x01\x00", b[:8]
    hlen = struct.unpack("<H", b[8:10])[0]
    h = ast.literal_eval(b[10:10 + hlen].decode())
    assert h["descr"] == "<f4" and not h["fortran_order"]
    n = 1
    for d in h["shape"]:
        n *= d
    return h["shape"], struct.unpack("<%df" % n, b[10 + hlen:10 + hlen + 4 * n])
PY

case $case_name in
jacobian_regression)
    # the Jacobian in the data's units against central differences of predict's own outputs
    regression_model
    head -21 reg.csv >rows.csv
    run 0 predict --model r.nbm --data rows.csv --out y.csv --jacobian J.npy
    has out "20 Jacobians (2 x 3) written to J.npy"
    "$PYTHON" - <<'PY' || fail "perturbed rows"
import csv
rows = list(csv.DictReader(open("rows.csv")))
feats = ["area", "rooms", "age"]
with open("pert.csv", "w") as f:
    f.write(",".join(feats) + "\n")
    for r in rows:
        for j, c in enumerate(feats):
            for s in (1, -1):
                x = [float(r[k]) for k in feats]
                x[j] += s * 1e-2 * max(1.0, abs(x[j]))
                f.write(",".join("%.9g" % v for v in x) + "\n")
PY
    run 0 predict --model r.nbm --data pert.csv --out yp.npy
    "$PYTHON" - <<'PY' || fail "Jacobian differs from finite differences"
import csv, npy
shape, J = npy.load("J.npy")
assert shape == (20, 2, 3), shape
_, yp = npy.load("yp.npy")  # row b, input j, +/- s, output i at ((b * 3 + j) * 2 + s) * 2 + i
rows = list(csv.DictReader(open("rows.csv")))
feats = ["area", "rooms", "age"]
worst = 0.0
for b, r in enumerate(rows):
    d, scale = 0.0, 0.0
    for j, c in enumerate(feats):
        h = 1e-2 * max(1.0, abs(float(r[c])))
        for i in range(2):
            fd = (yp[((b * 3 + j) * 2) * 2 + i] - yp[((b * 3 + j) * 2 + 1) * 2 + i]) / (2 * h)
            d = max(d, abs(J[(b * 2 + i) * 3 + j] - fd))
            scale = max(scale, abs(fd))
    worst = max(worst, d / scale)
print("worst relative difference", worst)
assert worst < 2e-2, worst
PY
    ;;
jacobian_classifier)
    # probabilities (the default) = (diag(p) - p p^T) logits' Jacobian, columns summing to 0
    blobs_model
    run 0 predict --model c.nbm --data blobs.csv --label-column species --out p.npy \
        --jacobian Jp.npy
    run 0 predict --model c.nbm --data blobs.csv --label-column species --jacobian Jl.npy \
        --jacobian-of logits
    has out "300 Jacobians (3 x 4) written to Jl.npy"
    [ ! -e p2.npy ] || fail "unexpected output"
    "$PYTHON" - <<'PY' || fail "probabilities' Jacobian"
import npy
(_, p), (sp, Jp), (sl, Jl) = npy.load("p.npy"), npy.load("Jp.npy"), npy.load("Jl.npy")
assert sp == sl == (300, 3, 4), (sp, sl)
err, big = 0.0, max(abs(v) for v in Jp)
for b in range(300):
    pb = p[3 * b:3 * b + 3]
    for i in range(3):
        for k in range(4):
            ref = sum(((i == j) * pb[i] - pb[i] * pb[j]) * Jl[(b * 3 + j) * 4 + k]
                      for j in range(3))
            err = max(err, abs(Jp[(b * 3 + i) * 4 + k] - ref))
    for k in range(4):  # probabilities sum to 1: their derivatives to 0
        assert abs(sum(Jp[(b * 3 + i) * 4 + k] for i in range(3))) < 1e-6 * big
print("relative difference", err / big)
assert err / big < 1e-5, err / big
assert max(abs(v) for v in Jl) > 0
PY
    ;;
jacobian_errors)
    regression_model
    run 2 predict --model r.nbm --data reg.csv --jacobian J.csv
    has err "--jacobian must name a .npy file"
    run 2 predict --model r.nbm --data reg.csv --out y.npy --jacobian-of logits
    has err "--jacobian-of needs --jacobian"
    run 2 predict --model r.nbm --data reg.csv --jacobian J.npy --jacobian-of logits
    has err "is not a classifier"
    run 2 predict --model r.nbm --data reg.csv
    has err "is required"
    run 2 predict --model r.nbm --data reg.csv --out J.npy --jacobian J.npy
    run 2 predict --model r.nbm --data reg.csv --jacobian reg.csv.npy --out reg.csv
    blobs_model
    run 2 predict --model c.nbm --data blobs.csv --label-column species --jacobian J.npy \
        --jacobian-of softmax
    has err "probabilities or logits"
    [ ! -e J.npy ] || fail "J.npy written by a refused command"
    ;;
*)
    fail "unknown case"
    ;;
esac
exit 0
