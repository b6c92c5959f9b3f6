/*
 * test_ops_elem.c — elementwise ops, distances, batchnorm, dropout and losses: forward against
 * references written here in double (dense too), backward by finite differences (sngt_gradcheck), the
 * numerical edge cases (D = 0, saturated logits), both label polarities, batchnorm's two modes,
 * dropout's determinism, and the shape errors that name both inputs.
 *
 * Tolerances: forward values rtol 1e-5 / atol 1e-6 against double references (float kernels);
 * gradients GC_RTOL / GC_ATOL with FD step 1e-2 for smooth ops, KINK_* with step 1e-3 for ops
 * with kinks (absdiff, leaky_relu, hinge losses) so a kink rarely falls inside the stencil.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sng_int.h"
#include "harness.h"
#include "opcheck.h"

#define FW_RTOL 1e-5
#define FW_ATOL 1e-6
#define GC_RTOL 1e-2
#define GC_ATOL 1e-3
#define KINK_RTOL 2e-2
#define KINK_ATOL 2e-3
#define KINK_EPS 1e-3

static const int batches[] = {1, 3};

/* Deterministic fill with U(lo, hi). */
static void fill(float *x, int64_t n, uint64_t seed, float lo, float hi) {
    sngi_rng r;
    sngi_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * sngi_rng_uniform(&r);
}

/* Fill with 0/1 labels, alternating then random, so both classes appear in small batches. */
static void fill_labels(float *x, int n, uint64_t seed) {
    sngi_rng r;
    sngi_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) x[i] = i < 2 ? (float)(i & 1) : (sngi_rng_uniform(&r) < 0.5f);
}

static int all_finite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* Compiling xml must fail with a message containing `needle`. */
static void expect_compile_error(const char *xml, const char *needle) {
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    sng_status st = sng_graph_load_string(ctx, xml, strlen(xml), "(test)", NULL, &g);
    CU_ASSERT_NOT_EQUAL(st, SNG_OK);
    const char *msg = sng_ctx_errmsg(ctx);
    if (!strstr(msg, needle)) fprintf(stderr, "\n  expected '%s' in: %s\n", needle, msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, needle));
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

