#!/usr/bin/env python3
"""Writes fixtures/spectral/: inputs and reference outputs of the spectral merges (Iso-C,
TSV-M) and Model Stock, for Tests/PVecAlgebraTests/SpectralMergeTests.swift and the CLI test.

numpy only. Each method is written here from its paper, independently of the Swift code, in
float64 from float32 inputs; expected outputs are rounded to float32 once. Inputs are seeded
Gaussians (well-separated singular values, so the decompositions are unique up to the signs
of paired singular vectors, which none of the results depend on).

  Iso-C   (Marczak et al. 2025, §4.1):  D = sum tau_i = U S V^T;  alpha * mean(S) * U V^T
  TSV-M   (Gargiulo et al. 2025, §4):   keep k = floor(r / T) directions per task, concatenate
          U, S, V^T, replace U and V^T by their polar factors P Q^T, alpha * U' diag(S) V'^T
  Model Stock (Jang et al. 2024, eq. 7): c = mean pairwise cosine of the tau_i,
          t = N c / (1 + (N - 1) c);  t * mean(tau_i)

Run from the repository root:
    python3 scripts/make_spectral_fixtures.py
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "spectral")


def iso_c(taus, alpha):
    d = np.sum([t.astype(np.float64) for t in taus], axis=0)
    u, s, vt = np.linalg.svd(d, full_matrices=False)
    return alpha * s.mean() * (u @ vt)


def polar(x):
    p, _, qt = np.linalg.svd(x, full_matrices=False)
    return p @ qt


def tsv(taus, alpha):
    m, n = taus[0].shape
    k = min(m, n) // len(taus)
    us, ss, vts = [], [], []
    for t in taus:
        u, s, vt = np.linalg.svd(t.astype(np.float64), full_matrices=False)
        us.append(u[:, :k])
        ss.append(s[:k])
        vts.append(vt[:k, :])
    u = polar(np.concatenate(us, axis=1))
    vt = polar(np.concatenate(vts, axis=0))
    return alpha * (u @ np.diag(np.concatenate(ss)) @ vt)


def model_stock(taus):
    xs = [t.astype(np.float64).reshape(-1) for t in taus]
    n = len(xs)
    cosines = [xs[i] @ xs[j] / (np.linalg.norm(xs[i]) * np.linalg.norm(xs[j]))
               for i in range(n) for j in range(i + 1, n)]
    c = float(np.mean(cosines))
    t = n * c / (1 + (n - 1) * c)
    return t * np.mean([t_.astype(np.float64) for t_ in taus], axis=0), t


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20260514)
    inputs, cases = {}, []

    def add_input(name, array):
        array = np.ascontiguousarray(array, dtype=np.float32)
        np.save(os.path.join(OUT, f"in_{name}.npy"), array)
        inputs[name] = f"in_{name}.npy"
        return array

    def add_case(name, method, operands, params, expected, **extra):
        file = f"out_{name}.npy"
        np.save(os.path.join(OUT, file), np.ascontiguousarray(expected, dtype=np.float32))
        cases.append(dict(name=name, method=method, operands=operands, params=params, expected=file, **extra))

    # Wide prompts (rows < width, as prompts are) and tall ones (rows > width), so both
    # orientations of the row-major / column-major bookkeeping are checked.
    wide = [add_input(f"wide{i}", rng.standard_normal((8, 24)) * (0.5 + i)) for i in range(3)]
    tall = [add_input(f"tall{i}", rng.standard_normal((20, 6))) for i in range(2)]
    odd = [add_input(f"odd{i}", rng.standard_normal((5, 16))) for i in range(2)]
    # Runs of one task: a shared direction plus run noise (positive cosines, as Model Stock assumes).
    common = rng.standard_normal((8, 24))
    runs = [add_input(f"run{i}", common + 0.8 * rng.standard_normal((8, 24))) for i in range(3)]

    W = [f"wide{i}" for i in range(3)]
    add_case("iso_c_wide", "isoC", W, {"lambda": 1.0}, iso_c(wide, 1.0))
    add_case("iso_c_wide_alpha", "isoC", W[:2], {"lambda": 1.5}, iso_c(wide[:2], 1.5))
    add_case("iso_c_tall", "isoC", ["tall0", "tall1"], {"lambda": 1.0}, iso_c(tall, 1.0))
    add_case("tsv_wide", "tsv", W, {"lambda": 1.0}, tsv(wide, 1.0))          # r 8, k 2
    add_case("tsv_odd", "tsv", ["odd0", "odd1"], {"lambda": 1.3}, tsv(odd, 1.3))  # r 5, k 2
    add_case("tsv_tall", "tsv", ["tall0", "tall1"], {"lambda": 1.0}, tsv(tall, 1.0))  # r 6, k 3
    ms3, t3 = model_stock(runs)
    ms2, t2 = model_stock(runs[:2])
    add_case("model_stock_3", "modelStock", ["run0", "run1", "run2"], {}, ms3, ratio=t3)
    add_case("model_stock_2", "modelStock", ["run0", "run1"], {}, ms2, ratio=t2)

    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"generator": "scripts/make_spectral_fixtures.py", "inputs": inputs, "cases": cases},
                  f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
