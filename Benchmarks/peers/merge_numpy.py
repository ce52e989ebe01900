"""Peer of `pvec-bench merge DIR`: the same merges in numpy (float32) on the same .npy files.

Each method is written the way a numpy user would write it, vectorised over a stacked
[N, rows, width] array (stacking is done once, outside the timed region: numpy's best case).
DARE draws its drop mask from SplitMix64 (vectorised in uint64), as pvec does, so both
sides drop the same entries and the results can be compared. Prints one JSON line per case
with the median and best wall time, and the max |difference| from pvec's DIR/out/CASE.npy.

usage: python3 merge_numpy.py DIR [--runs N]
"""
import argparse
import glob
import json
import math
import os
import statistics
import time

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


def splitmix_uniform(seed, n):
    """The first n draws of SplitMix64(seed), as float32 top-24-bit uniforms in [0, 1)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + GAMMA * np.arange(1, n + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def linear(x, w):
    return np.tensordot(w, x, axes=1) / w.sum()


def task_arithmetic(x, w, lam):
    return lam * np.tensordot(w, x, axes=1)


def trim(x, density):
    """Keep the round(density * D) largest |x| of each operand (flattened), zero the rest."""
    n = x.shape[0]
    flat = x.reshape(n, -1)
    d = flat.shape[1]
    k = int(math.floor(density * d + 0.5))
    if k >= d:
        return x
    out = np.zeros_like(flat)
    if k > 0:
        idx = np.argpartition(-np.abs(flat), k - 1, axis=1)[:, :k]
        np.put_along_axis(out, idx, np.take_along_axis(flat, idx, axis=1), axis=1)
    return out.reshape(x.shape)


def elect_and_mean(t, lam):
    elected = np.sign(t.sum(axis=0))
    agree = (np.sign(t) == elected) & (t != 0)
    count = agree.sum(axis=0)
    total = np.where(agree, t, np.float32(0)).sum(axis=0)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return lam * mean


def ties(x, density, lam):
    return elect_and_mean(trim(x, density), lam)


def dare(x, p, seed, lam, use_ties):
    u = splitmix_uniform(seed, x.size).reshape(x.shape)
    sparse = np.where(u < np.float32(p), np.float32(0), x * np.float32(1 / np.float32(1 - np.float32(p))))
    return elect_and_mean(sparse, lam) if use_ties else lam * sparse.sum(axis=0)


def slerp(a, b, t):
    af, bf = a.ravel(), b.ravel()
    cos = float(af @ bf) / (float(np.linalg.norm(af)) * float(np.linalg.norm(bf)))
    if abs(cos) > 0.9995:
        return (1 - t) * a + t * b
    omega = math.acos(max(-1.0, min(1.0, cos)))
    s = math.sin(omega)
    return np.float32(math.sin((1 - t) * omega) / s) * a + np.float32(math.sin(t * omega) / s) * b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.dir, "in", "v*.npy")))
    x = np.stack([np.load(f).astype(np.float32) for f in files])
    n = x.shape[0]
    w = (np.arange(1, n + 1, dtype=np.float32) / np.float32(10)).astype(np.float32)
    cases = [
        ("linear", n, lambda: linear(x, w)),
        ("task-arithmetic", n, lambda: task_arithmetic(x, w, np.float32(0.5))),
        ("ties", n, lambda: ties(x, 0.2, np.float32(1))),
        ("dare", n, lambda: dare(x, 0.9, 7, np.float32(1), False)),
        ("dare-ties", n, lambda: dare(x, 0.9, 7, np.float32(1), True)),
        ("slerp", 2, lambda: slerp(x[0], x[1], 0.3)),
        ("magnitude-prune", 1, lambda: trim(x[:1], 0.2)[0]),
    ]
    for name, operands, fn in cases:
        for _ in range(2):
            out = fn()
        samples = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            out = fn()
            samples.append(time.perf_counter() - t0)
        samples.sort()
        ref = np.load(os.path.join(args.dir, "out", name + ".npy"))
        print(json.dumps({
            "bench": "merge", "impl": "numpy", "case": name, "operands": operands, "runs": args.runs,
            "median_ms": round(samples[len(samples) // 2] * 1e3, 3), "min_ms": round(samples[0] * 1e3, 3),
            "maxdiff": float(np.abs(np.asarray(out, dtype=np.float32) - ref).max()),
        }, sort_keys=True))


if __name__ == "__main__":
    main()
