/*
 * dist.c — MPI for data-parallel training (see dist.h): rank and size, start and stop, the mean
 * of the parameter gradients over ranks, broadcasts from rank 0 and status agreement.
 *
 * Every collective is non-blocking and completed by polling (MPI_Testall) rather than by a
 * blocking call: a rank waiting on a peer that died can then notice the stop flag (mpirun
 * sends SIGTERM to the survivors when a rank dies) and give up with a message instead of
 * hanging until it is killed. The communicator has MPI_ERRORS_RETURN, so a broken link becomes
 * an SNG_ERR_IO with MPI's own error string rather than an abort deep inside MPI.
 *
 * The gradients are averaged after the whole backward pass, not bucket by bucket while later
 * waves still run: Open MPI (4.x, shared memory and TCP) has no asynchronous progress thread,
 * so a non-blocking all-reduce only advances inside MPI calls, and backward waves are OpenMP
 * regions that make none. Overlap would need a per-wave hook in the executor that polls MPI;
 * doc/mpi.md gives the numbers that say when it would pay.
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/dist.h"

#ifdef SNG_HAVE_MPI
#include <mpi.h>
#endif

/* Process-wide state: MPI itself is per process. */
static struct {
    int joined;          /* this process called MPI_Init (and has not finalised) */
    int rank, size, local_size;
    int broken;          /* a collective failed: peers may be unreachable, collectives stop */
    volatile int *stop;
#ifdef SNG_HAVE_MPI
    MPI_Comm comm;       /* a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN */
#endif
} D = {0, 0, 1, 1, 0, NULL
#ifdef SNG_HAVE_MPI
       , MPI_COMM_NULL
#endif
};

/* Seconds a collective may stay incomplete after the stop flag was raised before this rank
 * concludes that a peer is gone. Long enough for a peer to finish a slow step and reach the
 * same collective when every rank was asked to stop (then they agree and checkpoint). */
#define STOP_GRACE_S 10.0
/* Gradient bucket: big enough that per-message latency does not matter, small enough that many
 * are in flight at once (so the transfers of one bucket overlap the reduction of another). */
#define BUCKET_FLOATS ((size_t)1 << 20)
#define MAX_BUCKETS 256

/* The world size an MPI launcher announced in our environment, 0 when none did. */
static int launcher_size(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                 "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v) > 0 ? atoi(v) : 1;
    }
    if (getenv("PMIX_RANK")) return 1; /* PMIx without a size variable: joined, size from MPI */
    return 0;
}

int sngi_dist_rank(void) { return D.rank; }
int sngi_dist_size(void) { return D.size; }
int sngi_dist_local_size(void) { return D.local_size; }

int sngi_dist_threads(int requested) {
    if (requested > 0) return requested;
    if (!D.joined) return 0; /* not an MPI job: the session's own default (every core) */
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cpus = online > 0 ? (int)online : 1, mask = cpus;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) mask = CPU_COUNT(&set);
    /* mpirun may bind the rank to a few cores (mask); unbound ranks share the node's cores. */
    int share = cpus / (D.local_size > 0 ? D.local_size : 1);
    int t = mask < share ? mask : share;
    return t > 0 ? t : 1;
}

#ifdef SNG_HAVE_MPI
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static sng_status mpi_fail(sng_ctx *ctx, int rc, const char *what) {
    D.broken = 1;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", rc);
    return sngi_fail(ctx, SNG_ERR_IO, "rank %d: %s failed: %s (a rank died or the network "
                                      "failed)", D.rank, what, msg);
}