/* ---- forward: unary ------------------------------------------------------------------------ */
static void test_ops_elem_unary_forward(void) {
    static const char *xml =
        "<model><input name='x' shape='3,5,7'/>"
        "<leaky_relu name='lr' in='x' alpha='0.2'/>"
        "<leaky_relu name='lr0' in='x'/>"
        "<relu name='re' in='x'/>"
        "<sigmoid name='sg' in='x'/>"
        "<tanh name='th' in='x'/>"
        "<scale name='sc' in='x' alpha='-1.5' beta='0.25'/>"
        "<stop_gradient name='sp' in='x'/>"
        "<output name='lr'/><output name='lr0'/><output name='sg'/><output name='th'/>"
        "<output name='sc'/><output name='sp'/><output name='re'/></model>";
    for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
        sngt_run *r = sngt_run_new(xml, batches[b], 7 + b);
        if (!r) return;
        int64_t n = sngt_run_numel(r, "x");
        CU_ASSERT_EQUAL(n, (int64_t)batches[b] * 105);
        float *x = sngt_run_buf(r, "x");
        fill(x, n, 11 + b, -4, 4);
        x[0] = 60;  /* saturated sigmoid / tanh: finite, exact limits */
        x[1] = -60;
        x[2] = 0;
        sngt_run_forward(r);
        const float *lr = sngt_run_buf(r, "lr"), *lr0 = sngt_run_buf(r, "lr0");
        const float *sg = sngt_run_buf(r, "sg"), *th = sngt_run_buf(r, "th");
        const float *sc = sngt_run_buf(r, "sc"), *sp = sngt_run_buf(r, "sp");
        const float *re = sngt_run_buf(r, "re");
        for (int64_t i = 0; i < n; i++) {
            double v = x[i];
            SNGT_ASSERT_CLOSE(lr[i], v > 0 ? v : 0.2 * v, FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(lr0[i], v > 0 ? v : 0.01 * v, FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(sg[i], 1.0 / (1.0 + exp(-v)), FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(th[i], tanh(v), FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(sc[i], -1.5 * v + 0.25, FW_RTOL, FW_ATOL);
            CU_ASSERT_EQUAL(sp[i], x[i]);
            CU_ASSERT_EQUAL(re[i], v > 0 ? x[i] : 0.0f);
        }
        CU_ASSERT(all_finite(sg, n));
        CU_ASSERT_EQUAL(sg[0], 1.0f);
        CU_ASSERT(sg[1] >= 0.0f && sg[1] < 1e-25f);
        sngt_run_free(r);
    }
}

/* ---- forward: binary and variadic ------------------------------------------------------------ */
static void test_ops_elem_binary_forward(void) {
    static const char *xml =
        "<model><input name='a' shape='4,3,5'/><input name='b' shape='4,3,5'/>"
        "<input name='c' shape='4,3,5'/>"
        "<add name='s3' in='a b c'/><add name='s2' in='a b'/><sub name='d' in='a b'/>"
        "<mul name='m' in='a b'/><absdiff name='l1' in='a b'/>"
        "<output name='s3'/><output name='s2'/><output name='d'/><output name='m'/>"
        "<output name='l1'/></model>";
    for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
        sngt_run *r = sngt_run_new(xml, batches[k], 3);
        if (!r) return;
        int64_t n = sngt_run_numel(r, "a");
        float *a = sngt_run_buf(r, "a"), *b = sngt_run_buf(r, "b"), *c = sngt_run_buf(r, "c");
        fill(a, n, 1, -2, 2);
        fill(b, n, 2, -2, 2);
        fill(c, n, 3, -2, 2);
        b[5] = a[5];
        sngt_run_forward(r);
        const float *s3 = sngt_run_buf(r, "s3"), *s2 = sngt_run_buf(r, "s2");
        const float *d = sngt_run_buf(r, "d"), *m = sngt_run_buf(r, "m");
        const float *l1 = sngt_run_buf(r, "l1");
        for (int64_t i = 0; i < n; i++) {
            SNGT_ASSERT_CLOSE(s3[i], (double)a[i] + b[i] + c[i], FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(s2[i], (double)a[i] + b[i], FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(d[i], (double)a[i] - b[i], FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(m[i], (double)a[i] * b[i], FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(l1[i], fabs((double)a[i] - b[i]), FW_RTOL, FW_ATOL);
        }
        CU_ASSERT_EQUAL(l1[5], 0.0f);
        sngt_run_free(r);
    }
}

/* ---- forward: dense ------------------------------------------------------------------------- */
/* y = act(x W^T + b) against a double reference, with and without bias, for each fused
 * activation. */
static void test_ops_elem_dense_forward(void) {
    static const char *acts[] = {"none", "relu", "sigmoid", "tanh"};
    char xml[512];
    for (int k = 0; k < 4; k++)
        for (int bias = 0; bias <= 1; bias++) {
            snprintf(xml, sizeof xml,
                     "<model><input name='x' shape='6'/>"
                     "<dense name='d' in='x' units='4' bias='%s' activation='%s'/>"
                     "<output name='d'/></model>", bias ? "true" : "false", acts[k]);
            sngt_run *r = sngt_run_new(xml, 3, 5 + k);
            if (!r) return;
            float *x = sngt_run_buf(r, "x"), *W = sngt_run_param(r, "d/W");
            float *b = bias ? sngt_run_param(r, "d/b") : NULL;
            fill(x, 18, 21 + k, -2, 2);
            if (b) fill(b, 4, 31 + k, -1, 1);
            sngt_run_forward(r);
            const float *y = sngt_run_buf(r, "d");
            for (int n = 0; n < 3; n++)
                for (int u = 0; u < 4; u++) {
                    double z = b ? b[u] : 0;
                    for (int i = 0; i < 6; i++) z += (double)x[n * 6 + i] * W[u * 6 + i];
                    double ref = k == 1 ? (z > 0 ? z : 0) : k == 2 ? 1 / (1 + exp(-z))
                               : k == 3 ? tanh(z) : z;
                    SNGT_ASSERT_CLOSE(y[n * 4 + u], ref, FW_RTOL, FW_ATOL);
                }
            sngt_run_free(r);
        }
}

/* absdiff: d/da = sign(a - b), 0 at equality; checked exactly with a seeded output gradient. */
static void test_ops_elem_absdiff_backward_sign(void) {
    static const char *xml =
        "<model><input name='a' shape='9'/><input name='b' shape='9'/>"
        "<absdiff name='l1' in='a b'/><output name='l1'/></model>";
    sngt_run *r = sngt_run_new(xml, 2, 5);
    if (!r) return;
    float *a = sngt_run_buf(r, "a"), *b = sngt_run_buf(r, "b");
    for (int i = 0; i < 18; i++) {
        a[i] = (float)(i % 3) - 1.0f; /* -1 0 1 */
        b[i] = (float)((i / 3) % 3) - 1.0f;
    }
    sngt_run_forward(r);
    float *gy = sngt_run_grad(r, "l1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gy);
    for (int i = 0; i < 18; i++) gy[i] = 0.5f + (float)i;
    sngt_run_backward(r);
    const float *ga = sngt_run_grad(r, "a"), *gb = sngt_run_grad(r, "b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ga);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gb);
    for (int i = 0; i < 18; i++) {
        float s = a[i] > b[i] ? 1.0f : a[i] < b[i] ? -1.0f : 0.0f;
        CU_ASSERT_EQUAL(ga[i], s * gy[i]);
        CU_ASSERT_EQUAL(gb[i], -s * gy[i]);
    }
    sngt_run_free(r);
}

/* ---- concat ------------------------------------------------------------------------------------ */
/* Reference: out[o][off + j][in] for the split of shape (pre..., D, post...) at axis. */
static void check_concat(const char *xml, int batch, const char *const *names, int n_in,
                         const int *dk, int64_t outer, int64_t inner) {
    sngt_run *r = sngt_run_new(xml, batch, 9);
    if (!r) return;
    for (int k = 0; k < n_in; k++) {
        float *x = sngt_run_buf(r, names[k]);
        fill(x, sngt_run_numel(r, names[k]), 100 + k, -1, 1);
    }
    sngt_run_forward(r);
    const float *y = sngt_run_buf(r, "cat");
    int dsum = 0;
    for (int k = 0; k < n_in; k++) dsum += dk[k];
    CU_ASSERT_EQUAL(sngt_run_numel(r, "cat"), batch * outer * dsum * inner);
    int bad = 0;
    for (int64_t o = 0; o < batch * outer; o++) {
        int off = 0;
        for (int k = 0; k < n_in; k++) {
            const float *x = sngt_run_buf(r, names[k]);
            for (int j = 0; j < dk[k]; j++)
                for (int64_t i = 0; i < inner; i++)
                    bad += y[(o * dsum + off + j) * inner + i] != x[(o * dk[k] + j) * inner + i];
            off += dk[k];
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    sngt_run_free(r);
}

static void test_ops_elem_concat_forward(void) {
    static const char *const names[] = {"a", "b", "c"};
    static const char *axis0 =
        "<model><input name='a' shape='2,3,5'/><input name='b' shape='4,3,5'/>"
        "<input name='c' shape='1,3,5'/><concat name='cat' in='a b c'/><output name='cat'/></model>";
    static const char *axis1 =
        "<model><input name='a' shape='2,3,5'/><input name='b' shape='2,1,5'/>"
        "<concat name='cat' in='a b' axis='1'/><output name='cat'/></model>";
    static const char *axism1 =
        "<model><input name='a' shape='2,3,5'/><input name='b' shape='2,3,2'/>"
        "<concat name='cat' in='a b' axis='-1'/><output name='cat'/></model>";
    static const char *flat =
        "<model><input name='a' shape='7'/><input name='b' shape='3'/>"
        "<concat name='cat' in='a b'/><output name='cat'/></model>";
    for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
        int n = batches[k];
        check_concat(axis0, n, names, 3, (const int[]){2, 4, 1}, 1, 15);
        check_concat(axis1, n, names, 2, (const int[]){3, 1}, 2, 5);
        check_concat(axism1, n, names, 2, (const int[]){5, 2}, 6, 1);
        check_concat(flat, n, names, 2, (const int[]){7, 3}, 1, 1);
    }
}

/* ---- distances ----------------------------------------------------------------------------------- */
static void test_ops_elem_distance_forward(void) {
    static const char *xml =
        "<model><input name='a' shape='13'/><input name='b' shape='13'/>"
        "<l2_distance name='d' in='a b'/><cosine_similarity name='cs' in='a b'/>"
        "<output name='d'/><output name='cs'/></model>";
    for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
        int n = batches[k] + 1;
        sngt_run *r = sngt_run_new(xml, n, 21);
        if (!r) return;
        float *a = sngt_run_buf(r, "a"), *b = sngt_run_buf(r, "b");
        fill(a, 13 * n, 4, -1, 1);
        fill(b, 13 * n, 5, -1, 1);
        memcpy(b, a, 13 * sizeof(float)); /* sample 0: D = 0, cos = 1 */
        memset(b + 13, 0, 13 * sizeof(float)); /* sample 1: b = 0, cos = 0 (eps) */
        sngt_run_forward(r);
        const float *d = sngt_run_buf(r, "d"), *cs = sngt_run_buf(r, "cs");
        CU_ASSERT_EQUAL(sngt_run_numel(r, "d"), n);
        for (int i = 0; i < n; i++) {
            double s = 0, ab = 0, aa = 0, bb = 0;
            for (int j = 0; j < 13; j++) {
                double u = a[i * 13 + j], v = b[i * 13 + j];
                s += (u - v) * (u - v);
                ab += u * v;
                aa += u * u;
                bb += v * v;
            }
            SNGT_ASSERT_CLOSE(d[i], sqrt(s), FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(cs[i], ab / (fmax(sqrt(aa), 1e-8) * fmax(sqrt(bb), 1e-8)), FW_RTOL,
                              FW_ATOL);
        }
        CU_ASSERT_EQUAL(d[0], 0.0f);
        SNGT_ASSERT_CLOSE(cs[0], 1.0, FW_RTOL, FW_ATOL);
        CU_ASSERT_EQUAL(cs[1], 0.0f);
        sngt_run_free(r);
    }
}

static double elem_ref_sqdist(const float *a, const float *b, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
    return s;
}

/* ---- losses: forward ------------------------------------------------------------------------------ */
static double ref_contrastive(const float *e1, const float *e2, const float *lab, int n, int d,
                              double m, int same) {
    double acc = 0;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += ((double)e1[i * d + j] - e2[i * d + j]) *
                                         ((double)e1[i * d + j] - e2[i * d + j]);
        int y = (lab[i] == (float)same);
        double h = fmax(0.0, m - sqrt(s));
        acc += y ? s : h * h;
    }
    return acc / (2.0 * n);
}

static void test_ops_elem_contrastive_forward(void) {
    char xml[512];
    for (int same = 0; same <= 1; same++)
        for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
            int n = batches[k] + 3;
            snprintf(xml, sizeof xml,
                     "<model><input name='e1' shape='7'/><input name='e2' shape='7'/>"
                     "<input name='y' shape='1'/><contrastive name='L' in='e1 e2 y' margin='2'"
                     " same_label='%d' weight='2.5'/></model>", same);
            sngt_run *r = sngt_run_new(xml, n, 31);
            if (!r) return;
            float *e1 = sngt_run_buf(r, "e1"), *e2 = sngt_run_buf(r, "e2");
            float *y = sngt_run_buf(r, "y");
            fill_labels(y, n, 8);
            double total = sngt_run_forward(r);
            double ref = ref_contrastive(e1, e2, y, n, 7, 2.0, same);
            SNGT_ASSERT_CLOSE(sngt_run_buf(r, "L")[0], ref, FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(total, 2.5 * ref, FW_RTOL, FW_ATOL);
            CU_ASSERT_EQUAL(sngt_run_numel(r, "L"), 1);
            sngt_run_free(r);
        }
}

static void test_ops_elem_bce_forward(void) {
    char xml[512];
    for (int same = 0; same <= 1; same++)
        for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
            int n = batches[k] + 2;
            /* p: (3) per sample with a (1) label; q: (3) with elementwise labels. */
            snprintf(xml, sizeof xml,
                     "<model><input name='p' shape='3'/><input name='y' shape='1'/>"
                     "<input name='yy' shape='3'/>"
                     "<bce name='L' in='p y' same_label='%d'/>"
                     "<bce_with_logits name='Lz' in='p y' same_label='%d'/>"
                     "<bce name='Le' in='p yy' same_label='%d'/></model>", same, same, same);
            sngt_run *r = sngt_run_new(xml, n, 41);
            if (!r) return;
            float *p = sngt_run_buf(r, "p"), *y = sngt_run_buf(r, "y");
            float *yy = sngt_run_buf(r, "yy");
            fill(p, 3 * n, 6, 0.02f, 0.98f);
            p[0] = 0.0f; /* clamped to 1e-7 */
            p[1] = 1.0f;
            fill_labels(y, n, 9);
            fill_labels(yy, 3 * n, 10);
            sngt_run_forward(r);
            double l = 0, lz = 0, le = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < 3; j++) {
                    double q = fmin(fmax(p[i * 3 + j], 1e-7), 1 - 1e-7), z = p[i * 3 + j];
                    double t = y[i] == (float)same, te = yy[i * 3 + j] == (float)same;
                    l -= t * log(q) + (1 - t) * log(1 - q);
                    le -= te * log(q) + (1 - te) * log(1 - q);
                    lz += log(1 + exp(z)) - z * t;
                }
            SNGT_ASSERT_CLOSE(sngt_run_buf(r, "L")[0], l / (3 * n), FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(sngt_run_buf(r, "Le")[0], le / (3 * n), FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(sngt_run_buf(r, "Lz")[0], lz / (3 * n), FW_RTOL, FW_ATOL);
            CU_ASSERT(isfinite(sngt_run_buf(r, "L")[0]));
            sngt_run_free(r);
        }
}

static void test_ops_elem_triplet_mse_forward(void) {
    char xml[512];
    for (int sq = 0; sq <= 1; sq++)
        for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
            int n = batches[k] + 4, d = 5;
            snprintf(xml, sizeof xml,
                     "<model><input name='a' shape='5'/><input name='p' shape='5'/>"
                     "<input name='q' shape='5'/>"
                     "<triplet name='T' in='a p q' margin='0.7' squared='%s'/>"
                     "<mse name='M' in='a p' weight='0.5'/></model>", sq ? "true" : "false");
            sngt_run *r = sngt_run_new(xml, n, 51 + sq);
            if (!r) return;
            const float *a = sngt_run_buf(r, "a"), *p = sngt_run_buf(r, "p");
            const float *q = sngt_run_buf(r, "q");
            double t = 0, m = 0;
            int active = 0;
            for (int i = 0; i < n; i++) {
                double dp = 0, dn = 0;
                for (int j = 0; j < d; j++) {
                    double u = (double)a[i * d + j] - p[i * d + j];
                    double v = (double)a[i * d + j] - q[i * d + j];
                    dp += u * u;
                    dn += v * v;
                }
                m += dp;
                if (!sq) {
                    dp = sqrt(dp);
                    dn = sqrt(dn);
                }
                double h = dp - dn + 0.7;
                active += h > 0;
                t += fmax(h, 0.0);
            }
            double total = sngt_run_forward(r);
            SNGT_ASSERT_CLOSE(sngt_run_buf(r, "T")[0], t / n, FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(sngt_run_buf(r, "M")[0], m / (n * d), FW_RTOL, FW_ATOL);
            SNGT_ASSERT_CLOSE(total, t / n + 0.5 * m / (n * d), FW_RTOL, FW_ATOL);
            sngt_run_free(r);
        }
}

/* ---- gradients --------------------------------------------------------------------------------- */
static void test_ops_elem_grad_unary(void) {
    static const char *smooth =
        "<model><input name='x' shape='3,5,7'/>"
        "<sigmoid name='sg' in='x'/><tanh name='th' in='x'/>"
        "<scale name='sc' in='x' alpha='-1.5' beta='0.25'/>"
        "<dropout name='dr' in='x' rate='0.3'/>"
        "<output name='sg'/><output name='th'/><output name='sc'/><output name='dr'/></model>";
    static const char *kinked =
        "<model><input name='x' shape='3,5,7'/>"
        "<leaky_relu name='lr' in='x' alpha='0.2'/><relu name='re' in='x'/>"
        "<output name='lr'/><output name='re'/></model>";
    for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
        sngt_gradcheck(smooth, batches[k], NULL, GC_RTOL, GC_ATOL);
        sngt_gradcheck_ex(kinked, batches[k], NULL, KINK_RTOL, KINK_ATOL, KINK_EPS, 42);
    }
}

static void test_ops_elem_grad_binary(void) {
    static const char *smooth =
        "<model><input name='a' shape='4,3,5'/><input name='b' shape='4,3,5'/>"
        "<input name='c' shape='4,3,5'/>"
        "<add name='s3' in='a b c'/><sub name='d' in='a b'/><mul name='m' in='a b'/>"
        "<concat name='cat' in='c a b' axis='1'/>"
        "<output name='s3'/><output name='d'/><output name='m'/><output name='cat'/></model>";
    static const char *kinked =
        "<model><input name='a' shape='4,3,5'/><input name='b' shape='4,3,5'/>"
        "<absdiff name='l1' in='a b'/><output name='l1'/></model>";
    for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
        sngt_gradcheck(smooth, batches[k], NULL, GC_RTOL, GC_ATOL);
        sngt_gradcheck_ex(kinked, batches[k], NULL, KINK_RTOL, KINK_ATOL, KINK_EPS, 42);
    }
}

static void test_ops_elem_grad_distance(void) {
    static const char *xml =
        "<model><input name='a' shape='3,5'/><input name='b' shape='3,5'/>"
        "<l2_distance name='d' in='a b'/><cosine_similarity name='cs' in='a b'/>"
        "<output name='d'/><output name='cs'/></model>";
    for (size_t k = 0; k < sizeof batches / sizeof *batches; k++)
        sngt_gradcheck(xml, batches[k] + 1, NULL, GC_RTOL, GC_ATOL);
}

static void test_ops_elem_grad_batchnorm(void) {
    static const char *conv =
        "<model><input name='x' shape='3,5,5'/><batchnorm name='bn' in='x'/>"
        "<output name='bn'/></model>";
    static const char *feat =
        "<model><input name='x' shape='7'/><batchnorm name='bn' in='x' eps='1e-3'/>"
        "<output name='bn'/></model>";
    sngt_gradcheck(conv, 2, NULL, GC_RTOL, GC_ATOL);
    sngt_gradcheck(conv, 3, NULL, GC_RTOL, GC_ATOL);
    sngt_gradcheck(feat, 5, NULL, GC_RTOL, GC_ATOL);
}

static void test_ops_elem_grad_losses(void) {
    char xml[768];
    for (int same = 0; same <= 1; same++) {
        snprintf(xml, sizeof xml,
                 "<model><input name='e1' shape='6'/><input name='e2' shape='6'/>"
                 "<input name='y' shape='1'/>"
                 "<contrastive name='L' in='e1 e2 y' margin='2.5' same_label='%d' weight='1.5'/>"
                 "</model>", same);
        sngt_gradcheck_ex(xml, 6, "y", KINK_RTOL, KINK_ATOL, KINK_EPS, 42 + same);
        snprintf(xml, sizeof xml,
                 "<model><input name='z' shape='3'/><input name='y' shape='1'/>"
                 "<input name='yy' shape='3'/>"
                 "<bce_with_logits name='Lz' in='z y' same_label='%d' weight='2'/>"
                 "<sigmoid name='p' in='z'/><bce name='L' in='p yy' same_label='%d'/>"
                 "</model>", same, same);
        sngt_gradcheck(xml, 4, "y yy", GC_RTOL, GC_ATOL);
    }
    static const char *trip_sq =
        "<model><input name='a' shape='5'/><input name='p' shape='5'/><input name='q' shape='5'/>"
        "<triplet name='T' in='a p q' margin='1'/></model>";
    static const char *trip_l2 =
        "<model><input name='a' shape='5'/><input name='p' shape='5'/><input name='q' shape='5'/>"
        "<triplet name='T' in='a p q' margin='0.5' squared='false' weight='3'/></model>";
    static const char *mse =
        "<model><input name='a' shape='2,3'/><input name='b' shape='2,3'/>"
        "<mse name='M' in='a b'/></model>";
    sngt_gradcheck_ex(trip_sq, 6, NULL, KINK_RTOL, KINK_ATOL, KINK_EPS, 42);
    sngt_gradcheck_ex(trip_l2, 6, NULL, KINK_RTOL, KINK_ATOL, KINK_EPS, 43);
    sngt_gradcheck(mse, 1, NULL, GC_RTOL, GC_ATOL);
    sngt_gradcheck(mse, 3, NULL, GC_RTOL, GC_ATOL);
}

/* Labels from a computed node get no gradient, and an upstream parameter still trains. */
static void test_ops_elem_grad_loss_through_dense(void) {
    static const char *xml =
        "<model><input name='x' shape='4'/><input name='y' shape='1'/>"
        "<dense name='fc' in='x' units='1'/><bce_with_logits name='L' in='fc y'/></model>";
    sngt_gradcheck(xml, 5, "y", GC_RTOL, GC_ATOL);
}

/* ---- edge cases ------------------------------------------------------------------------------- */
/* D = 0: identical embeddings give a finite loss (negatives pay margin^2) and exactly zero,
 * finite gradients; D tiny: the hinge gradient has its analytic value and is finite. */
static void test_ops_elem_contrastive_zero_distance(void) {
    static const char *xml =
        "<model><input name='e1' shape='4'/><input name='e2' shape='4'/>"
        "<input name='y' shape='1'/><contrastive name='L' in='e1 e2 y' margin='1.5'/></model>";
    int n = 4;
    sngt_run *r = sngt_run_new(xml, n, 61);
    if (!r) return;
    float *e1 = sngt_run_buf(r, "e1"), *e2 = sngt_run_buf(r, "e2"), *y = sngt_run_buf(r, "y");
    memcpy(e2, e1, sizeof(float) * 4 * n);
    y[0] = 1, y[1] = 0, y[2] = 1, y[3] = 0;
    double loss = sngt_run_forward(r);
    CU_ASSERT(isfinite(loss));
    SNGT_ASSERT_CLOSE(loss, 2 * 1.5 * 1.5 / (2.0 * n), FW_RTOL, FW_ATOL);
    sngt_run_backward(r);
    const float *g1 = sngt_run_grad(r, "e1"), *g2 = sngt_run_grad(r, "e2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g2);
    for (int i = 0; i < 4 * n; i++) {
        CU_ASSERT_EQUAL(g1[i], 0.0f);
        CU_ASSERT_EQUAL(g2[i], 0.0f);
    }
    sngt_run_free(r);

    /* Sample 1 (negative) at D = 2e-4: gradient -(m - D)/D (e1 - e2) / N on e1. */
    r = sngt_run_new(xml, n, 62);
    if (!r) return;
    e1 = sngt_run_buf(r, "e1"), e2 = sngt_run_buf(r, "e2"), y = sngt_run_buf(r, "y");
    memcpy(e2, e1, sizeof(float) * 4 * n);
    y[0] = 1, y[1] = 0, y[2] = 1, y[3] = 0;
    e2[4] = e1[4] + 2e-4f;
    double dd = fabs((double)e1[4] - e2[4]);
    sngt_run_forward(r);
    sngt_run_backward(r);
    g1 = sngt_run_grad(r, "e1");
    CU_ASSERT(all_finite(g1, 4 * n));
    double want = -(1.5 - dd) / dd * ((double)e1[4] - e2[4]) / n;
    SNGT_ASSERT_CLOSE(g1[4], want, 1e-3, 1e-6);
    SNGT_ASSERT_CLOSE(sngt_run_grad(r, "e2")[4], -want, 1e-3, 1e-6);
    sngt_run_free(r);
}

/* Saturated logits |z| = 50: finite loss and gradient equal to (sigmoid(z) - t) / N. */
static void test_ops_elem_bce_saturated(void) {
    static const char *xml =
        "<model><input name='z' shape='1'/><input name='y' shape='1'/>"
        "<bce_with_logits name='Lz' in='z y'/>"
        "<sigmoid name='p' in='z'/><bce name='L' in='p y'/></model>";
    sngt_run *r = sngt_run_new(xml, 4, 71);
    if (!r) return;
    float *z = sngt_run_buf(r, "z"), *y = sngt_run_buf(r, "y");
    const float zs[4] = {50, -50, 50, -50}, ys[4] = {1, 1, 0, 0};
    memcpy(z, zs, sizeof zs);
    memcpy(y, ys, sizeof ys);
    sngt_run_forward(r);
    float lz = sngt_run_buf(r, "Lz")[0], l = sngt_run_buf(r, "L")[0];
    CU_ASSERT(isfinite(lz) && isfinite(l));
    /* wrong-sign samples 1 and 2 cost ~50 each; the right ones ~exp(-50). */
    SNGT_ASSERT_CLOSE(lz, (50 + 50 + 2 * log1p(exp(-50.0))) / 4, FW_RTOL, FW_ATOL);
    /* bce saturates at the clamp: -log(1e-7) per wrong sample. */
    SNGT_ASSERT_CLOSE(l, 2 * -log(1e-7) / 4, 1e-4, 1e-4);
    sngt_run_backward(r);
    const float *gz = sngt_run_grad(r, "z");
    CU_ASSERT(all_finite(gz, 4));
    /* z's gradient sums both losses; bce's part is 0 (sigmoid saturated in float). */
    for (int i = 0; i < 4; i++) {
        double sg = 1.0 / (1.0 + exp(-(double)zs[i]));
        SNGT_ASSERT_CLOSE(gz[i], (sg - ys[i]) / 4, 1e-5, 1e-7);
    }
    sngt_run_free(r);
}

/* bce_with_logits(z) == bce(sigmoid(z)) in value and gradient where both are accurate. */
static void test_ops_elem_bce_logits_matches_bce(void) {
    static const char *a =
        "<model><input name='z' shape='2,3'/><input name='y' shape='1'/>"
        "<bce_with_logits name='L' in='z y'/></model>";
    static const char *b =
        "<model><input name='z' shape='2,3'/><input name='y' shape='1'/>"
        "<sigmoid name='p' in='z'/><bce name='L' in='p y'/></model>";
    int n = 5;
    sngt_run *ra = sngt_run_new(a, n, 81), *rb = sngt_run_new(b, n, 81);
    if (!ra || !rb) return;
    fill(sngt_run_buf(ra, "z"), 6 * n, 12, -5, 5);
    fill(sngt_run_buf(rb, "z"), 6 * n, 12, -5, 5);
    fill_labels(sngt_run_buf(ra, "y"), n, 13);
    fill_labels(sngt_run_buf(rb, "y"), n, 13);
    double la = sngt_run_forward(ra), lb = sngt_run_forward(rb);
    SNGT_ASSERT_CLOSE(la, lb, 1e-5, 1e-6);
    sngt_run_backward(ra);
    sngt_run_backward(rb);
    const float *ga = sngt_run_grad(ra, "z"), *gb = sngt_run_grad(rb, "z");
    for (int i = 0; i < 6 * n; i++) SNGT_ASSERT_CLOSE(ga[i], gb[i], 1e-4, 1e-6);
    sngt_run_free(ra);
    sngt_run_free(rb);
}

/* Batchnorm reference for channel c of x: (N, C, S). */
static void bn_stats(const float *x, int n, int C, int S, int c, double *mu, double *var) {
    double s = 0, v = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < S; k++) s += x[(i * C + c) * S + k];
    *mu = s / (n * S);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < S; k++) {
            double t = x[(i * C + c) * S + k] - *mu;
            v += t * t;
        }
    *var = v / (n * S);
}

/* Training mode: batch statistics, and running stats move by momentum with unbiased var. */
static void test_ops_elem_batchnorm_training(void) {
    static const char *xml =
        "<model><input name='x' shape='3,2,5'/><batchnorm name='bn' in='x' momentum='0.25'/>"
        "<output name='bn'/></model>";
    const int n = 3, C = 3, S = 10;
    sngt_run *r = sngt_run_new(xml, n, 91);
    if (!r) return;
    float *x = sngt_run_buf(r, "x");
    float *gamma = sngt_run_param(r, "bn/gamma"), *beta = sngt_run_param(r, "bn/beta");
    float *rm = sngt_run_param(r, "bn/running_mean"), *rv = sngt_run_param(r, "bn/running_var");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gamma);
    CU_ASSERT_PTR_NOT_NULL_FATAL(beta);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rm);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rv);
    CU_ASSERT_PTR_NULL(sngt_run_param_grad(r, "bn/running_mean"));
    for (int c = 0; c < C; c++) {
        CU_ASSERT_EQUAL(gamma[c], 1.0f); /* initialisers */
        CU_ASSERT_EQUAL(beta[c], 0.0f);
        CU_ASSERT_EQUAL(rm[c], 0.0f);
        CU_ASSERT_EQUAL(rv[c], 1.0f);
    }
    fill(x, n * C * S, 14, -1, 3);
    const float g0[3] = {1.5f, -0.5f, 2.0f}, b0[3] = {0.1f, 0.2f, -0.3f};
    const float rm0[3] = {0.5f, -1.0f, 0.0f}, rv0[3] = {2.0f, 0.5f, 1.0f};
    memcpy(gamma, g0, sizeof g0);
    memcpy(beta, b0, sizeof b0);
    memcpy(rm, rm0, sizeof rm0);
    memcpy(rv, rv0, sizeof rv0);
    sngt_run_forward(r);
    const float *y = sngt_run_buf(r, "bn");
    for (int c = 0; c < C; c++) {
        double mu, var;
        bn_stats(x, n, C, S, c, &mu, &var);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < S; k++) {
                int idx = (i * C + c) * S + k;
                double want = g0[c] * (x[idx] - mu) / sqrt(var + 1e-5) + b0[c];
                SNGT_ASSERT_CLOSE(y[idx], want, 1e-4, 1e-5);
            }
        SNGT_ASSERT_CLOSE(rm[c], 0.75 * rm0[c] + 0.25 * mu, 1e-5, 1e-6);
        SNGT_ASSERT_CLOSE(rv[c], 0.75 * rv0[c] + 0.25 * var * (n * S) / (n * S - 1.0), 1e-5, 1e-6);
    }
    sngt_run_free(r);
}

/* Inference mode: running statistics are used and left unchanged. */
static void test_ops_elem_batchnorm_inference(void) {
    static const char *xml =
        "<model><input name='x' shape='4'/><batchnorm name='bn' in='x'/><output name='bn'/></model>";
    const int n = 3, F = 4;
    sngt_run *r = sngt_run_new_mode(xml, n, 92, 0);
    if (!r) return;
    float *x = sngt_run_buf(r, "x");
    float *gamma = sngt_run_param(r, "bn/gamma"), *beta = sngt_run_param(r, "bn/beta");
    float *rm = sngt_run_param(r, "bn/running_mean"), *rv = sngt_run_param(r, "bn/running_var");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rm);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rv);
    const float g0[4] = {1, 2, -1, 0.5f}, b0[4] = {0, 1, 2, 3};
    const float rm0[4] = {0.5f, -1, 0, 2}, rv0[4] = {4, 0.25f, 1, 9};
    memcpy(gamma, g0, sizeof g0);
    memcpy(beta, b0, sizeof b0);
    memcpy(rm, rm0, sizeof rm0);
    memcpy(rv, rv0, sizeof rv0);
    fill(x, n * F, 15, -2, 2);
    sngt_run_forward(r);
    const float *y = sngt_run_buf(r, "bn");
    for (int i = 0; i < n; i++)
        for (int f = 0; f < F; f++) {
            double want = g0[f] * (x[i * F + f] - rm0[f]) / sqrt(rv0[f] + 1e-5) + b0[f];
            SNGT_ASSERT_CLOSE(y[i * F + f], want, 1e-5, 1e-6);
        }
    for (int f = 0; f < F; f++) {
        CU_ASSERT_EQUAL(rm[f], rm0[f]);
        CU_ASSERT_EQUAL(rv[f], rv0[f]);
    }
    sngt_run_free(r);
}

