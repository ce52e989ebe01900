#!/usr/bin/env bash
# Issue 5 benchmarks: push and pull of N prompts over loopback (next to cp of the same bytes),
# a second push that should move ~0 bytes, and `pvec serve` under concurrent pulling clients
# (wrk, from Debian's package). Writes Benchmarks/results-issue5.md.
#
#   Benchmarks/remote.sh                     # 1000 prompts of 100x768, 32 clients for 30 s
#   N=100 LOAD_SECONDS=5 Benchmarks/remote.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}; ROWS=${ROWS:-100}; WIDTH=${WIDTH:-768}
CLIENTS=${CLIENTS:-32}; LOAD_SECONDS=${LOAD_SECONDS:-30}
OUT=${OUT:-bench-out/remote}
RESULTS=${RESULTS:-Benchmarks/results-issue5.md}
if [ -z "${PVEC:-}" ]; then
    swift build -c release --scratch-path .build-remote --product pvec >&2
    PVEC=.build-remote/release/pvec
fi
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

rm -rf "$OUT"; mkdir -p "$OUT/npy"
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

echo "== making $N prompts of ${ROWS}x${WIDTH}" >&2
python3 - "$OUT/npy" "$N" "$ROWS" "$WIDTH" <<'PY'
import sys, numpy as np
out, n, rows, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(5)
init = rng.standard_normal((rows, width)).astype('<f4') * 0.05
np.save(f"{out}/init.npy", init)
for i in range(n):
    # A tuned-looking prompt: the init plus a small drift.
    np.save(f"{out}/p{i:04d}.npy", (init + rng.standard_normal((rows, width)).astype('<f4') * 0.02).astype('<f4'))
PY
A="$OUT/a"; B="$OUT/b"; S="$OUT/server"
"$PVEC" init --registry "$A" >/dev/null
"$PVEC" import "$OUT/npy/init.npy" --name bench/init --kind init --backbone bench --registry "$A" >/dev/null
names=()
for i in $(seq -f "%04g" 0 $((N - 1))); do
    "$PVEC" import "$OUT/npy/p$i.npy" --name "bench/p$i" --init bench/init --registry "$A" >/dev/null
    names+=("bench/p$i")
done
"$PVEC" init --registry "$S" >/dev/null
"$PVEC" token create --scope write:bench/ --name bench --registry "$S" > "$OUT/write.token"
"$PVEC" token create --scope read --name reader --registry "$S" > "$OUT/read.token"
"$PVEC" serve --listen 127.0.0.1:0 --registry "$S" > "$OUT/serve.out" 2>"$OUT/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$OUT/serve.out" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$OUT/serve.out")
"$PVEC" remote add hub "$URL" --token-file "$OUT/write.token" --registry "$A" >/dev/null

raw=$((N * ROWS * WIDTH * 4))
stored=$(du -sb "$A/objects" | cut -f1)

echo "== push" >&2
t0=$(now); "$PVEC" push hub "${names[@]}" --json --registry "$A" > "$OUT/push1.json"; t1=$(now)
push_s=$(secs "$t0" "$t1"); push_bytes=$(python3 -c "import json;print(json.load(open('$OUT/push1.json'))['bytes'])")
t0=$(now); "$PVEC" push hub "${names[@]}" --json --registry "$A" > "$OUT/push2.json"; t1=$(now)
push2_s=$(secs "$t0" "$t1"); push2_bytes=$(python3 -c "import json;print(json.load(open('$OUT/push2.json'))['bytes'])")

echo "== pull" >&2
"$PVEC" init --registry "$B" >/dev/null
"$PVEC" remote add hub "$URL" --token-file "$OUT/read.token" --registry "$B" >/dev/null
t0=$(now); "$PVEC" pull hub --json --registry "$B" > "$OUT/pull.json"; t1=$(now)
pull_s=$(secs "$t0" "$t1"); pull_bytes=$(python3 -c "import json;print(json.load(open('$OUT/pull.json'))['bytes'])")
cmp <("$PVEC" ls --json --registry "$A" | python3 -c "import json,sys;print(sorted(a['id'] for a in json.load(sys.stdin)))") \
    <("$PVEC" ls --json --registry "$B" | python3 -c "import json,sys;print(sorted(a['id'] for a in json.load(sys.stdin)))")

