#!/usr/bin/env python3
"""Writes fixtures/algebra/: inputs and reference outputs for Tests/PVecAlgebraTests.

numpy only. Each method is implemented here from its paper, independently of the Swift code,
and computed in float64 (the Swift side works in float32 with a fixed order, so it is compared
within a tolerance). Results that are exact by construction (seeded inits, DARE drop masks,
TIES on integer-valued inputs, single elementwise operations) are stored as float32 and
compared bit for bit.

Layout: cases.json lists every case (method, parameters, input and expected file names);
arrays are .npy files beside it. Run from the repository root:
    python3 scripts/make_merge_fixtures.py
"""
import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "algebra")
MASK64 = (1 << 64) - 1


class SplitMix64:
    """Steele, Lea, Flood 2014, as in Vigna's splitmix64.c."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_float01(self):
        """Top 24 bits times 2^-24 (exact in float32 and float64)."""
        return (self.next() >> 40) * 2.0 ** -24

    def next_below(self, n):
        """Lemire's multiply-shift with rejection."""
        m = self.next() * n
        if (m & MASK64) < n:
            threshold = ((1 << 64) - n) % n
            while (m & MASK64) < threshold:
                m = self.next() * n
        return m >> 64


def f32(x):
    return float(np.float32(x))


# ------------------------------------------------------------------ methods (float64)

def task_sum(taus, lam):
    return lam * np.sum([t.astype(np.float64) for t in taus], axis=0)


def linear(xs, weights):
    w = np.array(weights, dtype=np.float64)
    return np.tensordot(w, np.stack(xs).astype(np.float64), axes=1) / w.sum()


def task_arithmetic(taus, weights, lam):
    w = np.array(weights, dtype=np.float64)
    return lam * np.tensordot(w, np.stack(taus).astype(np.float64), axes=1)


def top_k_mask(x, density):
    """Keep round(density * D) largest |x|, ties by lower flat index first."""
    flat = x.reshape(-1).astype(np.float64)
    d = flat.size
    k = min(d, int(math.floor(f32(density) * d + 0.5)))
    order = sorted(range(d), key=lambda j: (-abs(flat[j]), j))
    mask = np.zeros(d, dtype=bool)
    mask[order[:k]] = True
    return mask.reshape(x.shape)


def prune(x, density):
    return np.where(top_k_mask(x, density), x.astype(np.float64), 0.0)


def elect_and_mean(trimmed, lam):
    t = np.stack(trimmed)
    elected = np.sign(t.sum(axis=0))
    agree = (np.sign(t) == elected[None]) & (t != 0)
    count = agree.sum(axis=0)
    total = np.where(agree, t, 0.0).sum(axis=0)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return lam * mean


def ties(taus, density, lam):
    """Yadav et al. 2023: trim, elect sign, disjoint mean, scale."""
    return elect_and_mean([prune(t, density) for t in taus], lam)


def dare_masks(taus, p, seed):
    """True where an entry is kept; one generator, taus in order, entries row-major."""
    g = SplitMix64(seed)
    p32 = f32(p)
    return [np.array([not (g.next_float01() < p32) for _ in range(t.size)]).reshape(t.shape) for t in taus]


def dare(taus, p, seed, lam, use_ties):
    masks = dare_masks(taus, p, seed)
    sparse = [np.where(m, t.astype(np.float64) / (1.0 - f32(p)), 0.0) for m, t in zip(masks, taus)]
    merged = elect_and_mean(sparse, lam) if use_ties else lam * np.sum(sparse, axis=0)
    return masks, sparse, merged


def slerp(a, b, t):
    """Shoemake 1985 on flattened tensors; lerp when nearly (anti)parallel."""
    a64, b64 = a.astype(np.float64).reshape(-1), b.astype(np.float64).reshape(-1)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    cos = 1.0 if na == 0 or nb == 0 else float(a64 @ b64) / (na * nb)
    if abs(cos) > 0.9995:
        out = (1 - t) * a64 + t * b64
    else:
        omega = math.acos(max(-1.0, min(1.0, cos)))
        s = math.sin(omega)
        out = math.sin((1 - t) * omega) / s * a64 + math.sin(t * omega) / s * b64
    return out.reshape(a.shape), cos


