"""Peer of `pvec add a b --lambda L --name c` + `pvec export c --out OUT`.

Loads the two tuned prompts and their init from safetensors files, forms the task vectors
tau = tuned - init, computes lambda * (tau_a + tau_b) and writes it as safetensors.

usage: python3 add_export.py A.safetensors B.safetensors INIT.safetensors OUT.safetensors LAMBDA
"""
import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def main():
    a_path, b_path, i_path, out_path, lam = sys.argv[1:6]
    a = load_file(a_path)["tensor"]
    b = load_file(b_path)["tensor"]
    init = load_file(i_path)["tensor"]
    c = np.float32(lam) * ((a - init) + (b - init))
    if not np.isfinite(c).all():
        sys.exit("result is not finite")
    save_file({"tensor": c}, out_path)


if __name__ == "__main__":
    main()
