/*
 * dist.h — data-parallel training across processes (MPI). One job: who am I (rank, size, ranks
 * on this node), start and stop MPI, average the parameter gradients of a session over all
 * ranks, and make every rank agree on a status so that one rank's failure stops them all.
 *
 * Process-wide state: MPI is initialised at most once per process. Built without MPI
 * (SNG_HAVE_MPI undefined) or started without an MPI launcher, every function is a cheap
 * single-process no-op (rank 0 of 1), so callers need no #ifdefs.
 */
#ifndef SNG_DIST_H
#define SNG_DIST_H

#include <stddef.h>

#include "engine/state.h"

/* Joins the MPI job when the process was started by an MPI launcher (mpirun, srun, mpiexec:
 * detected from their environment) and this build has MPI; otherwise stays single-process.
 * Idempotent. Sets MPI_ERRORS_RETURN so MPI failures come back as statuses. `stop` (may be
 * NULL) is polled while waiting on other ranks: once it is set, a collective that does not
 * complete within a grace period fails as "lost contact" instead of hanging.
 * Errors: SNG_ERR_UNSUPPORTED when launched by mpirun with several ranks but built without MPI
 * (P independent copies would overwrite each other's run directory); SNG_ERR_IO when MPI fails. */
sng_status sngi_dist_init(sng_ctx *ctx, volatile int *stop);
/* Leaves the MPI job. After a failed collective (a peer may be unreachable) MPI_Finalize, which
 * waits on every rank, is skipped and the launcher ends the job. No-op when single-process. */
void sngi_dist_finalize(void);

int sngi_dist_rank(void);           /* 0 when single-process */
int sngi_dist_size(void);           /* 1 when single-process */
int sngi_dist_local_size(void);     /* ranks sharing this node (MPI_COMM_TYPE_SHARED) */
/* Threads this rank should use: `requested` when > 0, else the CPUs this process may run on
 * (its affinity mask, which mpirun's binding narrows) divided among the ranks on this node that
 * share them, at least 1. So P ranks on one machine never oversubscribe it. */
int sngi_dist_threads(int requested);

/* Communication counters of the gradient averaging (for logs and `sngraph bench --mpi`). */
typedef struct sngi_dist_stats {
    double bytes_per_step;   /* bytes all-reduced per step (the gradient region) */
    double seconds;          /* total time spent in the gradient all-reduce */
    long calls;
} sngi_dist_stats;

/* Replaces the gradient region of s (slab + n_param_floats, every trainable parameter's
 * gradient) by its mean over all ranks, in buckets of a few MiB all in flight together.
 * Called after sng_session_backward, before the optimiser step: the step is then identical on
 * every rank. stats (may be NULL) accumulates counters. */
sng_status sngi_dist_grad_mean(sng_ctx *ctx, sng_session *s, sngi_dist_stats *stats);
/* Copies rank 0's whole slab (parameters, gradients, optimiser state) to every rank: one
 * starting point for all, whatever each rank initialised or loaded. */
sng_status sngi_dist_bcast_slab(sng_ctx *ctx, sng_session *s);
/* Copies n bytes at buf from rank 0 to every rank. */
sng_status sngi_dist_bcast(sng_ctx *ctx, void *buf, size_t n);

/* Replaces x[0..n) by its mean over all ranks (losses for the log). */
sng_status sngi_dist_mean(sng_ctx *ctx, double *x, int n);

/* Every rank passes its own status and flags (bits, OR-ed over ranks into *flags); every rank
 * gets the same result: SNG_OK when all were OK, else the status of the lowest failing rank,
 * with its message in ctx on every rank (prefixed "rank R: " when R != 0). flags may be NULL.
 * After a collective has failed (a peer may be gone) it only returns `local`: callers need not
 * track which ranks are still reachable. */
sng_status sngi_dist_agree(sng_ctx *ctx, sng_status local, int *flags);

#endif
