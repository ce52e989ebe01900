"""The JAX peer of issue 3: all-MiniLM-L6-v2 with a soft prompt after [CLS], on the CPU.

    python minilm_jax.py train DIR [--steps 20 --warmup 3]   # forward + backward to the prompt
    python minilm_jax.py embed DIR [--passes 3]              # forward only, real sentences

`train` reads what `pvec-bench model DIR` wrote (ids.npy, prompt.npy, labels.npy, targets.npy,
grad_pvec.npy), builds the same computation as pvec's BertEncoder + LabelScorer — embeddings
(prompt rows spliced in after [CLS], position and type-0 embeddings, LayerNorm), 6 post-LN
layers (erf GELU, eps 1e-12), mean pooling over all positions, L2 normalisation, logits
cos(f, E_l) / 0.05, mean cross-entropy — and `jax.grad` of it w.r.t. the prompt only, jitted.
It checks the gradient against pvec's (cosine), then times steady-state steps after warm-up;
compile time is reported apart. `embed` reads DIR/sentences_ids.json (pvec's tokenizer
output) and times the forward pass in length-sorted, padded, masked batches like `pvec embed`.
Every result is one JSON line on stdout.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np

import jax
import jax.numpy as jnp

MODEL = os.path.expanduser("~/.cache/pvec/models/all-MiniLM-L6-v2")
EPS = 1e-12
HEADS = 12
TEMPERATURE = 0.05


def read_safetensors(path):
    """name -> float32 array, parsed with numpy (header: u64 length + JSON)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(raw, dtype="<f4", count=(end - start) // 4,
                                  offset=base + start).reshape(info["shape"])
    return out


def load_params(model_dir):
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    p = {
        "wte": w["embeddings.word_embeddings.weight"],
        "wpe": w["embeddings.position_embeddings.weight"],
        "wtt": w["embeddings.token_type_embeddings.weight"],
        "ln_w": w["embeddings.LayerNorm.weight"],
        "ln_b": w["embeddings.LayerNorm.bias"],
        "layers": [],
    }
    i = 0
    while f"encoder.layer.{i}.attention.self.query.weight" in w:
        pre = f"encoder.layer.{i}."
        g = lambda k: w[pre + k]
        # Q, K, V fused into one [C, 3C] matrix, as pvec stores them.
        p["layers"].append({
            "qkv_w": np.concatenate([g("attention.self.query.weight"), g("attention.self.key.weight"),
                                     g("attention.self.value.weight")]).T.copy(),
            "qkv_b": np.concatenate([g("attention.self.query.bias"), g("attention.self.key.bias"),
                                     g("attention.self.value.bias")]),
            "proj_w": g("attention.output.dense.weight").T.copy(),
            "proj_b": g("attention.output.dense.bias"),
            "ln1_w": g("attention.output.LayerNorm.weight"),
            "ln1_b": g("attention.output.LayerNorm.bias"),
            "fc1_w": g("intermediate.dense.weight").T.copy(),
            "fc1_b": g("intermediate.dense.bias"),
            "fc2_w": g("output.dense.weight").T.copy(),
            "fc2_b": g("output.dense.bias"),
            "ln2_w": g("output.LayerNorm.weight"),
            "ln2_b": g("output.LayerNorm.bias"),
        })
        i += 1
    return jax.tree_util.tree_map(jnp.asarray, p)


def layernorm(x, w, b):
    m = jnp.mean(x, axis=-1, keepdims=True)
    v = jnp.mean(jnp.square(x - m), axis=-1, keepdims=True)
    return (x - m) * jax.lax.rsqrt(v + EPS) * w + b


