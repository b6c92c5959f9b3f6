/*
 * bench/ops.c — conv2d throughput against BLIS sgemm.
 *
 * For every VGG16 convolution at 105x105 input (1 channel into block1_conv1) it builds a one-op
 * model, runs it through a real session (planned arena, the executor's threads) and prints the
 * forward and backward GFLOP/s (backward = dW + dX, 2x the forward FLOPs; dX is skipped for
 * block1_conv1, whose input needs no gradient), next to BLIS sgemm on a large square product with
 * the same threads, and each rate as a fraction of the sgemm rate. Best of --reps timings.
 *
 *   bench/ops [--batch N] [--threads T] [--reps R] [--size S (sgemm side)]
 *
 * On an AVX-512 CPU, Debian's BLIS 0.9 picks haswell kernels unless BLIS_ARCH_TYPE=skx is set
 * before bli_init(): done here when CPUID shows avx512f and the variable is unset.
 */
#include "config.h"

#include <blis.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "sngraph/sngraph.h"

typedef struct {
    const char *name;
    int c, hw, f;
} layer;

static const layer vgg16[] = {
    {"block1_conv1", 1, 105, 64},   {"block1_conv2", 64, 105, 64},
    {"block2_conv1", 64, 52, 128},  {"block2_conv2", 128, 52, 128},
    {"block3_conv1", 128, 26, 256}, {"block3_conv2", 256, 26, 256},
    {"block3_conv3", 256, 26, 256}, {"block4_conv1", 256, 13, 512},
    {"block4_conv2", 512, 13, 512}, {"block4_conv3", 512, 13, 512},
    {"block5_conv1", 512, 6, 512},  {"block5_conv2", 512, 6, 512},
    {"block5_conv3", 512, 6, 512},
};

static double sgemm_rate(int n, int threads, int reps) {
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    float *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f, c[i] = 0;
    sngi_sgemm(threads, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm-up */
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = omp_get_wtime();
        sngi_sgemm(threads, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = omp_get_wtime() - t0;
        if (t < best) best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * (double)n / best * 1e-9;
}

/* Times one layer; returns 0 on success with forward/backward GFLOP/s in fwd/bwd. */
static int bench_layer(const layer *l, int first, int batch, int threads, int reps, double *fwd,
                       double *bwd) {
    char xml[512];
    snprintf(xml, sizeof xml,
             "<model><input name='x' shape='%d,%d,%d'/>"
             "<conv2d name='c' in='x' filters='%d' kernel='3' pad='same' activation='relu'/>"
             "<output name='c'/></model>",
             l->c, l->hw, l->hw, l->f);
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    sng_session *s = NULL;
    int rc = -1;
    if (sng_graph_load_string(ctx, xml, strlen(xml), l->name, NULL, &g)) goto done;
    sng_session_opts o;
    sng_session_opts_init(&o);
    o.batch = batch;
    o.training = 1;
    o.threads = threads;
    o.grad_inputs = !first;
    if (sng_session_new(ctx, g, &o, &s)) goto done;
    int64_t nx, ny;
    float *x = sng_session_value(s, "x", &nx);
    for (int64_t i = 0; i < nx; i++) x[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    double flops = 2.0 * l->c * 9 * l->f * (double)l->hw * l->hw * batch;
    double bf = 1e30, bb = 1e30;
    for (int r = 0; r <= reps; r++) { /* r == 0: warm-up */
        double t0 = omp_get_wtime();
        if (sng_session_forward(s, NULL)) goto done;
        double t1 = omp_get_wtime();
        if (r == 0) {
            float *dy = sng_session_grad(s, "c", &ny);
            if (!dy) goto done;
            for (int64_t i = 0; i < ny; i++) dy[i] = (float)(i % 17) * 0.1f - 0.8f;
        }
        if (sng_session_backward(s)) goto done;
        double t2 = omp_get_wtime();
        if (r && t1 - t0 < bf) bf = t1 - t0;
        if (r && t2 - t1 < bb) bb = t2 - t1;
    }
    *fwd = flops / bf * 1e-9;
    *bwd = (first ? 1.0 : 2.0) * flops / bb * 1e-9;
    rc = 0;
done:
    if (rc) fprintf(stderr, "bench/ops: %s: %s\n", l->name, sng_ctx_errmsg(ctx));
    sng_session_free(s);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return rc;
}

int main(int argc, char **argv) {
    int batch = 16, threads = omp_get_num_procs(), reps = 3, size = 2000;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--batch")) {
            batch = atoi(argv[++i]);
        } else if (i + 1 < argc && !strcmp(argv[i], "--threads")) {
            threads = atoi(argv[++i]);
        } else if (i + 1 < argc && !strcmp(argv[i], "--reps")) {
            reps = atoi(argv[++i]);
        } else if (i + 1 < argc && !strcmp(argv[i], "--size")) {
            size = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--batch N] [--threads T] [--reps R] [--size S]\n", argv[0]);
            return 2;
        }
    }
    if (batch < 1 || threads < 1 || reps < 1 || size < 16) {
        fprintf(stderr, "bench/ops: --batch, --threads, --reps must be >= 1, --size >= 16\n");
        return 2;
    }
    /* Choose the kernel set before BLIS initialises (querying it first would abort). */
    if (!getenv("BLIS_ARCH_TYPE") && __builtin_cpu_supports("avx512f"))
        setenv("BLIS_ARCH_TYPE", "skx", 1);
    bli_init();
    omp_set_num_threads(threads);
    printf("BLIS %s, arch %s, %d threads, batch %d, best of %d\n", bli_info_get_version_str(),
           bli_arch_string(bli_arch_query_id()), threads, batch, reps);
    double peak = sgemm_rate(size, threads, reps);
    printf("sgemm %dx%dx%d: %.1f GFLOP/s\n\n", size, size, size, peak);
    printf("%-14s %5s %5s %5s %9s %9s %7s %9s %7s\n", "layer", "C", "HxW", "F", "GFLOP/fw",
           "fwd GF/s", "fwd/sg", "bwd GF/s", "bwd/sg");
    int fails = 0;
    double tf = 0, tb = 0, ff = 0, fb = 0;
    for (size_t i = 0; i < sizeof vgg16 / sizeof *vgg16; i++) {
        const layer *l = &vgg16[i];
        double fwd, bwd, gf = 2.0 * l->c * 9 * l->f * (double)l->hw * l->hw * batch * 1e-9;
        if (bench_layer(l, i == 0, batch, threads, reps, &fwd, &bwd)) {
            fails++;
            continue;
        }
        double gb = gf * (i == 0 ? 1 : 2);
        tf += gf / fwd, tb += gb / bwd, ff += gf, fb += gb;
        printf("%-14s %5d %5d %5d %9.2f %9.1f %6.0f%% %9.1f %6.0f%%%s\n", l->name, l->c, l->hw,
               l->f, gf, fwd, 100 * fwd / peak, bwd, 100 * bwd / peak,
               i == 0 ? "  (dW only)" : "");
    }
    if (tf > 0)
        printf("%-14s %5s %5s %5s %9.2f %9.1f %6.0f%% %9.1f %6.0f%%\n", "all (time-wtd)", "", "",
               "", ff, ff / tf, 100 * ff / tf / peak, fb / tb, 100 * fb / tb / peak);
    return fails ? 1 : 0;
}