/* Dropout: the mask is the documented hash of (seed, node order, step, index), so the same seed
 * gives the same output; about (1 - rate) of the units survive, scaled by 1/(1 - rate), so the
 * mean is preserved; inference is the identity. */
static void test_ops_elem_dropout(void) {
    static const char *xml =
        "<model><input name='x' shape='8,16,16'/><dropout name='d' in='x' rate='0.3'/>"
        "<output name='d'/></model>";
    const int n = 2, e = 8 * 16 * 16;
    float *first = malloc(sizeof(float) * n * e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    for (int rep = 0; rep < 3; rep++) {
        uint64_t seed = rep < 2 ? 1234 : 99;
        sngt_run *r = sngt_run_new(xml, n, seed);
        if (!r) break;
        float *x = sngt_run_buf(r, "x");
        for (int i = 0; i < n * e; i++) x[i] = 1.0f;
        sngt_run_forward(r);
        const float *y = sngt_run_buf(r, "d");
        int kept = 0, bad = 0, same = 0;
        double sum = 0;
        uint64_t hs = seed ^ (uint64_t)1 * 0x9E3779B97F4A7C15ull; /* node order 1, step 0 */
        for (int i = 0; i < n * e; i++) {
            int keep = sngi_hash_uniform(hs, 0, (uint64_t)i) >= 0.3f;
            kept += keep;
            sum += y[i];
            bad += y[i] != (keep ? 1.0f / 0.7f : 0.0f);
            if (rep) same += y[i] == first[i];
        }
        CU_ASSERT_EQUAL(bad, 0);
        SNGT_ASSERT_CLOSE((double)kept / (n * e), 0.7, 0.0, 0.03);
        SNGT_ASSERT_CLOSE(sum / (n * e), 1.0, 0.0, 0.05);
        if (rep == 0) memcpy(first, y, sizeof(float) * n * e);
        if (rep == 1) CU_ASSERT_EQUAL(same, n * e);       /* same seed: same mask */
        if (rep == 2) CU_ASSERT(same < n * e * 9 / 10);   /* other seed: other mask */
        sngt_run_free(r);
    }
    free(first);
    sngt_run *r = sngt_run_new_mode(xml, n, 1234, 0);
    if (!r) return;
    const float *x = sngt_run_buf(r, "x");
    sngt_run_forward(r);
    const float *y = sngt_run_buf(r, "d");
    int bad = 0;
    for (int i = 0; i < n * e; i++) bad += y[i] != x[i];
    CU_ASSERT_EQUAL(bad, 0);
    sngt_run_free(r);
}

/* stop_gradient: nothing flows back to its input. */
static void test_ops_elem_stop_gradient(void) {
    static const char *xml =
        "<model><input name='x' shape='5'/><stop_gradient name='s' in='x'/>"
        "<add name='y' in='s x'/><output name='y'/></model>";
    sngt_run *r = sngt_run_new(xml, 2, 3);
    if (!r) return;
    sngt_run_forward(r);
    float *gy = sngt_run_grad(r, "y");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gy);
    for (int i = 0; i < 10; i++) gy[i] = 1.0f + i;
    sngt_run_backward(r);
    const float *gx = sngt_run_grad(r, "x");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gx);
    for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(gx[i], 1.0f + i); /* only the add path */
    sngt_run_free(r);
}

