#!/usr/bin/env bash
# Issue 4: every merge method on 10 task vectors [100, 768], pvec against numpy, one run.
#
#   Benchmarks/merge.sh                 # RUNS=20; prints a markdown table
#   RUNS=50 COUNT=10 Benchmarks/merge.sh
#
# Both sides time the merge alone, in process, on the same .npy files (pvec: MergeRecipe.apply,
# the code `pvec merge` and `pvec verify` run; numpy: vectorised float32 on a pre-stacked
# array). Data goes to $DATA (default /tmp/pvec-bench-merge), never into the work tree.
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH=${SCRATCH:-.build-merge-release}
DATA=${DATA:-/tmp/pvec-bench-merge}
RUNS=${RUNS:-20}
COUNT=${COUNT:-10}
PY=${PYTHON:-python3}
# pvec's merges are plain loops on one thread; numpy's tensordot calls BLAS. One BLAS thread
# by default keeps the comparison per core on a shared machine (THREADS=2 to change).
export OPENBLAS_NUM_THREADS=${THREADS:-1}

echo "== build (release, --scratch-path $SCRATCH)" >&2
swift build -c release --scratch-path "$SCRATCH" --product pvec-bench >&2
BENCH="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/pvec-bench"

RESULTS="$DATA.jsonl"
mkdir -p "$(dirname "$DATA")"
echo "== pvec" >&2
"$BENCH" merge "$DATA" --count "$COUNT" --rows 100 --width 768 --runs "$RUNS" > "$RESULTS"
echo "== numpy" >&2
"$PY" Benchmarks/peers/merge_numpy.py "$DATA" --runs "$RUNS" >> "$RESULTS"

PVEC_BLAS=$("$BENCH" blas 2>/dev/null || echo "?")
NUMPY_BLAS=$("$PY" Benchmarks/peers/blas_info.py 2>/dev/null | tr '\n' ' ' || echo "?")
MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

"$PY" - "$RESULTS" "$COUNT" "$RUNS" "$MACHINE" "$PVEC_BLAS" "$NUMPY_BLAS" <<'PYEOF'
import json, sys
path, count, runs, machine, pvec_blas, numpy_blas = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
pv = {r["case"]: r for r in rows if r["impl"] == "pvec"}
np_ = {r["case"]: r for r in rows if r["impl"] == "numpy"}
print(f"Merge of {count} task vectors [100, 768] (1 or 2 for slerp and magnitude-prune), "
      f"median of {runs} runs after 2 warm-ups, wall time in process.\n")
print("| method | operands | pvec median ms | numpy median ms | pvec / numpy | pvec best ms | numpy best ms | max abs diff |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for case, p in pv.items():
    n = np_[case]
    ratio = p["median_ms"] / n["median_ms"] if n["median_ms"] else float("nan")
    print(f"| {case} | {p['operands']} | {p['median_ms']:.3f} | {n['median_ms']:.3f} | {ratio:.2f} | "
          f"{p['min_ms']:.3f} | {n['min_ms']:.3f} | {n['maxdiff']:.2g} |")
print(f"\nMachine: {machine}. pvec BLAS: {pvec_blas.strip()}. numpy: {numpy_blas.strip()}.")
print("Command: `Benchmarks/merge.sh` (RUNS=%s COUNT=%s THREADS=%s)." % (runs, count, __import__("os").environ.get("OPENBLAS_NUM_THREADS")))
PYEOF
