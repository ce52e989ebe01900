#!/usr/bin/env python3
"""Writes fixtures/model/: reference tokens and embeddings for all-MiniLM-L6-v2.

An independent reference for the Swift PVecModel target. It needs only numpy: it parses
model.safetensors itself, runs its own float64 BERT forward (one sequence at a time, no
padding), and tokenizes with its own Python port of the BERT BasicTokenizer + WordPiece.
When the Rust `tokenizers` wheel is importable, every token list is also checked against
`tokenizer.json`, and the script stops on any disagreement.

Usage: scripts/make_model_fixtures.py [MODEL_DIR]
MODEL_DIR defaults to $PVEC_MODEL, then ~/.cache/pvec/models/all-MiniLM-L6-v2
(fetch it with scripts/fetch-model).
"""
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "model")

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Café naïve résumé — déjà vu!",
    "Hello, world!!! What's up? (testing) [brackets] {braces} <angles> @user #tag $5.00 50% a&b",
    "A word this long is unknown: " + "supercalifragilisticexpialidocious" * 4 + " ok",
    "我爱自然语言处理。東京は日本の首都です。",
    "MiXeD CaSe TeXt With ALLCAPS and lowercase.",
    "ΟΔΥΣΣΕΥΣ sailed home; Σ alone.",
    "Tabs\tand\nnewlines\r\n   and  spaces\u00a0nbsp, a bell\u0007, a \ufffd and zero\u200bwidth",
    "unaffable hyperparameters tokenization embeddings",
    "Numbers: 3.14159, 2,718 and 1e-10.",
    "I \u2764\ufe0f pizza \U0001F355 and 안녕하세요",
    "",
]
PAIR = ("A man is playing a guitar.", "Someone plays an instrument.")
TRUNCATED = [
    # (text_a, text_b or None, max_length)
    ("The quick brown fox jumps over the lazy dog and then runs far away into the forest.", None, 12),
    ("This first sentence is much longer than the second one, by a wide margin indeed.", "Short one.", 14),
]
PROMPT_TEXT = "The movie was surprisingly good."
PROMPT_ROWS, PROMPT_SEED, PROMPT_SCALE = 4, 1234, 0.05
MAX_LENGTH = 256  # sentence-transformers max_seq_length for this model


# MARK: - safetensors

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = {"F32": "<f4", "I64": "<i8", "F16": "<f2"}[entry["dtype"]]
        out[name] = np.frombuffer(data[base + begin:base + end], dtype=dtype).reshape(entry["shape"])
    return out


# MARK: - BERT tokenizer (port of BasicTokenizer + WordpieceTokenizer)

