/*
 * cmd_bench.c — `sngraph bench`: times training steps or inference passes of a model and
 * relates them to the model's FLOP count and to BLIS sgemm measured in the same process.
 */
#include "config.h"

#include <math.h>
#include <omp.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "app/dist.h"
#include "app/optim.h"
#include "app/settings.h"
#include "app/inspect.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* `bench --mpi`: training steps with the gradient all-reduce of `sngraph run`, timed apart.
 * Every rank runs it (collectives need all); rank 0 prints. */
static int bench_mpi(sng_ctx *ctx, sng_graph *g, sng_session *s, const sngi_optim *opt,
                     long steps, long batch, int json, FILE *out, FILE *err) {
    int P = sngi_dist_size(), root = sngi_dist_rank() == 0;
    double *t = calloc((size_t)steps + 1, sizeof(double));
    double *ta = calloc((size_t)steps + 1, sizeof(double));
    sngi_dist_stats ds;
    memset(&ds, 0, sizeof ds);
    sng_status st = t && ta ? SNG_OK : sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    double loss = 0;
    for (long i = -1; i < steps && !st; i++) { /* step -1 warms up */
        double t0 = now();
        if (!(st = sng_session_forward(s, &loss))) st = sng_session_backward(s);
        st = sngi_dist_agree(ctx, st, NULL);
        double t1 = now();
        if (!st) st = sngi_dist_grad_mean(ctx, s, &ds);
        double t2 = now();
        if (!st) sngi_optim_step(opt, s, i + 1);
        if (i >= 0) t[i] = now() - t0, ta[i] = t2 - t1;
    }
    /* The slowest rank sets the pace: report the mean over ranks of each rank's median. */
    double med[2] = {0, 0};
    if (!st) {
        qsort(t, (size_t)steps, sizeof(double), cmp_d);
        qsort(ta, (size_t)steps, sizeof(double), cmp_d);
        med[0] = t[steps / 2], med[1] = ta[steps / 2];
        st = sngi_dist_mean(ctx, med, 2);
    }
    int rc = SNG_EXIT_OK;
    if (st) {
        rc = root ? sngi_cli_report(err, "bench", ctx, st) : sngi_cli_exit(st);
    } else if (root) {
        double pps = (double)P * batch / med[0], share = med[1] / med[0];
        if (json)
            fprintf(out, "{\"model\":\"%s\",\"mode\":\"mpi\",\"ranks\":%d,\"local_ranks\":%d,"
                         "\"threads_per_rank\":%d,\"batch_per_rank\":%ld,\"global_batch\":%ld,"
                         "\"steps\":%ld,\"median_step_s\":%.6f,\"median_allreduce_s\":%.6f,"
                         "\"allreduce_share\":%.4f,\"pairs_per_s\":%.4f,"
                         "\"allreduce_bytes_per_step\":%.0f,\"loss\":%.6g}\n",
                    g->name, P, sngi_dist_local_size(), sngi_session_threads(s), batch, batch * P, steps,
                    med[0], med[1], share, pps, ds.bytes_per_step, loss);
        else {
            fprintf(out, "sngraph bench --mpi %s: %d rank%s (%d on this node) x %d threads, batch "
                         "%ld per rank = %ld per step\n",
                    g->name, P, P > 1 ? "s" : "", sngi_dist_local_size(), sngi_session_threads(s), batch,
                    batch * P);
            fprintf(out, "  median step      %.4f s, of which gradient all-reduce %.4f s "
                         "(%.1f%%)\n",
                    med[0], med[1], 100 * share);
            fprintf(out, "  throughput       %.2f pairs/s over all ranks\n", pps);
            fprintf(out, "  all-reduced      %.0f bytes of gradients per step\n",
                    ds.bytes_per_step);
        }
    }
    free(t);
    free(ta);
    return rc;
}