/* ---- sizes above SNG_PAR_MIN: the OpenMP paths ------------------------------------------------- */
/* 16x32x32 per sample, batch 3 = 49152 elements: elementwise loops, batchnorm's channel loop and
 * the per-sample loss loops all run threaded; results match the references and two runs agree
 * bit for bit. (Loss gradients are checked at small sizes: a float loss of a 16384-dim
 * embedding cannot resolve a 1e-2 finite-difference step.) */
static void test_ops_elem_large_parallel(void) {
    static const char *xml =
        "<model><input name='a' shape='16,32,32'/><input name='b' shape='16,32,32'/>"
        "<input name='y' shape='1'/>"
        "<sigmoid name='sg' in='a'/><absdiff name='l1' in='a b'/>"
        "<batchnorm name='bn' in='a'/><l2_distance name='d' in='a b'/>"
        "<contrastive name='L' in='a b y' margin='60'/><output name='sg'/><output name='l1'/>"
        "<output name='bn'/><output name='d'/></model>";
    const int n = 3, C = 16, S = 1024, e = C * S;
    float *prev = malloc(sizeof(float) * n * e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prev);
    for (int rep = 0; rep < 2; rep++) {
        sngt_run *r = sngt_run_new(xml, n, 101);
        if (!r) break;
        const float *a = sngt_run_buf(r, "a"), *b = sngt_run_buf(r, "b");
        float *y = sngt_run_buf(r, "y");
        y[0] = 1, y[1] = 0, y[2] = 0;
        double loss = sngt_run_forward(r);
        const float *sg = sngt_run_buf(r, "sg"), *l1 = sngt_run_buf(r, "l1");
        const float *bn = sngt_run_buf(r, "bn"), *d = sngt_run_buf(r, "d");
        int bad = 0;
        for (int i = 0; i < n * e; i++) {
            bad += fabs(sg[i] - 1.0 / (1.0 + exp(-(double)a[i]))) > 1e-6;
            bad += fabs(l1[i] - fabs((double)a[i] - b[i])) > 1e-6;
        }
        CU_ASSERT_EQUAL(bad, 0);
        for (int c = 0; c < C; c++) {
            double mu, var;
            bn_stats(a, n, C, S, c, &mu, &var);
            for (int i = 0; i < n; i++)
                for (int k = 0; k < S; k += 97) {
                    int idx = (i * C + c) * S + k;
                    SNGT_ASSERT_CLOSE(bn[idx], (a[idx] - mu) / sqrt(var + 1e-5), 1e-4, 1e-5);
                }
        }
        for (int i = 0; i < n; i++)
            SNGT_ASSERT_CLOSE(d[i], sqrt(elem_ref_sqdist(a + i * e, b + i * e, e)), FW_RTOL,
                              FW_ATOL);
        SNGT_ASSERT_CLOSE(loss, ref_contrastive(a, b, y, n, e, 60.0, 1), FW_RTOL, FW_ATOL);
        if (rep == 1) CU_ASSERT_EQUAL(memcmp(prev, bn, sizeof(float) * n * e), 0);
        memcpy(prev, bn, sizeof(float) * n * e);
        sngt_run_free(r);
    }
    free(prev);
    static const char *grad =
        "<model><input name='a' shape='16,32,32'/><input name='b' shape='16,32,32'/>"
        "<batchnorm name='bn' in='a'/><mul name='m' in='bn b'/><output name='m'/></model>";
    sngt_gradcheck(grad, 3, NULL, GC_RTOL, GC_ATOL);
}

