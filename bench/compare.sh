#!/bin/bash
# bench/compare.sh — sngraph vs the PyTorch reference on the same Siamese VGG16 workload, in one
# run on this machine, alternating the two, and prints the ratios (pairs/s, RSS, start-up).
#
# Usage: bench/compare.sh [SNGRAPH] [REFERENCE_SCRIPT]
#   SNGRAPH            the sngraph program (default: ./sngraph, else sngraph on PATH)
#   REFERENCE_SCRIPT   bench_torch.py (default: ../shared/bench/bench_torch.py)
# Needs Debian's python3-torch (apt-get install python3-torch) for the reference; results are
# appended as JSON lines to bench/results.jsonl. THREADS (default 2), ROUNDS (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sng=${1:-$( [ -x ./sngraph ] && echo ./sngraph || command -v sngraph )}
ref=${2:-$here/../shared/bench/bench_torch.py}
model=$here/models/siamese_vgg16.xml
threads=${THREADS:-2}
rounds=${ROUNDS:-2}
out=${OUT:-$here/bench/results.jsonl}
py=/usr/bin/python3
have_torch=1
if [ ! -f "$ref" ] || ! $py -c 'import torch' 2>/dev/null; then
    echo "compare.sh: no PyTorch reference (apt-get install python3-torch; script at $ref):" \
         "measuring sngraph only" >&2
    have_torch=0
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
run_sng() { # tag args...
    local tag=$1; shift
    "$sng" bench --json --threads "$threads" "$@" "$model" \
        | $py -c "import json,sys; r=json.loads(sys.stdin.read()); r['tag']='$tag'; r['peer']='sngraph'; print(json.dumps(r))" >> "$tmp"
}
run_ref() { # tag args...
    [ $have_torch = 1 ] || return 0
    local tag=$1; shift
    $py "$ref" "$@" --threads "$threads" \
        | $py -c "import json,sys
for l in sys.stdin:
    l=l.strip()
    if l.startswith('{'):
        r=json.loads(l); r['tag']='$tag'; print(json.dumps(r))" >> "$tmp"
}
for r in $(seq "$rounds"); do
    echo "round $r/$rounds" >&2
    run_sng train32 --train --batch 32 --steps 3
    run_ref train32 train --batches 32 --steps 3 --warmup 1
    run_sng infer32 --infer --batch 32 --steps 5
    run_ref infer32 infer --batches 32 --steps 5 --warmup 1
    run_ref infer32cl infer --batches 32 --steps 5 --warmup 1 --channels-last
    run_sng infer1 --infer --batch 1 --steps 10
    run_ref infer1 infer --batches 1 --steps 10 --warmup 2
    run_sng mem32 --train --batch 32 --steps 5
    run_ref mem32 mem --batches 32 --steps 5
    run_sng startup --infer --batch 1 --steps 1
    run_ref startup startup
done
cat "$tmp" >> "$out"
$py - "$tmp" <<'PY'
import json, sys, statistics as st
recs = [json.loads(l) for l in open(sys.argv[1])]
def best(tag, peer, key, agg=max):
    v = [r[key] for r in recs if r.get('tag') == tag and r.get('peer') == peer and key in r]
    return agg(v) if v else None
rows = []
def ratio(name, a, b, better):
    if a is None:
        return
    if b is None:
        rows.append((name, a, None, None, better)); return
    rows.append((name, a, b, a / b if b else None, better))
s_tr, t_tr = best('train32', 'sngraph', 'pairs_per_s'), best('train32', 'pytorch', 'pairs_per_s')
ratio('training pairs/s, batch 32', s_tr, t_tr, 'higher')
s_in = best('infer32', 'sngraph', 'pairs_per_s')
t_in = max([x for x in (best('infer32', 'pytorch', 'pairs_per_s'), best('infer32cl', 'pytorch', 'pairs_per_s')) if x] or [None]) if any(r.get('peer') == 'pytorch' for r in recs) else None
ratio('inference pairs/s, batch 32 (PyTorch best layout)', s_in, t_in, 'higher')
ratio('inference pairs/s, batch 1', best('infer1', 'sngraph', 'pairs_per_s'), best('infer1', 'pytorch', 'pairs_per_s'), 'higher')
s_rss = best('mem32', 'sngraph', 'peak_rss_bytes', min)
t_rss = best('mem32', 'pytorch', 'maxrss_mib', min)
ratio('peak RSS MiB, 5 training steps batch 32', s_rss / 1048576 if s_rss else None, t_rss, 'lower')
ratio('start-up to first forward, s', best('startup', 'sngraph', 'startup_s', min), best('startup', 'pytorch', 'to_first_forward_s', min), 'lower')
g = best('train32', 'sngraph', 'gflops'); pk = best('train32', 'sngraph', 'sgemm_gflops')
print('%-52s %12s %12s %8s' % ('measure', 'sngraph', 'pytorch', 'ratio'))
for name, a, b, r, better in rows:
    print('%-52s %12.3f %12s %8s  (%s is better)' % (name, a, '%.3f' % b if b is not None else '-', '%.2fx' % r if r else '-', better))
if g and pk:
    print('sngraph training step: %.1f GFLOP/s = %.0f%% of BLIS sgemm (%.1f GFLOP/s) on the same threads' % (g, 100 * g / pk, pk))
PY