int sngi_cmd_bench(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph bench [--train|--infer] [--batch N] [--threads T] [--steps S]\n"
        "                     [--profile] [--json] [--no-branch-batching] [--mpi]\n"
        "                     [--set KEY=VALUE]... MODEL\n"
        "Times S steps (default 5, after one warm-up) of training (forward, backward, SGD with\n"
        "momentum) or inference at batch N (default 32) and prints the median step time,\n"
        "pairs/s, achieved GFLOP/s (from the model's FLOP count; a training step counts 3x the\n"
        "forward), its share of BLIS sgemm measured in the same process on the same threads,\n"
        "start-up time to the first forward, peak RSS, arena bytes and, with --profile, the time\n"
        "per op and pass.\n"
        "--mpi (under mpirun -np P, built with --with-mpi): every rank runs training steps at\n"
        "batch N and averages gradients as `sngraph run` does; rank 0 prints the step time, the\n"
        "all-reduce time, pairs/s over all ranks and the bytes all-reduced per step\n"
        "(bench/mpi_scaling.sh compares P = 1 and 2).\n";
    int train = 0, infer = 0, json = 0, profile = 0, no_bb = 0, mpi = 0;
    long batch = 32, threads = 0, steps = 5;
    const char *model = NULL;
    sngi_sets sets = {.n = 0};
    double t_start = now();
    const sngi_arg opts[] = {
        {"--train", NULL, SNGI_ARG_FLAG, &train, 0, 0, NULL, NULL,
         "time training steps: forward, backward, SGD (default)", NULL},
        {"--infer", NULL, SNGI_ARG_FLAG, &infer, 0, 0, NULL, NULL, "time inference passes",
         NULL},
        SNGI_ARG_BATCH(&batch, "pairs per step (default 32)"),
        SNGI_ARG_THREADS(&threads),
        {"--steps", NULL, SNGI_ARG_INT, &steps, 1, 1 << 20, NULL, "S",
         "timed steps after the warm-up (default 5)", NULL},
        {"--profile", NULL, SNGI_ARG_FLAG, &profile, 0, 0, NULL, NULL,
         "print the time per op and pass", NULL},
        SNGI_ARG_JSON(&json),
        SNGI_ARG_NO_BRANCH_BATCHING(&no_bb),
        {"--mpi", NULL, SNGI_ARG_FLAG, &mpi, 0, 0, NULL, NULL,
         "time data-parallel training steps under mpirun", NULL},
        SNGI_ARG_SET(&sets),
        SNGI_ARG_END,
    };
    int rc0 = sngi_args_parse(argc, argv, opts, &model, 0, 1, NULL, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (!model) return sngi_args_usage(err, "bench", help, opts, "missing MODEL");
    if (train && infer)
        return sngi_args_usage(err, "bench", help, opts, "--train and --infer exclude each other");
    int training = !infer;
    sng_ctx *ctx = sngi_cli_ctx();
    sng_graph *g = NULL;
    sng_session *s = NULL;
    if (mpi) {
        sng_status ds = sngi_dist_init(ctx, NULL);
        if (ds) {
            int rc = sngi_cli_report(err, "bench", ctx, ds);
            sng_ctx_free(ctx);
            return rc;
        }
        training = 1;
        threads = sngi_dist_threads((int)threads);
    }
    sng_status st = sng_graph_load(ctx, model, sets.set, sets.n, &g);
    if (!st) st = sngi_settings_check(ctx, g);
    sngi_optim opt;
    memset(&opt, 0, sizeof opt);
    opt.kind = SNGI_OPT_SGD;
    opt.lr = 1e-3;
    opt.momentum = 0.9;
    if (!st) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.batch = (int)batch;
        o.training = training;
        o.threads = (int)threads;
        o.no_branch_batching = no_bb;
        o.opt_slots = training ? 1 : 0;
        st = sng_session_new(ctx, g, &o, &s);
    }
    if (st) {
        int rc = sngi_cli_report(err, "bench", ctx, st);
        sng_graph_free(g);
        sng_ctx_free(ctx);
        return rc;
    }
    sngi_fill_inputs(s, 11);
    if (mpi) {
        int rc = bench_mpi(ctx, g, s, &opt, steps, batch, json, out, err);
        sng_session_free(s);
        sng_graph_free(g);
        sngi_dist_finalize();
        sng_ctx_free(ctx);
        return rc;
    }
    double *t = calloc((size_t)steps + 1, sizeof(double)), startup = 0, loss = 0;
    for (long i = -1; i < steps && !st; i++) {
        if (i == 0 && profile) sngi_session_profile(s);
        double t0 = now();
        st = sng_session_forward(s, &loss);
        if (i < 0) startup = now() - t_start;
        if (!st && training) {
            st = sng_session_backward(s);
            sngi_optim_step(&opt, s, i + 1);
        }
        if (i >= 0) t[i] = now() - t0;
    }
    if (st) {
        int rc = sngi_cli_report(err, "bench", ctx, st);
        free(t);
        sng_session_free(s);
        sng_graph_free(g);
        sng_ctx_free(ctx);
        return rc;
    }
    qsort(t, (size_t)steps, sizeof(double), cmp_d);
    double med = t[steps / 2];
    sng_graph_stats gs;
    sng_graph_stats_get(g, &gs);
    double flops = gs.flops_per_sample * (double)batch * (training ? 3.0 : 1.0);
    double gflops = flops / med / 1e9;
    struct rusage ru; /* before the sgemm probe allocates its matrices */
    getrusage(RUSAGE_SELF, &ru);
    double peak = sngi_sgemm_peak(sngi_session_threads(s), 2000);
    sng_plan_stats ps;
    sng_session_plan_stats(s, &ps);
    if (json) {
        fprintf(out, "{\"model\":\"%s\",\"mode\":\"%s\",\"batch\":%ld,\"threads\":%d,\"steps\":%ld,"
                     "\"median_step_s\":%.6f,\"pairs_per_s\":%.4f,\"gflops\":%.2f,"
                     "\"sgemm_gflops\":%.2f,\"share_of_sgemm\":%.4f,\"startup_s\":%.4f,"
                     "\"peak_rss_bytes\":%lld,\"arena_bytes\":%lld,\"slab_bytes\":%lld,"
                     "\"blis_arch\":\"%s\",\"branch_batching\":%s,\"loss\":%.6g}\n",
                g->name, training ? "train" : "infer", batch, sngi_session_threads(s), steps, med,
                (double)batch / med, gflops, peak, peak > 0 ? gflops / peak : 0, startup,
                (long long)ru.ru_maxrss * 1024, (long long)ps.arena_bytes,
                (long long)ps.slab_bytes, sngi_blis_arch(), sngi_session_merged(s) ? "true" : "false", loss);
    } else {
        fprintf(out, "sngraph bench %s: %s, batch %ld, %d threads, BLIS kernels '%s'%s\n", g->name,
                training ? "training step" : "inference", batch, sngi_session_threads(s), sngi_blis_arch(),
                sngi_session_merged(s) ? ", tied branches batched" : "");
        fprintf(out, "  median step      %.4f s  (min %.4f, max %.4f over %ld)\n", med, t[0],
                t[steps - 1], steps);
        fprintf(out, "  throughput       %.2f pairs/s\n", (double)batch / med);
        fprintf(out, "  achieved         %.1f GFLOP/s (%.2f GFLOP per step)\n", gflops, flops / 1e9);
        fprintf(out, "  BLIS sgemm       %.1f GFLOP/s (2000^3, same threads): %.0f%% of it\n", peak,
                peak > 0 ? 100 * gflops / peak : 0);
        fprintf(out, "  start-up         %.3f s to the first forward\n", startup);
        fprintf(out, "  peak RSS         %.1f MiB; arena %.1f MiB; parameter slab %.1f MiB\n",
                ru.ru_maxrss / 1024.0, ps.arena_bytes / 1048576.0, ps.slab_bytes / 1048576.0);
    }
    if (profile) sngi_profile_print(json ? err : out, s, steps);
    free(t);
    sng_session_free(s);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return SNG_EXIT_OK;
}