/* The shipped Siamese pattern on a small tied dense backbone (the tied branches may run as one
 * merged batch): absdiff -> dense -> sigmoid with contrastive + bce_with_logits, and a second
 * backbone with batchnorm and dropout (batch-coupled, so not merged), and the triplet loss over
 * three tied instances. Every parameter and image input is gradient-checked. */
static void test_ops_elem_siamese_tied(void) {
    static const char *pair =
        "<model><subgraph name='bb'><input name='x'/>"
        "<dense name='h' in='x' units='6' activation='tanh'/><dense name='e' in='h' units='5'/>"
        "<output name='e'/></subgraph>"
        "<input name='img_a' shape='7'/><input name='img_b' shape='7'/>"
        "<input name='same' shape='1'/>"
        "<instance name='left' of='bb' in='img_a' params='branch'/>"
        "<instance name='right' of='bb' in='img_b' params='branch'/>"
        "<absdiff name='l1' in='left right'/><dense name='logit' in='l1' units='1'/>"
        "<sigmoid name='score' in='logit'/><output name='score'/>"
        "<contrastive name='lc' in='left right same' margin='2'/>"
        "<bce_with_logits name='lb' in='logit same' weight='0.5'/></model>";
    static const char *bn =
        "<model><subgraph name='bb'><input name='x'/>"
        "<dense name='h' in='x' units='6'/><batchnorm name='bn' in='h'/>"
        "<leaky_relu name='act' in='bn' alpha='0.1'/><dropout name='dr' in='act' rate='0.25'/>"
        "<dense name='e' in='dr' units='5'/><output name='e'/></subgraph>"
        "<input name='img_a' shape='7'/><input name='img_b' shape='7'/>"
        "<input name='same' shape='1'/>"
        "<instance name='left' of='bb' in='img_a' params='branch'/>"
        "<instance name='right' of='bb' in='img_b' params='branch'/>"
        "<l2_distance name='d' in='left right'/><scale name='neg' in='d' alpha='-1' beta='1'/>"
        "<bce_with_logits name='lb' in='neg same'/></model>";
    static const char *trip =
        "<model><subgraph name='bb'><input name='x'/>"
        "<dense name='e' in='x' units='4' activation='tanh'/><output name='e'/></subgraph>"
        "<input name='a' shape='6'/><input name='p' shape='6'/><input name='q' shape='6'/>"
        "<instance name='ea' of='bb' in='a' params='branch'/>"
        "<instance name='ep' of='bb' in='p' params='branch'/>"
        "<instance name='eq' of='bb' in='q' params='branch'/>"
        "<triplet name='T' in='ea ep eq' margin='0.5'/></model>";
    sngt_gradcheck_ex(pair, 4, "same", KINK_RTOL, KINK_ATOL, KINK_EPS, 42);
    sngt_gradcheck_ex(bn, 4, "same", KINK_RTOL, KINK_ATOL, KINK_EPS, 42);
    sngt_gradcheck_ex(trip, 5, NULL, KINK_RTOL, KINK_ATOL, KINK_EPS, 42);
}

