#!/usr/bin/python3
"""Compares `nablas train` with only its defaults against scikit-learn's MLPClassifier() and
MLPRegressor() with theirs, on raw iris (classification) and raw diabetes (regression, the
targets as they are), on the same splits: train_test_split(test_size=0.25, random_state=s) for
each seed s.  Prints the Markdown table of docs/defaults-vs-sklearn.md.

    /usr/bin/python3 tools/compare-sklearn.py NABLAS [--seeds 0,1,2,3,4]
    /usr/bin/python3 tools/compare-sklearn.py --csv DIR [--seeds S]

The second form only writes the split of seed S (default 0) as DIR/iris_train.csv,
iris_test.csv, diabetes_train.csv and diabetes_test.csv (docs/first-hour.md starts from them).

NABLAS is the built program (build/src/cli/nablas).  scikit-learn (python3-sklearn, installed
by tools/setup.sh) reads both data sets from its own package: nothing is downloaded.  nablas is
given --data, the target and --out only; scikit-learn's models only random_state=s (their
default None would make the table unrepeatable), so both vary their split and scikit-learn its
initialisation with the seed, while nablas keeps its default --seed 0.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import warnings

from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor


def write_csv(path, X, y, names, target):
    with open(path, "w") as f:
        f.write(",".join(list(names) + [target]) + "\n")
        for row, t in zip(X, y):
            f.write(",".join("%.17g" % v for v in row) + "," + str(t) + "\n")


EXTRA = []  # --nablas-args: options added to both trainings (to try other settings)


def nablas(prog, args):
    if args[0] == "train":
        args = args + EXTRA
    r = subprocess.run([prog] + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("compare-sklearn: nablas %s failed (%d):\n%s" % (" ".join(args), r.returncode,
                                                                 r.stderr))
    return r.stdout


def iris_csv(seed, tmp):
    d = load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    Xtr, Xte, ytr, yte = train_test_split(d.data, d.target, test_size=0.25, random_state=seed)
    tr, te = (os.path.join(tmp, f) for f in ("iris_train.csv", "iris_test.csv"))
    write_csv(tr, Xtr, [d.target_names[i] for i in ytr], names, "species")
    write_csv(te, Xte, [d.target_names[i] for i in yte], names, "species")
    return Xtr, Xte, ytr, yte, tr, te


def diabetes_csv(seed, tmp):
    d = load_diabetes(scaled=False)
    Xtr, Xte, ytr, yte = train_test_split(d.data, d.target, test_size=0.25, random_state=seed)
    tr, te = (os.path.join(tmp, f) for f in ("diabetes_train.csv", "diabetes_test.csv"))
    write_csv(tr, Xtr, ["%g" % t for t in ytr], d.feature_names, "progression")
    write_csv(te, Xte, ["%g" % t for t in yte], d.feature_names, "progression")
    return Xtr, Xte, ytr, yte, tr, te


def iris(prog, seed, tmp):
    Xtr, Xte, ytr, yte, tr, te = iris_csv(seed, tmp)
    m = os.path.join(tmp, "iris.nbm")
    nablas(prog, ["train", "--data", tr, "--label-column", "species", "--out", m])
    out = nablas(prog, ["eval", "--model", m, "--data", te, "--label-column", "species"])
    ours = float(re.search(r"^accuracy\s+([0-9.]+)%", out, re.M).group(1)) / 100
    theirs = MLPClassifier(random_state=seed).fit(Xtr, ytr).score(Xte, yte)
    return ours, theirs


def diabetes(prog, seed, tmp):
    Xtr, Xte, ytr, yte, tr, te = diabetes_csv(seed, tmp)
    m = os.path.join(tmp, "diabetes.nbm")
    nablas(prog, ["train", "--data", tr, "--target-columns", "progression", "--out", m])
    out = nablas(prog, ["eval", "--model", m, "--data", te, "--target-columns", "progression"])
    ours = float(re.search(r"^overall\s+\S+\s+\S+\s+(\S+)", out, re.M).group(1))
    theirs = MLPRegressor(random_state=seed).fit(Xtr, ytr).score(Xte, yte)
    return ours, theirs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("nablas", nargs="?")
    ap.add_argument("--seeds", default=None)
    ap.add_argument("--csv", metavar="DIR", help="only write the CSV files of one split")
    ap.add_argument("--nablas-args", default="", help="options added to both `nablas train`s")
    a = ap.parse_args()
    EXTRA.extend(a.nablas_args.split())
    if a.csv:
        seed = int(a.seeds or "0")
        for name, make in (("iris", iris_csv), ("diabetes", diabetes_csv)):
            Xtr, Xte = make(seed, a.csv)[:2]
            print("%s: %d training rows, %d test rows, %d features" % (name, len(Xtr), len(Xte),
                                                                      Xtr.shape[1]))
        return
    if not a.nablas:
        ap.error("give NABLAS (the program) or --csv DIR")
    seeds = [int(s) for s in (a.seeds or "0,1,2,3,4").split(",")]
    warnings.simplefilter("ignore", ConvergenceWarning)  # 200 iterations, as their default
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in seeds:
            rows.append((s, iris(a.nablas, s, tmp), diabetes(a.nablas, s, tmp)))
    print("| seed | iris: nablas accuracy | iris: MLPClassifier() | diabetes: nablas R² "
          "| diabetes: MLPRegressor() R² |")
    print("|---:|---:|---:|---:|---:|")
    for s, (ia, ib), (da, db) in rows:
        print("| %d | %.4f | %.4f | %.4f | %.4f |" % (s, ia, ib, da, db))
    mean = lambda k, i: sum(r[k][i] for r in rows) / len(rows)
    print("| mean | %.4f | %.4f | %.4f | %.4f |" % (mean(1, 0), mean(1, 1), mean(2, 0),
                                                   mean(2, 1)))


if __name__ == "__main__":
    main()
