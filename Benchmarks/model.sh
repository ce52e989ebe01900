#!/usr/bin/env bash
# Issue 3: the frozen all-MiniLM-L6-v2 with a 20-row soft prompt, pvec against JAX on the CPU,
# both sides in one run on the same cores, then `pvec embed` throughput and the peak memory of
# a short `pvec train`. Prints a markdown table (also written to $DATA/table.md).
#
#   Benchmarks/model.sh                        # ROUNDS=3 STEPS=10: ~15 min on 2 busy cores
#   ROUNDS=5 STEPS=20 Benchmarks/model.sh
#   PERF=0 EMBED=0 TRAIN=0 Benchmarks/model.sh  # the train-step comparison only
#
# Train step: batch 16 of 64-token sequences (fixed random ids, no padding) + 20 prompt rows =
# 84 positions; loss = cross-entropy of cos(f, E_l)/0.05 against the 2 embedded verbalizers of
# data/movie (pvec's LabelScorer); gradient w.r.t. the prompt only. `pvec-bench model` writes
# the inputs and its gradient as .npy; `peers/minilm_jax.py` checks its own gradient against it
# (cosine) and times `jax.jit(jax.value_and_grad(loss))`. Rounds alternate pvec and JAX, so
# load from other work on the machine falls on both sides; medians over all rounds' steps.
# JAX compiles once into a persistent cache (cleared at the start): round 1's compile time is
# the cold one reported. Both sides run under `taskset -c $CPUS` with 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH=${SCRATCH:-.build-jax}
# Extra `swift build` flags, e.g. "--static-swift-stdlib" to reuse the shipped build.
read -r -a BUILD_FLAGS <<< "${BUILD_FLAGS:-}"
DATA=${DATA:-/tmp/pvec-bench-model}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-2}
CPUS=${CPUS:-0,1}
VENV=${VENV:-/tmp/pvec-jax-venv}
PERF=${PERF:-1}
EMBED=${EMBED:-1}
TRAIN=${TRAIN:-1}
export OPENBLAS_NUM_THREADS=2

if ! "$VENV/bin/python" -c "import jax" 2>/dev/null; then
    echo "== venv with jax[cpu] at $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "jax[cpu]" numpy >&2
fi
PY="$VENV/bin/python"

echo "== build (release, --scratch-path $SCRATCH)" >&2
swift build -c release --scratch-path "$SCRATCH" "${BUILD_FLAGS[@]}" --product pvec-bench >&2
swift build -c release --scratch-path "$SCRATCH" "${BUILD_FLAGS[@]}" --product pvec >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" "${BUILD_FLAGS[@]}" --show-bin-path)"
RUN=(taskset -c "$CPUS")

mkdir -p "$DATA"
RESULTS="$DATA/results.jsonl"
: > "$RESULTS"
rm -rf "$DATA/jax-cache"
"$PY" -c "import json,sys; [print(json.loads(l)['text']) for l in open(sys.argv[1])]" \
    data/movie/test.jsonl > "$DATA/sentences.txt"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== set-up: inputs, pvec's gradient, tokenized sentences" >&2
"${RUN[@]}" "$BIN/pvec-bench" model "$DATA" --setup-only --sentences "$DATA/sentences.txt" >&2

for r in $(seq 1 "$ROUNDS"); do
    echo "== round $r/$ROUNDS: pvec train step" >&2
    SG=0; [ "$r" = 1 ] && SG=20
    "${RUN[@]}" "$BIN/pvec-bench" model "$DATA" --steps "$STEPS" --warmup "$WARMUP" --threads 2 \
        --sgemm-runs "$SG" | sed "s/^{/{\"round\":$r,/" >> "$RESULTS"
    echo "== round $r/$ROUNDS: jax train step" >&2
    "${RUN[@]}" "$PY" Benchmarks/peers/minilm_jax.py train "$DATA" --steps "$STEPS" --warmup "$WARMUP" \
        --cache "$DATA/jax-cache" | sed "s/^{/{\"round\":$r,/" >> "$RESULTS"
done

if [ "$EMBED" = 1 ]; then
    for r in $(seq 1 "$ROUNDS"); do
        echo "== round $r/$ROUNDS: pvec embed / jax forward, 1000 sentences" >&2
        "${RUN[@]}" "$BIN/pvec" embed --file "$DATA/sentences.txt" --quiet --json \
            | "$PY" -c "import json,sys; d=json.load(sys.stdin); d.update(impl='pvec', case='embed', round=$r); print(json.dumps(d))" \
            >> "$RESULTS"
        "${RUN[@]}" "$PY" Benchmarks/peers/minilm_jax.py embed "$DATA" --passes 3 --cache "$DATA/jax-cache" \
            | sed "s/^{/{\"round\":$r,/" >> "$RESULTS"
    done