/* ---- validation -------------------------------------------------------------------------------- */
static void test_ops_elem_shape_errors(void) {
    expect_compile_error("<model><input name='left' shape='4608'/><input name='right' shape='512'/>"
                         "<absdiff name='l1' in='left right'/></model>",
                         "absdiff: input 'left' has shape (4608) but 'right' has (512)");
    expect_compile_error("<model><input name='a' shape='3,4'/><input name='b' shape='3,5'/>"
                         "<add name='s' in='a b'/></model>",
                         "add: input 'a' has shape (3,4) but 'b' has (3,5)");
    expect_compile_error("<model><input name='a' shape='3'/><add name='s' in='a'/></model>",
                         "at least 2 inputs");
    expect_compile_error("<model><input name='a' shape='2,3,5'/><input name='b' shape='2,4,5'/>"
                         "<concat name='c' in='a b'/></model>",
                         "concat: input 'b' has shape (2,4,5) but 'a' has (2,3,5)");
    expect_compile_error("<model><input name='a' shape='8'/><input name='b' shape='8'/>"
                         "<input name='y' shape='2'/><contrastive name='L' in='a b y'/></model>",
                         "label input 'y' must have shape (1)");
    expect_compile_error("<model><input name='a' shape='8'/><input name='p' shape='8'/>"
                         "<input name='q' shape='7'/><triplet name='L' in='a p q'/></model>",
                         "triplet: input 'a' has shape (8) but 'q' has (7)");
    expect_compile_error("<model><input name='a' shape='8'/><dropout name='d' in='a' rate='1'/>"
                         "</model>", "rate");
    expect_compile_error("<model><input name='a' shape='8'/><scale name='s' in='a' gain='2'/>"
                         "</model>", "unknown attribute 'gain'");
}

