#!/usr/bin/env bash
# Benchmarks of issue 2 in one run: pvec (release build) against numpy + safetensors.
#
#   Benchmarks/run.sh            # full run (~15 min on 2 cores); writes Benchmarks/results-issue2.md
#   RUNS=5 INGEST=1000 ARTIFACTS=10000 Benchmarks/run.sh    # quick check
#   SECTIONS="1 2" Benchmarks/run.sh                        # only the process-level comparisons
#
# Generated data goes to $DATA (default /tmp/pvec-bench), never into the work tree.
# OPENBLAS_CORETYPE is left as the machine sets it, and reported.
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH=${SCRATCH:-.build-bench}
# Extra `swift build` flags, e.g. "--build-tests -Xswiftc -enable-testing" to share one
# release build with `swift test -c release` (same flags there, so nothing is rebuilt).
read -r -a BUILD_FLAGS <<< "${BUILD_FLAGS:-}"
DATA=${DATA:-/tmp/pvec-bench}
RUNS=${RUNS:-20}
INGEST=${INGEST:-10000}
ARTIFACTS=${ARTIFACTS:-100000}
OUT=${OUT:-Benchmarks/results-issue2.md}
PY=${PYTHON:-python3}
SECTIONS=${SECTIONS:-1 2 3 4}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

echo "== setup: python peers' packages"
"$PY" -c 'import numpy, safetensors' 2>/dev/null || "$PY" -m pip install --quiet safetensors
"$PY" -c 'import threadpoolctl' 2>/dev/null || "$PY" -m pip install --quiet threadpoolctl || true

echo "== build (release, --scratch-path $SCRATCH)"
swift build -c release --scratch-path "$SCRATCH" "${BUILD_FLAGS[@]}" --product pvec
swift build -c release --scratch-path "$SCRATCH" "${BUILD_FLAGS[@]}" --product pvec-bench
BIN=$(swift build -c release --scratch-path "$SCRATCH" "${BUILD_FLAGS[@]}" --show-bin-path)
PVEC="$BIN/pvec"
BENCH="$BIN/pvec-bench"

mkdir -p "$DATA"
RESULTS="$DATA/results.jsonl"
: > "$RESULTS"

echo "== environment"
PVEC_BLAS=$("$BENCH" blas)
NUMPY_BLAS=$("$PY" Benchmarks/peers/blas_info.py | tr '\n' ' ')
MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "pvec:  $PVEC_BLAS"
echo "numpy: $NUMPY_BLAS"
"$PY" - "$RESULTS" "$MACHINE" "$PVEC_BLAS" "$NUMPY_BLAS" "$RUNS" <<'PYEOF'
import json, sys
path, machine, pvec_blas, numpy_blas, runs = sys.argv[1:]
load = " ".join(open("/proc/loadavg").read().split()[:3])
with open(path, "a") as f:
    f.write(json.dumps({"bench": "env", "machine": machine, "pvec_blas": pvec_blas,
                        "numpy_blas": numpy_blas.strip(), "runs": int(runs), "load": load,
                        "command": "Benchmarks/run.sh"}) + "\n")
PYEOF

if want 1; then
echo "== 1. add + export"
A="$DATA/add"
"$BENCH" add-setup "$A"
cp -a "$A/registry" "$A/registry-warm"
"$PVEC" add --registry "$A/registry-warm" a b --lambda 0.25 --name warmup > /dev/null
F="$A/files"
"$PY" Benchmarks/harness.py --runs "$RUNS" --warmup 2 \
    --case pvec-add-export "$PVEC add --registry $A/run a b --lambda 0.5 --name c && $PVEC export --registry $A/run c --out $A/c.safetensors" \
    --prepare "rm -rf $A/run && cp -a $A/registry $A/run" \
    --case pvec-add-export-warm "$PVEC add --registry $A/run-warm a b --lambda 0.5 --name c && $PVEC export --registry $A/run-warm c --out $A/c-warm.safetensors" \
    --prepare "rm -rf $A/run-warm && cp -a $A/registry-warm $A/run-warm" \
    --case numpy-add-export "$PY Benchmarks/peers/add_export.py $F/a.safetensors $F/b.safetensors $F/init.safetensors $A/c-numpy.safetensors 0.5" \
    --case pvec-startup "$PVEC --version" \
    --case python-startup "$PY -c 'import numpy, safetensors.numpy'" \
    | tee -a "$RESULTS"
# Same numbers from both sides (safetensors F32, max |difference|).
"$PY" - "$A/c.safetensors" "$A/c-numpy.safetensors" <<'PYEOF'
import sys, numpy as np
from safetensors.numpy import load_file
# pvec exports under PEFT's key (prompt_embeddings), the peer under "tensor": take the only one.
a, b = (next(iter(load_file(p).values())) for p in sys.argv[1:3])
d = float(np.abs(a - b).max())
print(f"check: pvec and numpy results differ by at most {d:.3g}")
assert d < 1e-6, d
PYEOF
fi

if want 2; then
echo "== 2. cos --matrix over 200 vectors"
C="$DATA/cos"
"$BENCH" cos-matrix-setup "$C" --count 200
NAMES=$(tr '\n' ' ' < "$C/names.txt")
"$PY" Benchmarks/harness.py --runs "$RUNS" --warmup 2 \
    --case pvec-cos-matrix "$PVEC cos --registry $C/registry --matrix $NAMES" \
    --case numpy-cos-matrix "$PY Benchmarks/peers/cos_matrix.py $C/files" \
    | tee -a "$RESULTS"
fi

if want 3; then
echo "== 3. ingest of $INGEST prompts (library level)"
"$BENCH" ingest "$DATA/ingest" --count "$INGEST" | tee -a "$RESULTS"
fi

if want 4; then

echo "== 4. resolve and lineage with $ARTIFACTS artifacts (set-up is reused when present)"
L="$DATA/lookup"
"$BENCH" lookup "$L" --artifacts "$ARTIFACTS" --reuse | tee -a "$RESULTS"
"$PY" Benchmarks/harness.py --runs "$RUNS" --warmup 2 \
    --case pvec-lineage-cli "$PVEC lineage --registry $L/registry tip" \
    --case pvec-show-cli "$PVEC show --registry $L/registry eval000100" \
    | tee -a "$RESULTS"
fi

"$PY" Benchmarks/report.py "$RESULTS" > "$OUT"
echo "== results ($OUT)"
cat "$OUT"