def cosine_matrix(xs):
    x = np.stack([v.astype(np.float64).reshape(-1) for v in xs])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x @ x.T


def uniform_init(rows, width, a, seed):
    g = SplitMix64(seed)
    u = np.array([g.next_float01() for _ in range(rows * width)], dtype=np.float32)
    # 2u - 1 is exact in float32; the product is the only rounding.
    return (np.float32(a) * (np.float32(2) * u - np.float32(1))).astype(np.float32).reshape(rows, width)


def vocab_sample(rows, table, first_k, seed):
    """Partial Fisher-Yates over the first K = min(first_k, V) row indices."""
    k = min(first_k, table.shape[0])
    g = SplitMix64(seed)
    idx = list(range(k))
    for i in range(rows):
        j = i + g.next_below(k - i)
        idx[i], idx[j] = idx[j], idx[i]
    return table[idx[:rows]].copy(), idx[:rows]


# ------------------------------------------------------------------ writing

def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2024)
    arrays = {}

    def put(name, arr, dtype):
        arrays[name] = np.asarray(arr).astype(dtype)
        return name + ".npy"

    small = [(0.1 * rng.standard_normal((4, 6))).astype(np.float32) for _ in range(3)]
    large = [(0.1 * rng.standard_normal((10, 8))).astype(np.float32) for _ in range(3)]
    ints = [rng.integers(-3, 4, size=(4, 6)).astype(np.float32) for _ in range(3)]
    init = (0.5 * (2 * rng.random((4, 6)) - 1)).astype(np.float32)
    tuned = (init + 0.1 * rng.standard_normal((4, 6))).astype(np.float32)
    table = rng.standard_normal((50, 8)).astype(np.float32)
    near = (small[0] * np.float32(1.0001) + np.float32(1e-6) * rng.standard_normal((4, 6))).astype(np.float32)

    inputs = {}
    for i, t in enumerate(small):
        inputs[f"small{i}"] = put(f"in_small{i}", t, "<f4")
    for i, t in enumerate(large):
        inputs[f"large{i}"] = put(f"in_large{i}", t, "<f4")
    for i, t in enumerate(ints):
        inputs[f"int{i}"] = put(f"in_int{i}", t, "<f4")
    inputs["init"] = put("in_init", init, "<f4")
    inputs["tuned"] = put("in_tuned", tuned, "<f4")
    inputs["table"] = put("in_table", table, "<f4")
    inputs["near_small0"] = put("in_near_small0", near, "<f4")

    S = ["small0", "small1", "small2"]
    L = ["large0", "large1", "large2"]
    I = ["int0", "int1", "int2"]
    cases = []

    def case(name, method, operands, params, expected, exact=False, dtype="<f8", extra=None):
        c = {"name": name, "method": method, "operands": operands, "params": params,
             "expected": put("out_" + name, expected, "<f4" if exact else dtype), "exact": exact}
        if extra:
            c.update(extra)
        cases.append(c)

    # Single elementwise operations are exact: float64 then float32 rounds once, correctly.
    case("difference", "difference", ["tuned", "init"], {},
         tuned.astype(np.float64) - init.astype(np.float64), exact=True)
    case("sum_small", "sum", S, {"lambda": 0.5}, task_sum(small, f32(0.5)))
    case("sum_large", "sum", L, {"lambda": -1.5}, task_sum(large, f32(-1.5)))
    case("onto", "onto", ["init"] + S, {"lambda": 0.5}, init.astype(np.float64) + task_sum(small, f32(0.5)))
    case("linear_weighted", "linear", L, {"weights": [0.2, 0.3, 0.5]},
         linear(large, [f32(w) for w in [0.2, 0.3, 0.5]]))
    case("linear_mean", "linear", S, {}, linear(small, [1, 1, 1]))
    case("task_arithmetic", "taskArithmetic", L, {"weights": [1.0, -0.5, 2.0], "lambda": 0.7},
         task_arithmetic(large, [1.0, -0.5, 2.0], f32(0.7)))
    # Pruning keeps values unchanged: exact.
    case("prune_small", "magnitudePrune", ["small0"], {"density": 0.3}, prune(small[0], 0.3), exact=True)
    case("prune_large", "magnitudePrune", ["large1"], {"density": 0.25}, prune(large[1], 0.25), exact=True)
    case("prune_int_ties", "magnitudePrune", ["int0"], {"density": 0.5}, prune(ints[0], 0.5), exact=True)
    case("ties_small", "ties", S, {"density": 0.5, "lambda": 1.0}, ties(small, 0.5, 1.0))
    case("ties_large", "ties", L, {"density": 0.2, "lambda": 0.8}, ties(large, 0.2, f32(0.8)))
    # Integer inputs: sums and the means (k/1, k/2, k/3 rounded once) are exact.
    case("ties_int", "ties", I, {"density": 0.4, "lambda": 1.0}, ties(ints, 0.4, 1.0), exact=True)

    masks, sparse, merged = dare(small, 0.3, 7, 1.0, False)
    case("dare_small", "dare", S, {"dropRate": 0.3, "seed": 7, "lambda": 1.0, "ties": False}, merged,
         extra={"masks": [put(f"mask_dare_small{i}", m, "<f4") for i, m in enumerate(masks)],
                "sparse": [put(f"sparse_dare_small{i}", s, "<f8") for i, s in enumerate(sparse)]})
    masks, sparse, merged = dare(large, 0.5, 42, 1.0, True)
    case("dare_ties_large", "dare", L, {"dropRate": 0.5, "seed": 42, "lambda": 1.0, "ties": True}, merged,
         extra={"masks": [put(f"mask_dare_ties_large{i}", m, "<f4") for i, m in enumerate(masks)],
                "sparse": [put(f"sparse_dare_ties_large{i}", s, "<f8") for i, s in enumerate(sparse)]})

    out, cos = slerp(small[0], small[1], f32(0.3))
    assert abs(cos) <= 0.9995
    case("slerp", "slerp", ["small0", "small1"], {"t": 0.3}, out)
    out, cos = slerp(large[2], large[0], f32(0.75))
    case("slerp_large", "slerp", ["large2", "large0"], {"t": 0.75}, out)
    out, cos = slerp(small[0], near, f32(0.6))
    assert abs(cos) > 0.9995
    case("slerp_lerp_fallback", "slerp", ["small0", "near_small0"], {"t": 0.6}, out)

    case("cosine_matrix", "cosineMatrix", L + ["large0"], {}, cosine_matrix(large + [large[0]]))

    case("uniform_init", "uniform", [], {"rows": 4, "width": 6, "range": 0.5, "seed": 7},
         uniform_init(4, 6, 0.5, 7), exact=True)
    case("uniform_init_wide", "uniform", [], {"rows": 3, "width": 384, "range": 0.25, "seed": 0},
         uniform_init(3, 384, 0.25, 0), exact=True)
    rows, idx = vocab_sample(10, table, 30, 11)
    case("vocab_sample", "vocabSample", ["table"], {"rows": 10, "firstK": 30, "seed": 11}, rows,
         exact=True, extra={"indices": idx})
    rows, idx = vocab_sample(50, table, 5000, 3)
    case("vocab_sample_all", "vocabSample", ["table"], {"rows": 50, "firstK": 5000, "seed": 3}, rows,
         exact=True, extra={"indices": idx})

    for name, arr in arrays.items():
        np.save(os.path.join(OUT, name + ".npy"), arr)
    doc = {"note": "written by scripts/make_merge_fixtures.py; do not edit", "inputs": inputs, "cases": cases}
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
