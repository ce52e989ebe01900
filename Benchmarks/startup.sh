#!/usr/bin/env bash
# Issue 13, goal 1: start-up of whole `pvec` processes next to `git --version`, in one run.
# Builds the release binary as shipped (`--static-swift-stdlib`) and, with SHARED=1, the same
# code with the Swift runtime and Foundation as shared libraries, for comparison; counts the
# shared libraries each maps. Writes Benchmarks/results-issue13-startup.md.
#
#   Benchmarks/startup.sh            # 200 runs per case
#   RUNS=50 SHARED=1 Benchmarks/startup.sh
#   SCRATCH=.build-bench RUNS=100 Benchmarks/startup.sh   # reuse a static release build there
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-200}
OUT=${OUT:-/tmp/pvec-bench-startup}
RESULTS=${RESULTS:-Benchmarks/results-issue13-startup.md}
SCRATCH=${SCRATCH:-.build-static}
swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product pvec >&2
STATIC=$SCRATCH/release/pvec
DYNAMIC=""
if [ "${SHARED:-0}" = 1 ]; then
    swift build -c release --scratch-path .build-bench --product pvec >&2
    DYNAMIC=.build-bench/release/pvec
fi

rm -rf "$OUT"; mkdir -p "$OUT"
python3 -c "import numpy as np; np.save('$OUT/p.npy', (np.arange(100 * 768, dtype='<f4') / 1e5).reshape(100, 768))"
"$STATIC" init --registry "$OUT/reg" >/dev/null
"$STATIC" import "$OUT/p.npy" --name team/prompt --registry "$OUT/reg" >/dev/null

python3 Benchmarks/harness.py --runs "$RUNS" --warmup 5 \
    --case "git --version" "git --version" \
    --case "pvec --version (static)" "$STATIC --version" \
    --case "pvec show NAME (static)" "$STATIC show team/prompt --registry $OUT/reg" \
    ${DYNAMIC:+--case "pvec --version (shared runtime)" "$DYNAMIC --version"} \
    ${DYNAMIC:+--case "pvec show NAME (shared runtime)" "$DYNAMIC show team/prompt --registry $OUT/reg"} \
    > "$OUT/times.jsonl"
libs_static=$(ldd "$STATIC" | wc -l)
libs_dynamic=$([ -n "$DYNAMIC" ] && ldd "$DYNAMIC" | wc -l || echo "not built")
python3 - "$OUT/times.jsonl" "$RESULTS" "$RUNS" "$libs_static" "$libs_dynamic" "$(ldd "$STATIC" | awk '{print $1}' | tr '\n' ' ')" <<'PY'
import json, sys, os, platform
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
results, runs, ls, ld, names = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
for r in rows: r["name"] = r["case"]
by = {r["name"]: r for r in rows}
git = by["git --version"]["median_ms"]
out = ["# Start-up (issue 13, goal 1)", "",
       f"Whole processes, median of {runs} runs after 5 warm-ups, cases interleaved round by round "
       f"(`Benchmarks/startup.sh`, `Benchmarks/harness.py`); {os.cpu_count()} cores, {platform.machine()}. "
       "No BLAS runs in these commands (OpenBLAS is opened on first use).", "",
       "| command | median | CPU (user+sys) | × `git --version` | goal |", "| --- | ---: | ---: | ---: | --- |"]
for r in rows:
    goal = "≤ 3×" if "static" in r["name"] else ""
    out.append(f"| `{r['name']}` | {r['median_ms']:.2f} ms | {r['cpu_median_ms']:.2f} ms | {r['median_ms'] / git:.1f}× | {goal} |")
out += ["", f"Shared libraries mapped: static build {ls} ({names.strip()}), shared-runtime build {ld}."]
open(results, "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
