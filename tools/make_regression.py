#!/usr/bin/env python3
"""Writes a small CSV regression table for trying out `nablas`: features `area`, `rooms`,
`age` and two targets in their own units, `price` (thousands) and `rent` (per month), smooth
non-linear functions of the features plus noise.

usage: tools/make_regression.py [--rows N] [--seed S] OUT.csv
"""
import argparse
import math
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.out, "w") as f:
        f.write("area,rooms,age,price,rent\n")
        for _ in range(args.rows):
            area = rng.uniform(30, 200)
            rooms = rng.randint(1, 6)
            age = rng.uniform(0, 80)
            price = 150 + 2.2 * area + 15 * rooms - 40 * math.log1p(age) + rng.gauss(0, 10)
            rent = 300 + 9 * area + 60 * math.sqrt(rooms) - 2 * age + rng.gauss(0, 40)
            f.write(f"{area:.1f},{rooms},{age:.1f},{price:.2f},{rent:.2f}\n")


if __name__ == "__main__":
    main()