static CU_TestInfo tests[] = {
    {"unary_forward", test_ops_elem_unary_forward},
    {"binary_forward", test_ops_elem_binary_forward},
    {"dense_forward", test_ops_elem_dense_forward},
    {"absdiff_backward_sign", test_ops_elem_absdiff_backward_sign},
    {"concat_forward", test_ops_elem_concat_forward},
    {"distance_forward", test_ops_elem_distance_forward},
    {"contrastive_forward", test_ops_elem_contrastive_forward},
    {"bce_forward", test_ops_elem_bce_forward},
    {"triplet_mse_forward", test_ops_elem_triplet_mse_forward},
    {"grad_unary", test_ops_elem_grad_unary},
    {"grad_binary", test_ops_elem_grad_binary},
    {"grad_distance", test_ops_elem_grad_distance},
    {"grad_batchnorm", test_ops_elem_grad_batchnorm},
    {"grad_losses", test_ops_elem_grad_losses},
    {"grad_loss_through_dense", test_ops_elem_grad_loss_through_dense},
    {"contrastive_zero_distance", test_ops_elem_contrastive_zero_distance},
    {"bce_saturated", test_ops_elem_bce_saturated},
    {"bce_logits_matches_bce", test_ops_elem_bce_logits_matches_bce},
    {"batchnorm_training", test_ops_elem_batchnorm_training},
    {"batchnorm_inference", test_ops_elem_batchnorm_inference},
    {"dropout", test_ops_elem_dropout},
    {"stop_gradient", test_ops_elem_stop_gradient},
    {"large_parallel", test_ops_elem_large_parallel},
    {"siamese_tied", test_ops_elem_siamese_tied},
    {"shape_errors", test_ops_elem_shape_errors},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {{"ops_elem", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
