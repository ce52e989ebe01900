#!/usr/bin/env bash
# Makes fixtures/id-registry: a registry written by today's pvec, kept as the id contract.
#
# Manifest ids are the SHA-256 of canonical JSON, so a change to how any recipe is encoded
# changes ids. This script records, with the binary at hand, one of every operation pvec
# stores (imports, arithmetic, every merge, seeded inits, SPoT, a short training run and an
# evaluation) and writes
#   fixtures/id-registry/pvec-registry, objects/, manifests/   the registry (no catalog:
#                                                               `pvec verify --repair` rebuilds it)
#   fixtures/id-registry/inputs/                               the files the commands read
#   fixtures/id-registry/commands.txt                          ids <TAB> names <TAB> command
# Tests/pvecCLITests/IDContractCLITests.swift checks the registry and re-runs commands.txt.
#
# Usage: scripts/make_id_fixture.sh [PVEC_BINARY]   (default .build/debug/pvec)
# Needs python3 (standard library only) and the model at ~/.cache/pvec/models/all-MiniLM-L6-v2
# (or $PVEC_MODEL). Only rerun it on purpose: new ids mean the contract changed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
pvec=$(cd "$repo" && realpath "${1:-.build/debug/pvec}")
out="$repo/fixtures/id-registry"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir inputs

# Inputs: small tensors with values k/32 (exact in F32), a task and a few labelled sentences.
python3 - <<'PY'
import json, struct

def values(rows, width, seed):
    return [((i * 7 + j * 13 + seed * 29 + i * j * seed) % 41 - 20) / 32.0
            for i in range(rows) for j in range(width)]

def npy(path, rows, width, seed, nan_at=None):
    v = values(rows, width, seed)
    if nan_at is not None:
        v[nan_at] = float("nan")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, width)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % len(v), *v))

def safetensors(path, tensors):
    meta, data = {}, b""
    for name in sorted(tensors):
        rows, width, seed = tensors[name]
        v = values(rows, width, seed)
        b = struct.pack("<%df" % len(v), *v)
        meta[name] = {"dtype": "F32", "shape": [rows, width], "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)

npy("inputs/i0.npy", 4, 8, 1)
npy("inputs/pa.npy", 4, 8, 2)
npy("inputs/pb.npy", 4, 8, 3)
safetensors("inputs/pc.safetensors", {"prompt": (4, 8, 4), "extra": (2, 8, 9)})
safetensors("inputs/pd.safetensors", {"tensor": (4, 8, 5)})
npy("inputs/pe.npy", 4, 8, 6)
npy("inputs/nan.npy", 4, 8, 7, nan_at=5)

task = {"name": "id-tiny", "labels": [
    {"name": "negative", "verbalizer": "This is negative, bad and sad."},
    {"name": "positive", "verbalizer": "This is positive, good and happy."}], "metric": "accuracy"}
with open("inputs/task.json", "w") as f:
    json.dump(task, f, indent=2, sort_keys=True)
    f.write("\n")
train = [("A dull, tired film that drags.", "negative"), ("Warm, funny and moving.", "positive"),
         ("I wanted my money back.", "negative"), ("A joy from start to finish.", "positive"),
         ("Flat acting and a silly plot.", "negative"), ("Clever, bright and kind.", "positive"),
         ("Boring and far too long.", "negative"), ("The best thing I saw this year.", "positive")]
test = [("Painful to sit through.", "negative"), ("Lovely and sincere.", "positive"),
        ("A mess.", "negative"), ("Smart and touching.", "positive")]
for name, rows in (("train", train), ("test", test)):
    with open("inputs/%s.jsonl" % name, "w") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, sort_keys=True) + "\n")
PY

commands="$work/commands.txt"
{
    echo "# The id contract: made by scripts/make_id_fixture.sh with pvec $(git -C "$repo" rev-parse --short HEAD)."
    echo "# Each line: ids (',' between several; '-' for none) <TAB> names <TAB> the command, run in a"
    echo "# folder holding inputs/, with --registry DIR --json appended. Arguments hold no spaces."
    echo "# Training and evaluation run the model through OpenBLAS, whose kernels differ by CPU; their"
    echo "# ids are those of this OpenBLAS kernel and thread count (pvec-bench blas):"
    bench="$(dirname "$pvec")/pvec-bench"
    if [ -x "$bench" ]; then
        echo "# openblas: $("$bench" blas | sed 's/; OPENBLAS_CORETYPE=.*//')"
    else
        echo "# openblas: unknown"
    fi
} > "$commands"

