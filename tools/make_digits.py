#!/usr/bin/python3
"""Writes the 8x8 handwritten digits data set (1797 images, 64 pixels of 0..16, classes 0-9)
as CSV files for the nablas CLI: DIR/digits_train.csv (80%, from which `nablas train
--validation` holds out its validation rows) and DIR/digits_test.csv (20%, never seen in
training).  scikit-learn reads the data from its own package (python3-sklearn, installed by
`tools/setup.sh --digits`): nothing is downloaded.  The split is a fixed permutation (seed 0),
so the files are the same on every run.

    /usr/bin/python3 tools/make_digits.py [DIR]      (default: the current directory)
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits


def write(path, X, y):
    with open(path, "w") as f:
        f.write(",".join(f"p{i}" for i in range(X.shape[1])) + ",digit\n")
        for row, label in zip(X, y):
            f.write(",".join(str(int(v)) for v in row) + f",d{int(label)}\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    d = load_digits()
    X, y = d.data, d.target
    perm = np.random.default_rng(0).permutation(len(y))
    n_test = len(y) // 5
    test, train = perm[:n_test], perm[n_test:]
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "digits_train.csv"), X[train], y[train])
    write(os.path.join(out, "digits_test.csv"), X[test], y[test])
    print(f"wrote {len(train)} training and {len(test)} test rows to {out}")


if __name__ == "__main__":
    main()
