#!/usr/bin/env python3
"""Writes the reference fixtures under fixtures/tensor/ that Tests/PVecTensorTests reads.

numpy only. Everything here is computed independently of the Swift code:
  - safetensors files laid out by hand (struct + json), one per float dtype, plus a file
    with several tensors and metadata;
  - .npy files written by numpy itself (np.save, format.write_array v1.0 / v2.0,
    Fortran order, big-endian, an integer dtype);
  - float16 reference conversions by numpy's astype(np.float16), bfloat16 ones by an
    exact nearest-neighbour search in float64 (a different method from the Swift code);
  - SplitMix64 outputs from a plain Python implementation.

Run from the repository root:  python3 scripts/make_tensor_fixtures.py
"""
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tensor")
MASK64 = (1 << 64) - 1


def f32_bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


# ---------------------------------------------------------------- safetensors

def safetensors_bytes(tensors, dtype, metadata=None, pad_to=8):
    """tensors: list of (name, float32 array); laid out in the given order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, arr in tensors:
        if dtype == "F32":
            raw = arr.astype("<f4").tobytes()
        elif dtype == "F64":
            raw = arr.astype("<f8").tobytes()
        elif dtype == "F16":
            raw = arr.astype("<f2").tobytes()
        elif dtype == "BF16":
            raw = np.array(bf16_bits(arr.reshape(-1)), dtype="<u2").tobytes()
        else:
            raise ValueError(dtype)
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % pad_to)
    return struct.pack("<Q", len(text)) + text + data


def write_safetensors(expected):
    rng = np.random.default_rng(1234)
    # Values exactly representable in every dtype (k/8 with |k| < 256: 8 significant bits,
    # as many as bfloat16 has), so the expected Float32 bits are the same whatever the width.
    exact = (rng.integers(-255, 256, size=(3, 5)) / 8.0).astype(np.float32)
    for dtype in ["F32", "F16", "BF16", "F64"]:
        name = f"single_{dtype.lower()}.safetensors"
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(safetensors_bytes([("prompt_embeddings", exact)], dtype))
        expected[name] = {"prompt_embeddings": {"shape": [3, 5], "bits": f32_bits(exact)}}

    # F32 values with full mantissas; only F32 keeps them exactly.
    a = rng.standard_normal((2, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    s = np.array(3.5, dtype=np.float32)          # rank-0
    z = np.zeros((0, 3), dtype=np.float32)        # empty
    name = "multi_f32.safetensors"
    # Written deliberately out of name order: readers must use offsets, not key order.
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(safetensors_bytes([("b", b), ("a", a), ("scalar", s), ("empty", z)], "F32",
                                  metadata={"format": "pt", "source": "fixture"}))
    expected[name] = {
        "a": {"shape": [2, 4], "bits": f32_bits(a)},
        "b": {"shape": [4], "bits": f32_bits(b)},
        "scalar": {"shape": [], "bits": f32_bits(s)},
        "empty": {"shape": [0, 3], "bits": []},
    }


# ---------------------------------------------------------------- npy

def write_npy(expected):
    from numpy.lib import format as npformat
    rng = np.random.default_rng(99)
    m = rng.standard_normal((3, 4)).astype(np.float32)

    def save(name, arr, version=None):
        path = os.path.join(OUT, name)
        if version is None:
            np.save(path, arr)
        else:
            with open(path, "wb") as f:
                npformat.write_array(f, arr, version=version)

    save("v1_f4.npy", m)
    save("v2_f4.npy", m, version=(2, 0))
    save("v1_f2.npy", m.astype(np.float16))
    save("v1_f8.npy", m.astype(np.float64))
    save("be_f4.npy", m.astype(">f4"))
    save("be_f8.npy", m.astype(">f8"))
    save("be_f2.npy", m.astype(">f2"))
    save("fortran_f4.npy", np.asfortranarray(m))
    save("i4.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
    save("u1.npy", np.arange(6, dtype=np.uint8))
    save("scalar_f4.npy", np.array(2.5, dtype=np.float32))
    save("vector_f4.npy", m.reshape(-1))
    save("empty_f4.npy", np.zeros((0, 4), dtype=np.float32))
    expected["npy"] = {
        "matrix": {"shape": [3, 4], "bits": f32_bits(m)},
        "matrix_via_f16": {"shape": [3, 4], "bits": f32_bits(m.astype(np.float16).astype(np.float32))},
        "matrix_via_f64": {"shape": [3, 4], "bits": f32_bits(m.astype(np.float64).astype(np.float32))},
        "scalar": {"shape": [], "bits": f32_bits(np.float32(2.5))},
    }


# ---------------------------------------------------------------- 16-bit floats

def tricky_float32():
    vals = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 65504.0, 65519.996, 65520.0, 65536.0, 1e10, -1e10,
            np.inf, -np.inf, np.nan,
            2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 2.0 ** -26, 3 * 2.0 ** -25,
            2.0 ** -24 * 1.5, 2.0 ** -24 * 2.5, 6.1e-5, 5.96e-8, 1e-8, 1e-30, 1e-45,
            3.4028235e38, -3.4028235e38, 1.17549435e-38, 0.1, 0.2, 1.0 / 3.0, np.pi, -np.e]
    a = np.array(vals, dtype=np.float32)
    bits = list(a.view(np.uint32))
    # Exact ties between neighbouring halves (round to even) and near-ties.
    for h in [0x3C00, 0x3C01, 0x0001, 0x0002, 0x03FF, 0x7BFE, 0x7BFF, 0x4000, 0x4001]:
        f = np.array([h], dtype=np.uint16).view(np.float16).astype(np.float32).view(np.uint32)[0]
        half_ulp = 1 << 12 if h >= 0x0400 else None
        if half_ulp is not None:
            bits += [f + half_ulp, f + half_ulp - 1, f + half_ulp + 1]
    # Exact ties for bfloat16 (low 16 bits 0x8000) with even and odd kept parts.
    bits += [0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001, 0x7F7F8000, 0x7F7FFFFF, 0x00018000,
             0x00008000, 0x80008000, 0x807FFFFF]
    rng = np.random.default_rng(7)
    bits += list(rng.integers(0, 1 << 32, size=64, dtype=np.uint64))
    bits = np.array([int(b) for b in bits], dtype=np.uint32)
    # Only the canonical quiet NaN: payload handling of other NaNs is implementation-defined.
    nan_mask = np.isnan(bits.view(np.float32))
    bits[nan_mask] = 0x7FC00000
    return bits


def bf16_bits(a):
    """Round float32 values to bfloat16 by an exact nearest search (ties to even) in float64."""
    out = []
    for b in np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32):
        b = int(b)
        f = np.array([b], dtype=np.uint32).view(np.float32)[0]
        if np.isnan(f):
            out.append(((b >> 16) | 0x40) & 0xFFFF)
            continue
        if np.isinf(f):
            out.append(b >> 16)
            continue
        lo = b >> 16                      # truncated: toward zero in magnitude
        hi = lo + 1                       # next away from zero (may become inf: fine)
        flo = float(np.array([lo << 16], dtype=np.uint32).view(np.float32)[0])
        fhi = float(np.array([(hi << 16) & 0xFFFFFFFF], dtype=np.uint32).view(np.float32)[0])
        x = float(f)
        if (lo & 0x7F80) == 0x7F00 and (lo & 0x7F) == 0x7F:
            # The next value up is infinity: compare against where 2^128 would be.
            fhi = float(np.sign(x)) * 2.0 ** 128
        dlo, dhi = abs(x - flo), abs(fhi - x)
        if dlo < dhi or (dlo == dhi and lo % 2 == 0):
            out.append(lo)
        else:
            out.append(hi & 0xFFFF)
    return out


def write_float_conversions():
    bits = tricky_float32()
    f = bits.view(np.float32)
    with np.errstate(over="ignore"):
        f16 = f.astype(np.float16).view(np.uint16)
    bf = bf16_bits(f)
    # Decoding: a spread of half and bfloat16 patterns, including subnormals, inf and NaN.
    halves = sorted(set([0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00,
                         0xFC00, 0x7E00, 0x3555] + list(range(0, 0x10000, 257))))
    half_to_f32 = np.array(halves, dtype=np.uint16).view(np.float16).astype(np.float32).view(np.uint32)
    bhalves = [b for b in halves if not ((b & 0x7F80) == 0x7F80 and (b & 0x7F))]   # no NaNs
    b_to_f32 = [b << 16 for b in bhalves]
    doc = {
        "note": "f32 bits -> f16 bits (numpy astype) and bf16 bits (nearest, ties to even)",
        "f32": [int(x) for x in bits],
        "f16": [int(x) for x in f16],
        "bf16": [int(x) for x in bf],
        "decode_f16": [int(x) for x in halves],
        "decode_f16_f32": [int(x) for x in half_to_f32],
        "decode_bf16": [int(x) for x in bhalves],
        "decode_bf16_f32": [int(x) for x in b_to_f32],
    }
    with open(os.path.join(OUT, "float16.json"), "w") as fh:
        json.dump(doc, fh, indent=0)
        fh.write("\n")


# ---------------------------------------------------------------- SplitMix64

class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_float01(self):
        return (self.next() >> 40) * 2.0 ** -24

    def next_below(self, n):
        # Lemire's multiply-shift with rejection.
        m = self.next() * n
        low = m & MASK64
        if low < n:
            threshold = ((1 << 64) - n) % n
            while low < threshold:
                m = self.next() * n
                low = m & MASK64
        return m >> 64


def write_splitmix():
    doc = {}
    for seed in [0, 42, 0xFFFFFFFFFFFFFFFF]:
        g = SplitMix64(seed)
        nxt = [str(g.next()) for _ in range(8)]
        g = SplitMix64(seed)
        floats = [g.next_float01() for _ in range(8)]
        below = {}
        for n in [1, 7, 5000, 3 * 2 ** 62]:
            g = SplitMix64(seed)      # a fresh generator per bound
            below[str(n)] = [g.next_below(n) for _ in range(8)]
        doc[str(seed)] = {"next": nxt,
                          "nextFloat01_bits": f32_bits(np.array(floats, dtype=np.float32)),
                          "nextBelow": {k: [str(v) for v in vs] for k, vs in below.items()}}
    with open(os.path.join(OUT, "splitmix64.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    write_safetensors(expected)
    write_npy(expected)
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1, sort_keys=True)
        fh.write("\n")
    write_float_conversions()
    write_splitmix()


if __name__ == "__main__":
    main()
