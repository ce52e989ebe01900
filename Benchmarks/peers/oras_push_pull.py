"""The ORAS peer of Benchmarks/oci.sh: push or pull one artifact per file with the Python
`oras` client, in one process (start-up is paid once, as pvec pays it once).

    python3 oras_push_pull.py push HOST:PORT/REPO DIR    # DIR/*.safetensors, tag = file stem
    python3 oras_push_pull.py pull HOST:PORT/REPO DIR OUT
"""
import os
import sys

import oras.client


def main():
    mode, target, src = sys.argv[1], sys.argv[2], sys.argv[3]
    host = target.split("/", 1)[0]
    client = oras.client.OrasClient(hostname=host, insecure=True)
    names = sorted(f for f in os.listdir(src) if f.endswith(".safetensors"))
    if mode == "push":
        # oras pushes files by relative path; run from the folder so layer titles are names.
        os.chdir(src)
        for f in names:
            client.push(target=f"{target}:{f[:-len('.safetensors')]}", files=[f], quiet=True)
    elif mode == "pull":
        out = sys.argv[4]
        os.makedirs(out, exist_ok=True)
        for f in names:
            client.pull(target=f"{target}:{f[:-len('.safetensors')]}", outdir=out)
    else:
        sys.exit(f"unknown mode {mode}")
    print(len(names))


if __name__ == "__main__":
    main()
