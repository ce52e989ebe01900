#!/usr/bin/env python3
"""Writes fixtures/peft/: prompt-tuning adapters byte for byte as PEFT's save_pretrained writes
them, and the adapters pvec must export for a few derivations of them.

numpy only (the safetensors package is not needed: the format is written here by hand, as
the safetensors library lays it out). What save_pretrained writes for a PROMPT_TUNING adapter:
  adapter_model.safetensors  the state dict of get_peft_model_state_dict: `prompt_embeddings`
                             [num_virtual_tokens * num_transformer_submodules, token_dim], plus
                             for SEQ_CLS the modules_to_save (the classifier head); metadata
                             {"format": "pt"}. The library orders tensors by dtype (widest
                             first) then name, writes the header compactly with __metadata__
                             first and the tensors in data order, and pads it with spaces to a
                             multiple of 8 bytes.
  adapter_config.json        json.dumps(config.to_dict(), indent=2, sort_keys=True), no newline.

Adapters (inputs):
  fe/         FEATURE_EXTRACTION, F32 [10, 384], all-MiniLM-L6-v2
  t5-init/    SEQ_2_SEQ_LM (2 submodules, 8 virtual tokens), F32 [16, 768], t5-base: the init
  t5-a/, t5-b/  the same config, tuned from t5-init
  causal-init/, causal-tuned/  CAUSAL_LM in BF16 [8, 576], SmolLM2-135M
  seqcls/     SEQ_CLS, F32 [6, 384] with a classifier head (base_model.classifier.weight [2, 384],
              base_model.classifier.bias [2]); modules_to_save ["classifier", "score"]
Expected exports (references, computed here in numpy):
  expected/t5-add/       t5-init + 0.5 * ((t5-a - t5-init) + (t5-b - t5-init)), F32, t5's config
  expected/causal-half/  causal-init + 0.5 * (causal-tuned - causal-init) in F32, rounded to
                         BF16 (round to nearest even), causal's config

Run from the repository root:  python3 scripts/make_peft_fixtures.py
"""
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "peft")

# safetensors' Dtype enum order; the library sorts tensors by it, descending.
DTYPE_RANK = {"F16": 0, "BF16": 1, "F32": 2, "F64": 3}


def bf16_bits(x):
    """float32 -> bfloat16 bits, round to nearest even (what torch's .to(torch.bfloat16) does)."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def safetensors_bytes(tensors, metadata):
    """tensors: name -> (dtype name, shape, raw little-endian bytes)."""
    names = sorted(tensors, key=lambda n: (-DTYPE_RANK[tensors[n][0]], n))
    header, data = {"__metadata__": metadata}, b""
    for n in names:
        dtype, shape, raw = tensors[n]
        header[n] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(a):
    return ("F32", a.shape, np.ascontiguousarray(a, dtype="<f4").tobytes())


def bf16(bits, shape):
    return ("BF16", shape, np.ascontiguousarray(bits, dtype="<u2").tobytes())


def config(task_type, tokens, dim, submodules, base, **extra):
    c = {
        "auto_mapping": None,
        "base_model_name_or_path": base,
        "inference_mode": True,
        "num_attention_heads": None,
        "num_layers": None,
        "num_transformer_submodules": submodules,
        "num_virtual_tokens": tokens,
        "peft_type": "PROMPT_TUNING",
        "prompt_tuning_init": "RANDOM",
        "prompt_tuning_init_text": None,
        "revision": None,
        "task_type": task_type,
        "token_dim": dim,
        "tokenizer_kwargs": None,
        "tokenizer_name_or_path": None,
    }
    c.update(extra)
    return c


def save(name, cfg, tensors):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "adapter_model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(tensors, {"format": "pt"}))
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        f.write(json.dumps(cfg, indent=2, sort_keys=True))


def main():
    rng = np.random.default_rng(20261203)

    def normal(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    fe = config("FEATURE_EXTRACTION", 10, 384, 1, "sentence-transformers/all-MiniLM-L6-v2")
    save("fe", fe, {"prompt_embeddings": f32(normal(10, 384))})

    t5 = config("SEQ_2_SEQ_LM", 8, 768, 2, "t5-base", num_attention_heads=12, num_layers=12)
    t5_init = normal(16, 768)
    t5_a = t5_init + normal(16, 768, scale=0.1)
    t5_b = t5_init + normal(16, 768, scale=0.1)
    save("t5-init", t5, {"prompt_embeddings": f32(t5_init)})
    save("t5-a", t5, {"prompt_embeddings": f32(t5_a)})
    save("t5-b", t5, {"prompt_embeddings": f32(t5_b)})
    added = t5_init + np.float32(0.5) * ((t5_a - t5_init) + (t5_b - t5_init))
    save(os.path.join("expected", "t5-add"), t5, {"prompt_embeddings": f32(added.astype(np.float32))})

    causal = config("CAUSAL_LM", 8, 576, 1, "HuggingFaceTB/SmolLM2-135M")
    c_init = bf16_bits(normal(8, 576))
    c_tuned = bf16_bits(from_bf16(c_init) + normal(8, 576, scale=0.05))
    save("causal-init", causal, {"prompt_embeddings": bf16(c_init, (8, 576))})
    save("causal-tuned", causal, {"prompt_embeddings": bf16(c_tuned, (8, 576))})
    i32, t32 = from_bf16(c_init), from_bf16(c_tuned)
    half = i32 + np.float32(0.5) * (t32 - i32)
    save(os.path.join("expected", "causal-half"), causal,
         {"prompt_embeddings": bf16(bf16_bits(half.astype(np.float32)), (8, 576))})

    seqcls = config("SEQ_CLS", 6, 384, 1, "sentence-transformers/all-MiniLM-L6-v2",
                    modules_to_save=["classifier", "score"])
    save("seqcls", seqcls, {
        "prompt_embeddings": f32(normal(6, 384)),
        "base_model.classifier.weight": f32(normal(2, 384, scale=0.02)),
        "base_model.classifier.bias": f32(normal(2, scale=0.02)),
    })


if __name__ == "__main__":
    main()