def encoder(params, x, mask):
    """x: [B, T, C] input rows (word embeddings or prompt rows); mask: [B, T] 1 for real."""
    B, T, C = x.shape
    hs = C // HEADS
    x = x + params["wpe"][:T] + params["wtt"][0]
    x = layernorm(x, params["ln_w"], params["ln_b"])
    bias = (1.0 - mask)[:, None, None, :] * -1e9
    for l in params["layers"]:
        qkv = x @ l["qkv_w"] + l["qkv_b"]
        q, k, v = jnp.split(qkv, 3, axis=-1)
        q = q.reshape(B, T, HEADS, hs)
        k = k.reshape(B, T, HEADS, hs)
        v = v.reshape(B, T, HEADS, hs)
        s = jnp.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(hs).astype(np.float32) + bias
        a = jax.nn.softmax(s, axis=-1)
        y = jnp.einsum("bhqk,bkhd->bqhd", a, v).reshape(B, T, C)
        x = layernorm(x + y @ l["proj_w"] + l["proj_b"], l["ln1_w"], l["ln1_b"])
        h = jax.nn.gelu(x @ l["fc1_w"] + l["fc1_b"], approximate=False)
        x = layernorm(x + h @ l["fc2_w"] + l["fc2_b"], l["ln2_w"], l["ln2_b"])
    pooled = jnp.sum(x * mask[..., None], axis=1) / jnp.sum(mask, axis=1, keepdims=True)
    return pooled / jnp.maximum(jnp.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)


def prompted_features(prompt, params, ids):
    """ids: [B, S] full sequences ([CLS] ... [SEP]); the prompt goes after [CLS]."""
    B = ids.shape[0]
    tok = params["wte"][ids]
    rows = jnp.broadcast_to(prompt[None], (B,) + prompt.shape)
    x = jnp.concatenate([tok[:, :1], rows, tok[:, 1:]], axis=1)
    return encoder(params, x, jnp.ones(x.shape[:2], jnp.float32))


def loss_fn(prompt, params, ids, labels, targets):
    f = prompted_features(prompt, params, ids)
    z = f @ labels.T / TEMPERATURE
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), targets[:, None], axis=1))


def environment():
    client = jax.devices()[0].client
    return {
        "jax": jax.__version__,
        "jaxlib": getattr(__import__("jaxlib"), "__version__", "?"),
        "device": str(jax.devices()[0]),
        "runtime": f"{client.platform} {client.platform_version} {getattr(client, 'runtime_type', '')}".strip(),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", "(unset)"),
        "matmul_precision": str(jax.config.jax_default_matmul_precision),
        "cpus_allowed": len(os.sched_getaffinity(0)),
    }


def median(xs):
    return float(np.median(np.asarray(xs)))


def train(args):
    d = args.dir
    params = load_params(args.model)
    ids = jnp.asarray(np.load(os.path.join(d, "ids.npy")).astype(np.int32))
    prompt = jnp.asarray(np.load(os.path.join(d, "prompt.npy")))
    labels = jnp.asarray(np.load(os.path.join(d, "labels.npy")))
    targets = jnp.asarray(np.load(os.path.join(d, "targets.npy")).astype(np.int32))
    B, S = ids.shape
    m = prompt.shape[0]

    step = jax.jit(jax.value_and_grad(loss_fn))
    forward = jax.jit(loss_fn)
    t0 = time.perf_counter()
    compiled = step.lower(prompt, params, ids, labels, targets).compile()
    compile_s = time.perf_counter() - t0
    fwd_compiled = forward.lower(prompt, params, ids, labels, targets).compile()

    loss, grad = compiled(prompt, params, ids, labels, targets)
    grad = np.asarray(grad)
    np.save(os.path.join(d, "grad_jax.npy"), grad)
    check = {}
    ref_path = os.path.join(d, "grad_pvec.npy")
    if os.path.exists(ref_path):
        ref = np.load(ref_path).astype(np.float64).ravel()
        g = grad.astype(np.float64).ravel()
        check = {
            "grad_cosine": float(g @ ref / (np.linalg.norm(g) * np.linalg.norm(ref))),
            "grad_rel_err": float(np.linalg.norm(g - ref) / np.linalg.norm(ref)),
            "grad_norm": float(np.linalg.norm(g)),
            "grad_norm_pvec": float(np.linalg.norm(ref)),
        }

    for _ in range(args.warmup):
        jax.block_until_ready(compiled(prompt, params, ids, labels, targets))
        jax.block_until_ready(fwd_compiled(prompt, params, ids, labels, targets))
    times, fwd = [], []
    cpu_fwd = 0.0
    cpu0 = time.process_time()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(prompt, params, ids, labels, targets))
        t1 = time.perf_counter()
        c1 = time.process_time()
        jax.block_until_ready(fwd_compiled(prompt, params, ids, labels, targets))
        t2 = time.perf_counter()
        cpu_fwd += time.process_time() - c1
        times.append(t1 - t0)
        fwd.append(t2 - t1)
    cpu_per_step = (time.process_time() - cpu0 - cpu_fwd) / args.steps
    med = median(times)
    print(json.dumps(dict(
        impl="jax", case="train-step", cpu_ms_per_step=round(cpu_per_step * 1e3, 3), batch=B, positions=S + m, prompt_len=m, steps=args.steps,
        median_ms=round(med * 1e3, 3), min_ms=round(min(times) * 1e3, 3),
        forward_median_ms=round(median(fwd) * 1e3, 3), examples_per_s=round(B / med, 1),
        compile_s=round(compile_s, 3), loss=float(loss),
        step_times_ms=[round(t * 1e3, 3) for t in times], env=environment(), **check), sort_keys=True))


