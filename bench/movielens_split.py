#!/usr/bin/python3
"""Writes the train/test split that ../shared/peers/torch_mf.py makes internally,
so that Tessera trains and tests on exactly the reference's split.

torch_mf.py reads the ratings file in order, draws perm = numpy default_rng(seed)
.permutation(n) and takes the first round(n * test_frac) indices as the test set.
This script does the same and writes the lines (unchanged) to OUT/train and
OUT/test, each in file order.

  bench/movielens_split.py u.data OUTDIR [--seed 0] [--test-frac 0.2]
"""
import argparse
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-frac", type=float, default=0.2)
    args = ap.parse_args()
    with open(args.data, "rb") as f:
        lines = [line for line in f.read().split(b"\n") if line.strip()]
    n = len(lines)
    perm = np.random.default_rng(args.seed).permutation(n)
    n_te = int(round(n * args.test_frac))
    test = np.zeros(n, dtype=bool)
    test[perm[:n_te]] = True
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "train"), "wb") as tr, \
            open(os.path.join(args.out, "test"), "wb") as te:
        for i, line in enumerate(lines):
            (te if test[i] else tr).write(line + b"\n")
    print(f"{n} ratings: {n - n_te} train, {n_te} test -> {args.out}")


if __name__ == "__main__":
    main()