echo "== cp" >&2
t0=$(now); cp -r "$A/objects" "$OUT/cp-objects"; t1=$(now); cp_s=$(secs "$t0" "$t1")
rm -rf "$OUT/cp-objects"
t0=$(now); cp -r "$A/objects" "$OUT/cp-objects"; sync; t1=$(now); cpsync_s=$(secs "$t0" "$t1")

echo "== load: $CLIENTS clients for ${LOAD_SECONDS}s" >&2
"$PVEC" ls --json --registry "$S" | python3 -c "
import json, sys
for a in json.load(sys.stdin):
    print('/v1/manifests/' + a['id'])
" > "$OUT/paths.txt"
find "$S/objects" -type f ! -name 'tmp_*' | awk -F/ '{print "/v1/blobs/" $(NF-1) $NF}' >> "$OUT/paths.txt"
cat > "$OUT/pull.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local auth = "Bearer " .. os.getenv("TOKEN")
request = function()
    return wrk.format("GET", paths[math.random(#paths)], { ["Authorization"] = auth })
end
LUA
PATHS="$OUT/paths.txt" TOKEN=$(cat "$OUT/read.token") \
    wrk -t2 -c"$CLIENTS" -d"${LOAD_SECONDS}s" --timeout 10s --latency -s "$OUT/pull.lua" "$URL" > "$OUT/wrk.txt"
cat "$OUT/wrk.txt" >&2
rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$OUT/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$OUT/wrk.txt")
total=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$OUT/wrk.txt"); non2xx=${non2xx:-0}
sockerr=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$OUT/wrk.txt"); sockerr=${sockerr:-0}
"$PVEC" verify --registry "$S" >/dev/null
load=$(cut -d' ' -f1-3 /proc/loadavg)

mb() { python3 -c "print(f'{$1 / 1e6:.1f}')"; }
rate() { python3 -c "print(f'{$1 / 1e6 / $2:.1f}')"; }
cat > "$RESULTS" <<MD
# Issue 5 benchmarks: publishing over loopback

Machine: 2 cores, loopback only; release build. Run with
\`Benchmarks/remote.sh\` (N=$N prompts of ${ROWS}x${WIDTH} F32, $CLIENTS clients for ${LOAD_SECONDS} s).
Raw bytes are the float data (N x rows x width x 4); pvec moves blobs as stored (PVB1: deflated
only where that saves a quarter of the bytes, so random prompts travel raw). MB/s is raw MB over wall time, which is
what a user waits for; every object is fsynced on arrival and re-hashed on both sides.

| what | time (s) | bytes moved | raw MB/s |
| --- | ---: | ---: | ---: |
| \`pvec push hub <$N names>\` (first) | $push_s | $push_bytes | $(rate $raw $push_s) |
| \`pvec push hub <$N names>\` (again) | $push2_s | $push2_bytes | - |
| \`pvec pull hub\` into an empty registry | $pull_s | $pull_bytes | $(rate $raw $pull_s) |
| \`cp -r objects\` (same stored bytes) | $cp_s | $stored | $(rate $raw $cp_s) |
| \`cp -r objects && sync\` | $cpsync_s | $stored | $(rate $raw $cpsync_s) |

Raw size $(mb $raw) MB; stored (and sent) $(mb $stored) MB.

Server under load: \`wrk -t2 -c$CLIENTS -d${LOAD_SECONDS}s --latency\`, each request a random
manifest or blob of the $N prompts (GET with a read token):

| clients | requests | requests/s | p50 | p99 | non-2xx | socket errors |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| $CLIENTS | $total | $rps | $p50 | $p99 | $non2xx | $sockerr |

Load average at the end of the run: $load (if other work shared the 2 cores, these are
floors). Where the time goes: objects travel in packs (POST /v1/pack, POST /v1/objects) of
about 16 MiB, four in flight; the receiver decodes and re-hashes every blob and checks it is
canonical, writes each pack's objects to temp files, fsyncs them (8 at a time) and the folder
once, and renames them; the server takes each pack of manifests in one SQLite transaction and
all names in one request and one transaction (POST /v1/names). A manifest is checked against
its blob, which is read and hashed again. \`cp\` does none of that. The second push asks the
server which of the 2,001 objects it lacks (one request), finds none, and sends nothing.
MD
cat "$RESULTS"