fi

if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
    echo "== perf record: pvec train steps" >&2
    if "${RUN[@]}" perf record -q -F 499 -o "$DATA/perf.data" -- "$BIN/pvec-bench" model "$DATA" \
        --steps "$STEPS" --warmup 1 --sgemm-runs 0 > /dev/null 2> "$DATA/perf.log"; then
        perf report -i "$DATA/perf.data" --stdio --sort dso 2>/dev/null > "$DATA/perf-dso.txt" || true
        perf report -i "$DATA/perf.data" --stdio --sort dso,sym 2>/dev/null | head -60 > "$DATA/perf-sym.txt" || true
        "$PY" - "$DATA/perf-dso.txt" >> "$RESULTS" <<'PYEOF'
import json, re, sys
shares = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)%\s+(\S+)", line)
    if m:
        shares[m.group(2)] = float(m.group(1))
blas = sum(v for k, v in shares.items() if "openblas" in k.lower() or "libblas" in k.lower())
print(json.dumps({"impl": "pvec", "case": "perf", "openblas_share": round(blas / 100, 3),
                  "dso": {k: v for k, v in sorted(shares.items(), key=lambda kv: -kv[1])[:6]}}))
PYEOF
    else
        echo "perf record failed (see $DATA/perf.log); sgemm share from the replay only" >&2
    fi
fi

if [ "$TRAIN" = 1 ]; then
    echo "== peak memory: pvec train --shots 32 --steps 20 --prompt-len 20" >&2
    REG="$DATA/registry"
    rm -rf "$REG"
    "$BIN/pvec" init --registry "$REG" > /dev/null
    "${RUN[@]}" /usr/bin/time -v "$BIN/pvec" train --registry "$REG" --task data/movie/task.json \
        --data data/movie/train.jsonl --name bench-movie --shots 32 --steps 20 --prompt-len 20 \
        > "$DATA/train.out" 2> "$DATA/train.time"
    "$PY" - "$DATA/train.time" >> "$RESULTS" <<'PYEOF'
