#!/usr/bin/env bash
# Issue 10 benchmark: push and pull of N prompts (100x768 Float32) to one local CNCF
# distribution registry (Debian's docker-registry, filesystem storage) by pvec, by the Python
# ORAS client (`oras` package) and `cp -r` of the same safetensors files, in one run.
# Each round starts from empty registry storage; the median of ROUNDS rounds is reported.
# Writes Benchmarks/results-issue10.md.
#
#   Benchmarks/oci.sh                 # 1000 prompts, 3 rounds
#   N=100 ROUNDS=1 Benchmarks/oci.sh  # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}; ROWS=${ROWS:-100}; WIDTH=${WIDTH:-768}; ROUNDS=${ROUNDS:-3}
OUT=${OUT:-/tmp/pvec-bench-oci}
RESULTS=${RESULTS:-Benchmarks/results-issue10.md}
if [ -z "${PVEC:-}" ]; then
    swift build -c release --scratch-path .build-bench --product pvec >&2
    PVEC=.build-bench/release/pvec
fi
[ -x /usr/bin/docker-registry ] || { echo "docker-registry is missing: scripts/bootstrap" >&2; exit 1; }
python3 -c "import oras" 2>/dev/null || pip install -q oras >&2

rm -rf "$OUT"; mkdir -p "$OUT/npy" "$OUT/files"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

echo "== making $N prompts of ${ROWS}x${WIDTH}" >&2
python3 - "$OUT/npy" "$N" "$ROWS" "$WIDTH" <<'PY'
import sys, numpy as np
out, n, rows, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(10)
init = (rng.standard_normal((rows, width)) * 0.05).astype('<f4')
np.save(f"{out}/init.npy", init)
for i in range(n):
    np.save(f"{out}/p{i:04d}.npy", (init + rng.standard_normal((rows, width)) * 0.02).astype('<f4'))
PY
A="$OUT/a"
"$PVEC" init --registry "$A" >/dev/null
"$PVEC" import "$OUT/npy/init.npy" --name bench/init --kind init --backbone bench --registry "$A" >/dev/null
names=()
for i in $(seq -f "%04g" 0 $((N - 1))); do
    "$PVEC" import "$OUT/npy/p$i.npy" --name "bench/p$i" --init bench/init --registry "$A" >/dev/null
    # The peers move the same bytes pvec's layers carry: the canonical safetensors file.
    "$PVEC" export "bench/p$i" --format safetensors --out "$OUT/files/p$i.safetensors" --registry "$A" >/dev/null
    names+=("bench/p$i")
done
bytes=$(du -sb "$OUT/files" | cut -f1)

PORT=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
REG=""
start_registry() {  # empty storage each time
    rm -rf "$OUT/storage"; mkdir -p "$OUT/storage"
    cat > "$OUT/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $OUT/storage
http:
  addr: 127.0.0.1:$PORT
YML
    /usr/bin/docker-registry serve "$OUT/registry.yml" >"$OUT/registry.log" 2>&1 &
    REG=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && return; sleep 0.1; done
    echo "docker-registry did not start" >&2; exit 1
}
# CPU the registry process has used so far, in ms (user + system, from /proc/PID/stat).
registry_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$REG/stat"; }
# Appends "<what>_regcpu <ms>" for the registry CPU one phase used.
cpu_since() { echo "$1_regcpu $(( $(registry_cpu) - $2 ))" >> "$OUT/times.txt"; }
stop_registry() { [ -n "$REG" ] && kill "$REG" 2>/dev/null && wait "$REG" 2>/dev/null || true; REG=""; }
trap stop_registry EXIT

: > "$OUT/times.txt"
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round: pvec" >&2
    rm -f "$OUT/trace-push.txt" "$OUT/trace-pull.txt"
    start_registry
    "$PVEC" remote add "oci$round" "oci://127.0.0.1:$PORT/pvec-bench" --plain-http --registry "$A" >/dev/null
    # PVEC_HTTP_TRACE logs each request (one line, a locked append) for the profile below.
    c0=$(registry_cpu)
    t0=$(now); PVEC_HTTP_TRACE="$OUT/trace-push.txt" "$PVEC" push "oci$round" "${names[@]}" --json --registry "$A" > "$OUT/push1.json"; t1=$(now)
    echo "pvec_push $(secs "$t0" "$t1")" >> "$OUT/times.txt"; cpu_since pvec_push "$c0"
    t0=$(now); "$PVEC" push "oci$round" "${names[@]}" --json --registry "$A" > "$OUT/push2.json"; t1=$(now)
    echo "pvec_repush $(secs "$t0" "$t1")" >> "$OUT/times.txt"
    rm -rf "$OUT/b"
    c0=$(registry_cpu)
    t0=$(now); PVEC_HTTP_TRACE="$OUT/trace-pull.txt" "$PVEC" clone "oci://127.0.0.1:$PORT/pvec-bench" "$OUT/b" --plain-http --json > "$OUT/pull.json"; t1=$(now)
    echo "pvec_pull $(secs "$t0" "$t1")" >> "$OUT/times.txt"; cpu_since pvec_pull "$c0"
    cmp <("$PVEC" ls --json --registry "$A" | python3 -c "import json,sys;print(sorted(a['id'] for a in json.load(sys.stdin)))") \
        <("$PVEC" ls --json --registry "$OUT/b" | python3 -c "import json,sys;print(sorted(a['id'] for a in json.load(sys.stdin)))")
    stop_registry

    echo "== round $round: oras" >&2
    start_registry
    c0=$(registry_cpu)
    t0=$(now); python3 Benchmarks/peers/oras_push_pull.py push "127.0.0.1:$PORT/oras-bench" "$OUT/files" >/dev/null; t1=$(now)
    echo "oras_push $(secs "$t0" "$t1")" >> "$OUT/times.txt"; cpu_since oras_push "$c0"
    rm -rf "$OUT/oras-out"
    c0=$(registry_cpu)
    t0=$(now); python3 Benchmarks/peers/oras_push_pull.py pull "127.0.0.1:$PORT/oras-bench" "$OUT/files" "$OUT/oras-out" >/dev/null; t1=$(now)
    echo "oras_pull $(secs "$t0" "$t1")" >> "$OUT/times.txt"; cpu_since oras_pull "$c0"
    cmp "$OUT/files/p0000.safetensors" "$OUT/oras-out/p0000.safetensors"
    stop_registry

    echo "== round $round: cp" >&2
    rm -rf "$OUT/cp"
    t0=$(now); cp -r "$OUT/files" "$OUT/cp"; t1=$(now)
    echo "cp $(secs "$t0" "$t1")" >> "$OUT/times.txt"