# Runs one pvec command on the registry and records the ids it printed.
run() {
    local json ids names
    json=$("$pvec" "$@" --registry "$work/reg" --json)
    read -r ids names < <(printf '%s' "$json" | python3 -c '
import json, sys
text = sys.stdin.read().strip()
try:
    o = json.loads(text)
except ValueError:
    o = None
parts = [o] if isinstance(o, dict) and "id" in o else \
        [o[k] for k in ("init", "prompt", "vector", "composed") if isinstance(o, dict) and isinstance(o.get(k), dict)]
ids = ",".join(p["id"] for p in parts) or "-"
names = ",".join(p.get("name") or "-" for p in parts) or "-"
print(ids, names)')
    printf '%s\t%s\tpvec %s\n' "$ids" "$names" "$*" >> "$commands"
}

"$pvec" init --registry "$work/reg" > /dev/null

# Imports: an init with --kind init --backbone, prompts tuned from it (.npy and safetensors,
# one tensor of several by --tensor), a prompt with no init, a kept NaN.
run import inputs/i0.npy --name i0 --kind init --backbone toy
run import inputs/pa.npy --name pa --init i0
run import inputs/pb.npy --name pb --init i0
run import inputs/pc.safetensors --tensor prompt --name pc --init i0
run import inputs/pd.safetensors --name pd --backbone toy
# Seeded inits (uniform), and a prompt tuned from one.
run init-prompt --rows 4 --width 8 --seed 7 --backbone toy --name u7
run init-prompt --rows 4 --width 8 --seed 8 --range 0.25 --backbone toy --name u8
run import inputs/pe.npy --name pe --init u7
# Task vectors and arithmetic (prompts with a recorded init stand for their vectors).
run vector pa.tau --tuned pa --init i0
run add pa.tau pb --name ab
run add pa.tau pb pc --lambda 0.5 --name abc-half
run add pa.tau pb --lambda 0.5 --onto i0 --name ab-onto
run add pe --onto u8 --name e-onto-u8
run sub pa.tau pb --name a-minus-b
run neg pa.tau --name neg-a
run scale pa.tau --by 2.5 --name a-x2.5
# Every merge method.
run merge linear pa pb pc --weights 0.5,0.3,0.2 --name soup
run merge linear pa.tau ab --name lin-vectors
run merge task-arithmetic pa pb pc --weights 1,0.5,0.25 --lambda 0.8 --name ta
run merge task-arithmetic pa pb --name ta-default
run merge ties pa pb pc --density 0.5 --name ties
run merge ties pa pb pc --density 0.25 --lambda 1.5 --name ties-lambda
run merge dare pa pb pc --drop 0.5 --seed 3 --name dare
run merge dare pa pb pc --drop 0.3 --seed 4 --ties --lambda 0.9 --name dare-ties
run merge slerp pa pb --t 0.3 --name slerp
run merge slerp pa pb --t 0.6 --raw --name slerp-raw
run merge magnitude-prune pa.tau --density 0.25 --name pruned
# SPoT: the most similar prompt (spot-t), averages of the top K (spot-s), by prompt and by
# task vector, weighted or not, among tagged prompts.
run init-from --similar-to pa --top 1 --name spot-t
run init-from --similar-to pa --top 3 --name spot-s
run init-from --similar-to pa --top 2 --weighted --name spot-s-weighted
run init-from --similar-to pa --top 2 --by vector --weighted --name spot-s-vector
run tag pb src
run tag pc src
run init-from --similar-to pa --top 2 --tag src --by vector --weighted --name spot-s-tag
# A PEFT adapter written by export and imported back; a file with NaN kept on purpose.
run export pa --out pa-peft --format peft
run import pa-peft --name pa-peft --init i0
run import inputs/nan.npy --name nan --backbone toy --allow-nonfinite
# A short training run on the real model (vocab-sample init, prompt, vector) and an eval.
run train --task inputs/task.json --data inputs/train.jsonl --name mv --prompt-len 4 --steps 3 --batch 4 --max-length 32 --init-seed 5 --seed 1 --shots 3 --placement after-cls
run eval mv --task inputs/task.json --data inputs/test.jsonl --max-length 32
# Fitted weights over the trained vector, onto its init (the fit runs the model; the recipe is recomputed).
run compose mv --task inputs/task.json --data inputs/train.jsonl --init mv.init --name mvc --shots 3 --steps 2 --batch 4 --max-length 32 --seed 1

"$pvec" verify --registry "$work/reg" > /dev/null

rm -rf "$out"
mkdir -p "$out"
cp "$work/reg/pvec-registry" "$out/"
cp -r "$work/reg/objects" "$work/reg/manifests" "$work/inputs" "$out/"
find "$out/objects" "$out/manifests" -name 'tmp_*' -delete
cp "$commands" "$out/commands.txt"
echo "wrote $out ($(du -sk "$out" | cut -f1) KB, $(find "$out/manifests" -type f | wc -l) manifests)"
