"""Peer of `pvec cos --matrix N1 ... N200`.

Loads every .safetensors file of a folder (sorted by name), flattens each tensor, normalises
the rows, takes one matrix product X X^T and prints the matrix with 4 decimals, as pvec does.

usage: python3 cos_matrix.py DIR
"""
import os
import sys

import numpy as np
from safetensors.numpy import load_file


def main():
    folder = sys.argv[1]
    names = sorted(n for n in os.listdir(folder) if n.endswith(".safetensors"))
    x = np.stack([load_file(os.path.join(folder, n))["tensor"].ravel() for n in names])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    c = np.clip(x @ x.T, -1.0, 1.0)
    np.savetxt(sys.stdout, c, fmt="%.4f")


if __name__ == "__main__":
    main()