done

pushed=$(python3 -c "import json;print(json.load(open('$OUT/push1.json'))['bytes'])")
repushed=$(python3 -c "import json;print(json.load(open('$OUT/push2.json'))['bytes'])")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$OUT/times.txt" "$RESULTS" "$N" "$ROWS" "$WIDTH" "$bytes" "$pushed" "$repushed" "$ROUNDS" \
    "$load_before" "$load_after" "$OUT/trace-push.txt" "$OUT/trace-pull.txt" "${STREAMS_NOTE:-${PVEC_OCI_STREAMS:-8}}" <<'PY'
import sys, statistics, collections, os, platform
times, results, n, rows, width, size, pushed, repushed, rounds, load0, load1, tpush, tpull, streams = sys.argv[1:15]
t = collections.defaultdict(list)
for line in open(times):
    k, v = line.split(); t[k].append(float(v))
m = {k: statistics.median(v) for k, v in t.items()}
mb = int(size) / 1e6
def row(what, k, peer=None):
    s = m[k]; r = f"{mb / s:.0f} MB/s"
    vs_oras = f"{m[peer] / s:.2f}×" if peer else ""
    vs_cp = f"{100 * m['cp'] / s:.0f}%" if k != 'cp' else "100%"
    cpu = f"{m[k + '_regcpu'] / 1000:.1f} s" if k + '_regcpu' in m else ""
    return f"| {what} | {s:.2f} s | {r} | {vs_oras} | {vs_cp} | {cpu} |"
lines = [
    f"# OCI publishing benchmark (issue 10)",
    "",
    f"{n} prompts of {rows}×{width} Float32 ({mb:.0f} MB of safetensors layers), one local "
    f"docker-registry (CNCF distribution, filesystem storage) on 127.0.0.1, median of {rounds} rounds, "
    f"each on empty storage. `Benchmarks/oci.sh`; {os.cpu_count()} cores, {platform.machine()}, "
    f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')} (no BLAS in this path).",
    "",
    "| case | time | rate | pvec vs ORAS (×, higher is better) | % of `cp -r` | registry CPU |",
    "| --- | --- | --- | --- | --- | --- |",
    row("pvec push", "pvec_push", "oras_push"),
    row("ORAS (Python `oras`) push", "oras_push"),
    row("pvec pull (clone)", "pvec_pull", "oras_pull"),
    row("ORAS (Python `oras`) pull", "oras_pull"),
    row("`cp -r` of the files", "cp"),
    "",
    f"pvec's push moved {int(pushed)/1e6:.0f} MB; a second push moved {int(repushed)} bytes in {m['pvec_repush']:.2f} s.",
    f"pvec kept {streams} requests in flight (`PVEC_OCI_STREAMS`). Load average (1, 5, 15 min) "
    f"{load0} before the run, {load1} after: the 2 cores were shared with other builds and tests.",
    "Registry CPU is the user + system time the docker-registry process spent in that phase "
    "(/proc/PID/stat); the client runs on the same cores.",
]
def profile(path, what):
    # One line per request: start ms, duration ms, method, status, sent, received, path.
    if not os.path.exists(path): return []
    rows = [l.split() for l in open(path) if l.strip()]
    if not rows: return []
    groups = collections.defaultdict(list)
    for start, took, method, status, sent, received, p in rows:
        parts = p.split("/")
        kind = "blob upload" if "/blobs/uploads/" in p else (parts[-2] if len(parts) > 2 else p)
        if kind == "manifests":
            ref = parts[-1]
            kind = "manifest " + ("by digest" if ref.startswith("sha256:") else "id tag" if ref.startswith("_id.")
                                  else "version tag" if ref.startswith("_v") else "name tag")
        groups[f"{method} {kind}"].append(float(took))
    wall = max(float(r[0]) + float(r[1]) for r in rows) - min(float(r[0]) for r in rows)
    out = ["", f"{what}: {len(rows)} requests ({len(rows) / int(n):.1f} per prompt) in {wall / 1000:.1f} s of network phases "
           f"(from the first request to the end of the last one):", "",
           "| request | count | median ms | p99 ms | sum s |", "| --- | ---: | ---: | ---: | ---: |"]
    for k, v in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        v.sort()
        out.append(f"| {k} | {len(v)} | {v[len(v) // 2]:.1f} | {v[min(len(v) - 1, int(len(v) * 0.99))]:.1f} | {sum(v) / 1000:.1f} |")
    return out
lines += profile(tpush, "pvec push (last round)") + profile(tpull, "pvec clone (last round)")
open(results, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
