#!/bin/bash
# bench/serve_load.sh — throughput and p50/p99 latency of `sngraph serve` for /v1/compare and
# /v1/identify with 1, 8 and 32 concurrent clients, against galleries of 1,000 and 10,000
# identities, and one `sngraph identify` process per query for comparison. Loopback only;
# every cell is bounded by a request count and a time limit, and the script stops by itself.
#
# Usage: bench/serve_load.sh [CHECKPOINT]
#   CHECKPOINT  a checkpoint of a 1x28x28 model (default: siamese_small trained for 30 steps on
#               generated images, in a temporary directory)
# Environment: THREADS (model threads, default 1: the clients need a core too), REQUESTS (per cell, default 1000), SECONDS_PER_CELL
# (time limit per cell, default 10), SIZES (default "1000 10000"), CLIENTS (default "1 8 32").
# Run it alone on the machine (here: under flock /tmp/sng-cpu.lock); needs python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sng=$here/sngraph
load=$here/bench/serve_load
threads=${THREADS:-1}
requests=${REQUESTS:-1000}
seconds=${SECONDS_PER_CELL:-10}
sizes=${SIZES:-"1000 10000"}
clients=${CLIENTS:-"1 8 32"}
export OMP_WAIT_POLICY=passive SNG_MODEL_DIR=$here/models
[ -x "$sng" ] && [ -x "$load" ] || { echo "serve_load.sh: build first (make)" >&2; exit 2; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# Generated 28x28 grey images: 6 classes of stripes for training, noise for each gallery size.
python3 - "$tmp" "$sizes" <<'PY'
import os, random, sys
root = sys.argv[1]; random.seed(7)
def pgm(path, f):
    px = bytes(max(0, min(255, f(x, y) + random.randint(-30, 30))) for y in range(28) for x in range(28))
    with open(path, "wb") as o: o.write(b"P5 28 28 255\n" + px)
for c in range(6):
    os.makedirs(f"{root}/train/c{c}", exist_ok=True)
    for k in range(10): pgm(f"{root}/train/c{c}/{k}.pgm", lambda x, y: 200 if (x + c * y) // 4 % 2 else 40)
for n in sys.argv[2].split():
    os.makedirs(f"{root}/g{n}", exist_ok=True)
    for i in range(int(n)): pgm(f"{root}/g{n}/p{i:05d}.pgm", lambda x, y: 128)
PY
ckpt=${1:-}
if [ -z "$ckpt" ]; then
    "$sng" run siamese_small --set data.source="$tmp/train" --set data.val.classes=c2,c3 \
        --set data.test.classes=c4,c5 --set train.steps=30 --set train.batch=8 --set eval.pairs=20 \
        --set eval.way=2 --set eval.episodes=5 --threads "$threads" --quiet --run-dir "$tmp/run" >/dev/null
    ckpt=$tmp/run/checkpoint.tar
fi
probe=$tmp/train/c0/0.pgm
python3 -c "import base64,json,sys; a=open(sys.argv[1],'rb').read(); b=open(sys.argv[2],'rb').read()
print(json.dumps({'a': base64.b64encode(a).decode(), 'b': base64.b64encode(b).decode()}))" \
    "$probe" "$tmp/train/c1/0.pgm" > "$tmp/compare.json"

echo "| endpoint | gallery | clients | requests/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|---:|---:|"
for n in $sizes; do
    "$sng" gallery add --ckpt "$ckpt" "$tmp/g$n.gal" --from "$tmp/g$n" >/dev/null
    # One process per query: what a script calling `sngraph identify` pays.
    t0=$(date +%s.%N)
    for i in 1 2 3 4 5 6 7 8 9 10; do
        "$sng" identify --ckpt "$ckpt" --threads "$threads" "$tmp/g$n.gal" "$probe" >/dev/null
    done
    t1=$(date +%s.%N)
    echo "| identify, one process per query | $n | 1 | $(python3 -c "print('%.1f | %.1f | -' % (10/($t1-$t0), 1000*($t1-$t0)/10))") |"
    "$sng" serve --ckpt "$ckpt" --gallery "$tmp/g$n.gal" --listen 127.0.0.1:0 --threads "$threads" \
        --max-batch 16 --max-wait-ms 2 --quiet > "$tmp/serve.out" &
    pid=$!
    for _ in $(seq 100); do grep -q listening "$tmp/serve.out" && break; sleep 0.1; done
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/serve.out")
    [ -n "$port" ] || { echo "serve_load.sh: the server did not start" >&2; exit 1; }
    for ep in identify compare; do
        for c in $clients; do
            if [ $ep = identify ]; then
                r=$("$load" "$port" "/v1/identify?top=5" image/x-portable-graymap "$probe" "$c" "$requests" "$seconds")
            else
                r=$("$load" "$port" /v1/compare application/json "$tmp/compare.json" "$c" "$requests" "$seconds")
            fi
            echo "$r" | python3 -c "import json,sys; r=json.loads(sys.stdin.read())
print('| %s | %s | %d | %.1f | %.2f | %.2f |' % ('$ep', '$n', r['clients'], r['rps'], r['p50_ms'], r['p99_ms']))"
        done
    done
    kill -TERM "$pid"; wait "$pid"; pid=
done
