#!/usr/bin/env python3
"""Writes a small CSV of Gaussian blobs for trying out `nablas`: FEATURES numeric columns
x0, x1, ... and a `species` label column with CLASSES class names.

usage: tools/make_blobs.py [--rows N] [--classes K] [--features F] [--seed S] OUT.csv
"""
import argparse
import random

NAMES = ["setosa", "versicolor", "virginica", "alba", "borealis", "carolina", "dentata", "elegans"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--features", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    # Class centres on a spread of +-4 per feature; unit spread around them, plus an offset and
    # scale per feature so that --standardize has something to do.
    centres = [[rng.uniform(-4, 4) for _ in range(args.features)] for _ in range(args.classes)]
    offset = [rng.uniform(-50, 50) for _ in range(args.features)]
    scale = [rng.choice([0.1, 1.0, 10.0]) for _ in range(args.features)]
    with open(args.out, "w") as f:
        f.write(",".join(f"x{j}" for j in range(args.features)) + ",species\n")
        for i in range(args.rows):
            k = i % args.classes
            x = [(offset[j] + (centres[k][j] + rng.gauss(0, 1.2)) * scale[j]) for j in range(args.features)]
            f.write(",".join(f"{v:.4f}" for v in x) + f",{NAMES[k % len(NAMES)]}\n")


if __name__ == "__main__":
    main()
