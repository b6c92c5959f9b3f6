#!/bin/sh
# bench/mpi_scaling.sh — data-parallel scaling of a training step on this machine (sngraph built
# with configure --with-mpi). Runs `sngraph bench --mpi` under mpirun three ways:
#   base   1 rank  x T threads       (T = cores / the largest P: what one rank gets below)
#   P      P ranks x T threads each  (P = 2 by default)
#   whole  1 rank  x every core      (for reference: one process on the same machine)
# and prints pairs/s, the share of the step spent in the gradient all-reduce, the bytes
# all-reduced per step and the data-parallel efficiency pairs/s(P) / (P * pairs/s(base)): the
# fraction of ideal scaling kept when every rank has its own T cores, as on P cluster nodes.
#
# Usage: bench/mpi_scaling.sh [MODEL]       (default siamese_vgg16)
# Environment: SNG_BIN (sngraph), SNG_MPIRUN (mpirun), BATCH (per rank, 8), STEPS (3), P (2),
#              MPIRUN_OPTS (extra mpirun options), WHOLE=0 skips the every-core run.
set -eu
bin=${SNG_BIN:-sngraph}
mpirun=${SNG_MPIRUN:-mpirun}
model=${1:-siamese_vgg16}
batch=${BATCH:-8}
steps=${STEPS:-3}
np=${P:-2}
cores=$(nproc)
t=$((cores / np))
[ "$t" -ge 1 ] || t=1
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
opts="--oversubscribe --allow-run-as-root --bind-to none ${MPIRUN_OPTS:-}"

field() { # field JSON KEY
    printf '%s\n' "$1" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" | tr -d '"'
}
run() { # run RANKS THREADS -> one JSON line
    # shellcheck disable=SC2086
    $mpirun $opts -np "$1" "$bin" bench --mpi --json --threads "$2" --batch "$batch" \
        --steps "$steps" "$model"
}

echo "model $model, batch $batch per rank, $steps timed steps, $cores cores"
base=$(run 1 "$t")
par=$(run "$np" "$t")
whole=
[ "${WHOLE:-1}" = 0 ] || whole=$(run 1 "$cores")
printf '%-28s %10s %10s %12s %16s\n' "configuration" "step s" "pairs/s" "all-reduce" "bytes/step"
set -- "$base" "$par"
[ -z "$whole" ] || set -- "$@" "$whole"
for j in "$@"; do
    printf '%-28s %10s %10s %11.1f%% %16s\n' \
        "$(field "$j" ranks) rank(s) x $(field "$j" threads_per_rank) thread(s)" \
        "$(field "$j" median_step_s)" "$(field "$j" pairs_per_s)" \
        "$(awk "BEGIN{print 100*$(field "$j" allreduce_share)}")" \
        "$(field "$j" allreduce_bytes_per_step)"
done
awk -v p="$(field "$par" pairs_per_s)" -v b="$(field "$base" pairs_per_s)" \
    -v w="$(field "$whole" pairs_per_s)" -v a="$(field "$par" allreduce_share)" -v n="$np" 'BEGIN {
    printf "data-parallel efficiency (P=%d vs %d x one rank on the same threads): %.1f%%\n",
        n, n, 100 * p / (n * b)
    printf "communication bound (step without its all-reduce / step): %.1f%%\n", 100 * (1 - a)
    if (w > 0) printf "P=%d ranks vs one process on every core of this machine: %.2fx\n", n, p / w
}'