def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def is_punctuation(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokens(text):
    cleaned = []
    for c in text:
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or is_control(c):
            continue
        if is_whitespace(c):
            cleaned.append(" ")
        elif is_cjk(cp):
            cleaned.extend([" ", c, " "])
        else:
            cleaned.append(c)
    out = []
    for word in "".join(cleaned).split():
        # Per character, as the Rust tokenizer does: no context-dependent final sigma.
        word = "".join(c.lower() for c in word)
        word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
        current = []
        for c in word:
            if is_punctuation(c):
                if current:
                    out.append("".join(current))
                    current = []
                out.append(c)
            else:
                current.append(c)
        if current:
            out.append("".join(current))
    return out


def wordpiece(word, vocab):
    if len(word) > 100:
        return [vocab["[UNK]"]]
    ids, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = word[start:end]
            if start > 0:
                piece = "##" + piece
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [vocab["[UNK]"]]
        ids.append(found)
        start = end
    return ids


def encode(text_a, text_b, vocab, max_length):
    a = [i for w in basic_tokens(text_a) for i in wordpiece(w, vocab)]
    b = None if text_b is None else [i for w in basic_tokens(text_b) for i in wordpiece(w, vocab)]
    budget = max_length - (2 if b is None else 3)
    if b is None:
        a = a[:budget]
    else:
        # Longest first, one token at a time; a tie trims the second text.
        while len(a) + len(b) > budget:
            if len(a) > len(b):
                a.pop()
            else:
                b.pop()
    ids = [vocab["[CLS]"]] + a + [vocab["[SEP]"]]
    types = [0] * len(ids)
    if b is not None:
        ids += b + [vocab["[SEP]"]]
        types += [1] * (len(b) + 1)
    return ids, types


def check_against_rust(model_dir, cases):
    try:
        from tokenizers import Tokenizer
    except ImportError:
        print("tokenizers not importable; token ids come from the Python port only")
        return
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    for (a, b, max_length), (ids, types) in cases:
        tok.enable_truncation(max_length=max_length)
        enc = tok.encode(a, b) if b is not None else tok.encode(a)
        if enc.ids != ids or enc.type_ids != types:
            sys.exit(f"tokenizer disagreement on {a!r}/{b!r}:\n  rust   {enc.ids}\n  python {ids}")
    print(f"tokenizers (Rust) agrees on all {len(cases)} cases")


# MARK: - BERT forward (float64)

ERF = np.frompyfunc(math.erf, 1, 1)


def gelu(x):
    return 0.5 * x * (1.0 + ERF(x / math.sqrt(2.0)).astype(np.float64))


def layernorm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class Bert:
    def __init__(self, tensors):
        keys = list(tensors)
        prefix = "bert." if any(k.startswith("bert.") for k in keys) else ""
        self.p = lambda name: tensors[prefix + name].astype(np.float64)
        self.layers = 1 + max(int(k[len(prefix):].split(".")[2]) for k in keys
                              if k[len(prefix):].startswith("encoder.layer."))
        self.heads = 12

    def forward(self, ids, types, prompt=None):
        p = self.p
        x = p("embeddings.word_embeddings.weight")[ids]
        types = list(types)
        if prompt is not None:
            x = np.concatenate([x[:1], prompt.astype(np.float64), x[1:]])
            types = types[:1] + [0] * len(prompt) + types[1:]
        t = len(x)
        x = x + p("embeddings.position_embeddings.weight")[:t] + p("embeddings.token_type_embeddings.weight")[types]
        x = layernorm(x, p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias"))
        c = x.shape[1]
        hs = c // self.heads
        for l in range(self.layers):
            q = lambda n: p(f"encoder.layer.{l}.{n}")
            lin = lambda h, n: h @ q(n + ".weight").T + q(n + ".bias")
            split = lambda h: h.reshape(t, self.heads, hs).transpose(1, 0, 2)
            qh = split(lin(x, "attention.self.query"))
            kh = split(lin(x, "attention.self.key"))
            vh = split(lin(x, "attention.self.value"))
            s = qh @ kh.transpose(0, 2, 1) / math.sqrt(hs)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ vh).transpose(1, 0, 2).reshape(t, c)
            x = layernorm(x + lin(ctx, "attention.output.dense"),
                          q("attention.output.LayerNorm.weight"), q("attention.output.LayerNorm.bias"))
            h = gelu(lin(x, "intermediate.dense"))
            x = layernorm(x + lin(h, "output.dense"), q("output.LayerNorm.weight"), q("output.LayerNorm.bias"))
        pooled = x.mean(0)
        return pooled, pooled / np.linalg.norm(pooled)


def floats(v):
    return [float(f"{x:.8g}") for x in np.asarray(v, dtype=np.float64).ravel()]


def main():
    model_dir = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PVEC_MODEL")
                 or os.path.expanduser("~/.cache/pvec/models/all-MiniLM-L6-v2"))
    if not os.path.exists(os.path.join(model_dir, "model.safetensors")):
        sys.exit(f"no model.safetensors in {model_dir}; run scripts/fetch-model")
    with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    bert = Bert(read_safetensors(os.path.join(model_dir, "model.safetensors")))

    cases = [((s, None, MAX_LENGTH), encode(s, None, vocab, MAX_LENGTH)) for s in SENTENCES]
    cases.append(((PAIR[0], PAIR[1], MAX_LENGTH), encode(PAIR[0], PAIR[1], vocab, MAX_LENGTH)))
    cases += [((a, b, n), encode(a, b, vocab, n)) for a, b, n in TRUNCATED]
    check_against_rust(model_dir, cases)

    records = []
    for (a, b, n), (ids, types) in cases:
        pooled, emb = bert.forward(ids, types)
        rec = {"text_a": a, "max_length": n, "ids": ids, "type_ids": types, "embedding": floats(emb)}
        if b is not None:
            rec["text_b"] = b
        records.append(rec)

    rng = np.random.default_rng(PROMPT_SEED)
    prompt = (rng.standard_normal((PROMPT_ROWS, 384)) * PROMPT_SCALE).astype(np.float32)
    ids, types = encode(PROMPT_TEXT, None, vocab, MAX_LENGTH)
    pooled, emb = bert.forward(ids, types, prompt)
    prompted = {
        "text_a": PROMPT_TEXT, "ids": ids, "type_ids": types,
        "prompt_shape": list(prompt.shape), "prompt": floats(prompt),
        "pooled": floats(pooled), "embedding": floats(emb),
    }

    os.makedirs(OUT, exist_ok=True)
    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "generator": "scripts/make_model_fixtures.py (numpy float64 forward, mean pool, L2 normalise)",
        "cases": records,
        "prompted": prompted,
    }
    path = os.path.join(OUT, "reference.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(records)} cases + 1 prompted)")


if __name__ == "__main__":
    main()