def embed(args):
    """Forward only over pvec-tokenized sentences: sorted by length, batches of at most 4096
    rows (pvec's budget) padded to a multiple of 16 positions and to a full batch (masked)."""
    params = load_params(args.model)
    with open(os.path.join(args.dir, "sentences_ids.json")) as f:
        seqs = json.load(f)
    feats = jax.jit(encoder)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    batches = []
    start = 0
    while start < len(order):
        T = -(-len(seqs[order[start]]) // 16) * 16
        # the longest sequence of this batch decides T; grow while it fits in 4096 rows
        end = start
        while end < len(order):
            t = -(-len(seqs[order[end]]) // 16) * 16
            if (end - start + 1) * t > 4096 and end > start:
                break
            T = max(T, t)
            end += 1
        Bb = 4096 // T
        ids = np.zeros((Bb, T), np.int32)
        mask = np.zeros((Bb, T), np.float32)
        for r, i in enumerate(order[start:end]):
            ids[r, :len(seqs[i])] = seqs[i]
            mask[r, :len(seqs[i])] = 1
        mask[end - start:, 0] = 1  # filler rows: one position, so their pooling is defined
        batches.append((jnp.asarray(ids), jnp.asarray(mask), end - start))
        start = end

    def one_pass():
        out = []
        for ids, mask, n in batches:
            out.append(feats(params, params["wte"][ids], mask)[:n])
        return jax.block_until_ready(out)

    t0 = time.perf_counter()
    one_pass()
    first = time.perf_counter() - t0
    shapes = sorted({tuple(ids.shape) for ids, _, _ in batches})
    passes = []
    for _ in range(args.passes):
        t0 = time.perf_counter()
        one_pass()
        passes.append(time.perf_counter() - t0)
    med = median(passes)
    print(json.dumps(dict(
        impl="jax", case="embed", count=len(seqs), batches=len(batches), shapes=len(shapes),
        first_pass_s=round(first, 3), median_s=round(med, 3),
        sentences_per_second=round(len(seqs) / med, 1),
        first_pass_sentences_per_second=round(len(seqs) / first, 1), env=environment()), sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["train", "embed"])
    ap.add_argument("dir")
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--cache", help="persistent compilation cache folder (rounds after the first skip compiling)")
    args = ap.parse_args()
    if args.cache:
        jax.config.update("jax_compilation_cache_dir", args.cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    train(args) if args.mode == "train" else embed(args)


if __name__ == "__main__":
    sys.exit(main())