import json, re, sys
t = open(sys.argv[1]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", t).group(1)
print(json.dumps({"impl": "pvec", "case": "train-memory", "max_rss_mib": round(rss / 1024, 1), "wall": wall}))
PYEOF
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

PVEC_BLAS=$("$BIN/pvec-bench" blas 2>/dev/null || echo "?")
MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$PY" - "$RESULTS" "$MACHINE" "$PVEC_BLAS" "$LOAD_BEFORE" "$LOAD_AFTER" "$ROUNDS" "$STEPS" <<'PYEOF' | tee "$DATA/table.md"
import json, statistics, sys
path, machine, blas, load0, load1, rounds, steps = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
def pick(impl, case):
    return [r for r in rows if r.get("impl") == impl and r.get("case") == case]
def med_steps(rs):
    return statistics.median([t for r in rs for t in r["step_times_ms"]])
pv, jx = pick("pvec", "train-step"), pick("jax", "train-step")
print(f"MiniLM-L6 + 20-row prompt, batch 16 x 64 tokens (84 positions), forward + backward to the prompt; "
      f"{rounds} alternating rounds x {steps} steps after warm-up, medians over all steps.\n")
print("| measure | pvec | JAX (jit, CPU) | pvec / JAX |")
print("|---|---:|---:|---:|")
if pv and jx:
    p, j = med_steps(pv), med_steps(jx)
    print(f"| train step, median ms | {p:.1f} | {j:.1f} | {p / j:.2f} |")
    print(f"| train step, examples/s (higher is better) | {16000 / p:.1f} | {16000 / j:.1f} | {j / p:.2f} |")
    print(f"| train step, best ms | {min(r['min_ms'] for r in pv):.1f} | {min(r['min_ms'] for r in jx):.1f} | "
          f"{min(r['min_ms'] for r in pv) / min(r['min_ms'] for r in jx):.2f} |")
    pc = statistics.median(r["cpu_ms_per_step"] for r in pv)
    jc = statistics.median(r["cpu_ms_per_step"] for r in jx)
    print(f"| train step, CPU ms (user + sys, both threads) | {pc:.0f} | {jc:.0f} | {pc / jc:.2f} |")
    pf = statistics.median(r["forward_median_ms"] for r in pv)
    jf = statistics.median(r["forward_median_ms"] for r in jx)
    print(f"| forward only (+ loss), median ms | {pf:.1f} | {jf:.1f} | {pf / jf:.2f} |")
    print(f"| compile (JAX, cold, round 1) | - | {jx[0]['compile_s']:.1f} s | |")
    print(f"| gradient check (cosine / rel. error, pvec vs JAX) | | {jx[0].get('grad_cosine', float('nan')):.6f} / "
          f"{jx[0].get('grad_rel_err', float('nan')):.1e} | |")
pe, je = pick("pvec", "embed"), pick("jax", "embed")
if pe and je:
    p = statistics.median(r["sentences_per_second"] for r in pe)
    j = statistics.median(r["sentences_per_second"] for r in je)
    jf = statistics.median(r["first_pass_sentences_per_second"] for r in je)
    print(f"| embed 1,000 movie sentences, sentences/s (pvec CLI vs JAX forward, compiled) | {p:.1f} | {j:.1f} | {p / j:.2f} |")
    print(f"| JAX embed incl. compiling {je[0]['shapes']} batch shapes, sentences/s | | {jf:.1f} | |")
mem = pick("pvec", "train-memory")
if mem:
    print(f"| peak RSS, `pvec train` shots 32, steps 20, prompt 20 | {mem[0]['max_rss_mib']:.0f} MiB ({mem[0]['wall']}) | | |")
rep = pick("pvec", "sgemm-replay")
if rep and pv:
    r = rep[0]
    best_step = min(x["min_ms"] for x in pv)
    print(f"| sgemm share of a pvec step: replay of its {r['calls']} sgemm calls ({r['gflop']:.1f} GFLOP), "
          f"best / best step (median / median) | {r['min_ms'] / best_step:.0%} ({r['median_ms'] / med_steps(pv):.0%}) | | |")
    print(f"| sgemm replay alone, GFLOP/s best (median) | {r['gflop'] * 1e3 / r['min_ms']:.0f} "
          f"({r['gflop'] * 1e3 / r['median_ms']:.0f}) | | |")
    print(f"| whole pvec step, GFLOP/s best (median) | {r['gflop'] * 1e3 / best_step:.0f} "
          f"({r['gflop'] * 1e3 / med_steps(pv):.0f}) | | |")
crep = pick("pvec", "sgemm-chunked-replay")
if crep and pv:
    r = crep[0]
    best_step = min(x["min_ms"] for x in pv)
    print(f"| sgemm as pvec calls it ({r['chunks']} chunks of sequences, 1 OpenBLAS thread each, side by side): "
          f"replay of its {r['calls']} calls, GFLOP/s best (median) | {r['gflop'] * 1e3 / r['min_ms']:.0f} "
          f"({r['gflop'] * 1e3 / r['median_ms']:.0f}) | | |")
    print(f"| sgemm share of a pvec step (that replay / step), best (median) | {r['min_ms'] / best_step:.0%} "
          f"({r['median_ms'] / med_steps(pv):.0%}) | | |")
perf = pick("pvec", "perf")
if perf:
    print(f"| OpenBLAS share of pvec samples (perf record, whole process) | {perf[0]['openblas_share']:.0%} | | |")
sg = pick("pvec", "sgemm")
if sg:
    print("\nOpenBLAS sgemm alone on a step's shapes (median):\n")
    print("| shape | calls per step | median µs | GFLOP/s (median) | GFLOP/s (best) |")
    print("|---|---:|---:|---:|---:|")
    for r in sg:
        print(f"| {r['shape']} | {r['per_step']} | {r['median_us']:.1f} | {r['gflops']:.1f} | {r['best_gflops']:.1f} |")
env = (jx or je)[0]["env"] if (jx or je) else {}
print("\nsgemm shapes are pvec's calls: [m,k]x[k,n], Bᵀ = weight stored [n, k] (PyTorch layout); attention ones "
      "run one (batch, head) at a time on OpenBLAS's small-matrix path, single-threaded each.")
print(f"\nMachine: {machine}; load average before {load0}, after {load1} (shared with other work: noisy).")
print(f"pvec: {blas.strip()}.")
print(f"JAX: {env.get('jax')} / jaxlib {env.get('jaxlib')}, {env.get('runtime')}, XLA_FLAGS={env.get('XLA_FLAGS')}, "
      f"default matmul precision {env.get('matmul_precision')} (full f32 on CPU), {env.get('cpus_allowed')} CPUs allowed.")
PYEOF
