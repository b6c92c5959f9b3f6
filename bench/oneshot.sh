#!/bin/bash
# bench/oneshot.sh — one-shot inference speed on a checkpoint: `embed` images/s at batch 1 and
# 64, and `identify` latency against galleries of 10, 1,000 and 10,000 enrolled identities
# (median of REPEAT runs of the time identify itself reports: one branch pass for the query plus
# the head over the cached embeddings; loading the checkpoint is not included).
#
# Usage: bench/oneshot.sh CHECKPOINT [SNGRAPH]
#   CHECKPOINT  e.g. from: sngraph run siamese_vgg16 --set train.steps=2 --run-dir /tmp/r
#   SNGRAPH     the program (default: ./sngraph, else sngraph on PATH)
# THREADS (default: all cores), SIZES (default "10 1000 10000"), REPEAT (default 5).
# Images are random 105x105 PGM files in a temporary directory; enrolling 10,000 of them runs
# 10,000 backbone passes (minutes for VGG16 on 2 cores).
set -euo pipefail
ckpt=${1:?usage: bench/oneshot.sh CHECKPOINT [SNGRAPH]}
sng=${2:-$( [ -x ./sngraph ] && echo ./sngraph || command -v sngraph )}
threads=${THREADS:-0}
sizes=${SIZES:-10 1000 10000}
repeat=${REPEAT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
max=0
for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done
mkdir -p "$tmp/img"
for ((i = 0; i < max; i++)); do
    { printf 'P5\n105 105\n255\n'; head -c 11025 /dev/urandom; } > "$tmp/img/$(printf 'p%05d' "$i").pgm"
done
all=("$tmp"/img/*.pgm) # name order
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "checkpoint: $ckpt  threads: ${threads/#0/all}"
for b in 1 64; do
    n=$((b == 1 ? 32 : 256))
    "$sng" embed --ckpt "$ckpt" --threads "$threads" --batch "$b" -o "$tmp/e.npy" "${all[@]:0:n}" |
        sed -n 's/.*(\([0-9.]*\) images\/s at batch \([0-9]*\)).*/embed: \1 images\/s at batch \2/p'
done
for n in $sizes; do
    mkdir -p "$tmp/g$n"
    ln "${all[@]:0:n}" "$tmp/g$n/"
    start=$(date +%s.%N)
    "$sng" gallery add --ckpt "$ckpt" --threads "$threads" "$tmp/g$n.gal" --from "$tmp/g$n" > /dev/null
    enrol=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
    ms=$(for ((r = 0; r < repeat; r++)); do
        "$sng" identify --ckpt "$ckpt" --threads "$threads" --json "$tmp/g$n.gal" "$tmp/img/p00000.pgm" |
            sed -n 's/.*"ms":\([0-9.]*\).*/\1/p'
    done | median)
    printf "identify: gallery of %6d identities: %8.2f ms (median of %d; enrolling took %.1f s)\n" \
        "$n" "$ms" "$repeat" "$enrol"
done