/* Completes n requests, polling the stop flag (see the file comment). */
static sng_status wait_all(sng_ctx *ctx, int n, MPI_Request *req, const char *what) {
    double t_stop = 0;
    for (long spin = 0;; spin++) {
        int done = 0, rc = MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(ctx, rc, what);
        if (done) return SNG_OK;
        if (D.stop && *D.stop) {
            if (t_stop == 0) t_stop = now();
            else if (now() - t_stop > STOP_GRACE_S) {
                D.broken = 1;
                return sngi_fail(ctx, SNG_ERR_IO,
                                 "rank %d: %s: no answer from the other ranks %.0f s after the "
                                 "stop signal: a rank has died or the job is being torn down",
                                 D.rank, what, STOP_GRACE_S);
            }
        }
        /* Spin briefly for latency, then sleep so a waiting rank leaves its cores to others. */
        if (spin > 2000) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
}
#endif

sng_status sngi_dist_init(sng_ctx *ctx, volatile int *stop) {
    D.stop = stop;
    if (D.joined) return SNG_OK;
    const char *force = getenv("SNG_MPI");
    int announced = launcher_size();
    if (force && !strcmp(force, "0")) announced = 0;
#ifndef SNG_HAVE_MPI
    if (announced > 1)
        return sngi_fail(ctx, SNG_ERR_UNSUPPORTED,
                         "started by an MPI launcher as one of %d ranks, but this sngraph was "
                         "built without MPI (configure --with-mpi); refusing to run %d "
                         "independent copies of the same training",
                         announced, announced);
    return SNG_OK;
#else
    if (!announced && !(force && !strcmp(force, "1"))) return SNG_OK;
    int inited = 0, provided = 0, rc;
    MPI_Initialized(&inited);
    /* FUNNELED: only the main thread calls MPI (OpenMP workers and the loader thread never do). */
    if (!inited &&
        (rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided)) != MPI_SUCCESS)
        return sngi_fail(ctx, SNG_ERR_IO, "MPI_Init_thread failed (error %d)", rc);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &D.comm)) != MPI_SUCCESS)
        return mpi_fail(ctx, rc, "MPI_Comm_dup");
    MPI_Comm_set_errhandler(D.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(D.comm, &D.rank);
    MPI_Comm_size(D.comm, &D.size);
    MPI_Comm node;
    if ((rc = MPI_Comm_split_type(D.comm, MPI_COMM_TYPE_SHARED, D.rank, MPI_INFO_NULL, &node)) !=
        MPI_SUCCESS)
        return mpi_fail(ctx, rc, "MPI_Comm_split_type");
    MPI_Comm_size(node, &D.local_size);
    MPI_Comm_free(&node);
    D.joined = 1;
    return SNG_OK;
#endif
}

void sngi_dist_finalize(void) {
#ifdef SNG_HAVE_MPI
    if (!D.joined) return;
    D.joined = 0;
    /* MPI_Finalize synchronises with every rank: after a lost peer it would hang. Leaving
     * without it makes mpirun end the job, which is what a failure should do. */
    if (D.broken && D.size > 1) return;
    MPI_Comm_free(&D.comm);
    MPI_Finalize();
    D.rank = 0, D.size = D.local_size = 1;
#endif
}

sng_status sngi_dist_grad_mean(sng_ctx *ctx, sng_session *s, sngi_dist_stats *stats) {
    size_t ng;
    float *grad = sngi_session_grads(s, &ng);
    (void)grad; /* used by the MPI build only */
    if (stats) stats->bytes_per_step = (double)ng * sizeof(float) * (D.size > 1);
    if (D.size <= 1 || ng == 0) return SNG_OK;
#ifdef SNG_HAVE_MPI
    double t0 = now();
    size_t bucket = BUCKET_FLOATS;
    if ((ng + bucket - 1) / bucket > MAX_BUCKETS) bucket = (ng + MAX_BUCKETS - 1) / MAX_BUCKETS;
    MPI_Request req[MAX_BUCKETS];
    int nb = 0, rc;
    for (size_t off = 0; off < ng; off += bucket, nb++) {
        int cnt = (int)(ng - off < bucket ? ng - off : bucket);
        if ((rc = MPI_Iallreduce(MPI_IN_PLACE, grad + off, cnt, MPI_FLOAT, MPI_SUM, D.comm,
                                 &req[nb])) != MPI_SUCCESS)
            return mpi_fail(ctx, rc, "MPI_Iallreduce of the gradients");
    }
    sng_status st = wait_all(ctx, nb, req, "the gradient all-reduce");
    if (st) return st;
    /* Every loss is a mean over its batch, so the mean of the ranks' gradients is the gradient
     * of the mean over the union of their shards (equal shard sizes). */
    float inv = 1.0f / (float)D.size;
#pragma omp parallel for simd if (ng > ((size_t)1 << 16))
    for (size_t k = 0; k < ng; k++) grad[k] *= inv;
    if (stats) {
        stats->seconds += now() - t0;
        stats->calls++;
    }
    return SNG_OK;
#else
    (void)ctx;
    return SNG_OK;
#endif
}

sng_status sngi_dist_bcast(sng_ctx *ctx, void *buf, size_t n) {
    if (D.size <= 1 || n == 0) return SNG_OK;
#ifdef SNG_HAVE_MPI
    const size_t chunk = (size_t)1 << 30; /* MPI counts are int */
    MPI_Request req[64];
    int nr = 0, rc;
    for (size_t off = 0; off < n; off += chunk) {
        if (nr == 64) {
            sng_status st = wait_all(ctx, nr, req, "MPI_Ibcast");
            if (st) return st;
            nr = 0;
        }
        int cnt = (int)(n - off < chunk ? n - off : chunk);
        if ((rc = MPI_Ibcast((char *)buf + off, cnt, MPI_BYTE, 0, D.comm, &req[nr++])) !=
            MPI_SUCCESS)
            return mpi_fail(ctx, rc, "MPI_Ibcast");
    }
    return wait_all(ctx, nr, req, "MPI_Ibcast");
#else
    (void)ctx, (void)buf;
    return SNG_OK;
#endif
}

sng_status sngi_dist_bcast_slab(sng_ctx *ctx, sng_session *s) {
    size_t n;
    float *slab = sngi_session_slab(s, &n);
    return sngi_dist_bcast(ctx, slab, n * sizeof(float));
}

sng_status sngi_dist_mean(sng_ctx *ctx, double *x, int n) {
    if (D.size <= 1 || n <= 0) return SNG_OK;
#ifdef SNG_HAVE_MPI
    MPI_Request r;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, D.comm, &r);
    if (rc != MPI_SUCCESS) return mpi_fail(ctx, rc, "MPI_Iallreduce");
    sng_status st = wait_all(ctx, 1, &r, "MPI_Iallreduce");
    for (int i = 0; !st && i < n; i++) x[i] /= D.size;
    return st;
#else
    (void)ctx, (void)x;
    return SNG_OK;
#endif
}

sng_status sngi_dist_agree(sng_ctx *ctx, sng_status local, int *flags) {
    /* After a failed collective the peers may be gone: agreeing would hang. */
    if (D.size <= 1 || D.broken) return local;
#ifdef SNG_HAVE_MPI
    /* The lowest failing rank (size: none) and the OR of everyone's flags, in one wait. */
    int mine = local ? D.rank : D.size, first = D.size, f = flags ? *flags : 0, all_f = 0, rc;
    MPI_Request req[2];
    if ((rc = MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, D.comm, &req[0])) ||
        (rc = MPI_Iallreduce(&f, &all_f, 1, MPI_INT, MPI_BOR, D.comm, &req[1])))
        return mpi_fail(ctx, rc, "MPI_Iallreduce of the status");
    sng_status st = wait_all(ctx, 2, req, "status agreement");
    if (st) return st;
    if (flags) *flags = all_f;
    if (first == D.size) return SNG_OK;
    /* Someone failed: its status and message go to every rank. */
    struct {
        int status;
        char msg[sizeof ctx->errmsg];
    } m;
    memset(&m, 0, sizeof m);
    if (D.rank == first) {
        m.status = (int)local;
        snprintf(m.msg, sizeof m.msg, "%s", ctx ? ctx->errmsg : "");
    }
    MPI_Request r;
    if ((rc = MPI_Ibcast(&m, (int)sizeof m, MPI_BYTE, first, D.comm, &r)) != MPI_SUCCESS)
        return mpi_fail(ctx, rc, "MPI_Ibcast of the status");
    if ((st = wait_all(ctx, 1, &r, "status broadcast"))) return st;
    if (D.rank != first) {
        if (!m.msg[0]) snprintf(m.msg, sizeof m.msg, "%s", sng_status_str((sng_status)m.status));
        if (first) sngi_fail(ctx, (sng_status)m.status, "rank %d: %s", first, m.msg);
        else sngi_fail(ctx, (sng_status)m.status, "%s", m.msg);
    }
    return (sng_status)m.status;
#else
    (void)ctx, (void)flags;
    return local;
#endif
}
