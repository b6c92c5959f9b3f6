/*
 * test_ops_spatial.c — conv2d, maxpool2d, avgpool2d, global_avgpool, flatten, reshape (and dense
 * in a pipeline): forward against double-precision references written here, backward against
 * reference backward passes (large, tiled shapes, ReLU included) and central finite differences
 * (sngt_gradcheck, small shapes), and the shape/attribute errors.
 *
 * Tolerances:
 *   forward vs reference            |got - ref| <= 1e-4 + 1e-4 |ref|
 *   backward vs reference           |got - ref| <= 1e-3 + 1e-3 |ref|   (sums of up to ~20k terms)
 *   gradcheck (conv, dense, linear) rtol 1e-2, atol 1e-3, eps 1e-2 (float forward; linear in the
 *                                   checked tensor up to the smooth activations)
 *   gradcheck (max pooling)         rtol 1e-2, atol 1e-3, eps 1e-4 (small eps: no argmax flips)
 */
#include <stdlib.h>
#include <string.h>

#include "engine/sng_int.h"
#include "harness.h"
#include "opcheck.h"

#define FWD_TOL 1e-4
#define BWD_TOL 1e-3

static unsigned long long rng_state = 0x1234567ull;
static float urand(void) { /* U(-1, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* Compares n values; prints the first mismatches and asserts none. */
static void check_close(const char *what, const float *got, const double *ref, int64_t n,
                        double tol) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(fabs(got[i] - ref[i]) <= tol + tol * fabs(ref[i]))) {
            if (bad < 3) fprintf(stderr, "\n  %s[%lld]: got %.7g want %.7g", what, (long long)i,
                                 got[i], ref[i]);
            bad++;
        }
    }
    if (bad) fprintf(stderr, "\n  %s: %lld of %lld values off\n", what, (long long)bad,
                     (long long)n);
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- conv2d ------------------------------------------------------------------------------------ */
typedef struct {
    int C, H, W, F, kh, kw, sh, sw, dh, dw;
    const char *pad; /* "same" | "valid" | "N" | "a,b" */
    int bias;
    const char *act; /* none relu sigmoid tanh */
    int batch;
} conv_spec;

/* Output size and leading pads, computed independently of the op (TF 'same'). */
static void conv_geom(const conv_spec *s, int *Ho, int *Wo, int *pt, int *pl) {
    int ekh = (s->kh - 1) * s->dh + 1, ekw = (s->kw - 1) * s->dw + 1;
    if (strcmp(s->pad, "same") == 0) {
        *Ho = (s->H + s->sh - 1) / s->sh;
        *Wo = (s->W + s->sw - 1) / s->sw;
        int th = (*Ho - 1) * s->sh + ekh - s->H, tw = (*Wo - 1) * s->sw + ekw - s->W;
        *pt = th > 0 ? th / 2 : 0;
        *pl = tw > 0 ? tw / 2 : 0;
        return;
    }
    int ph = 0, pw = 0;
    if (strcmp(s->pad, "valid") != 0) {
        const char *comma = strchr(s->pad, ',');
        ph = atoi(s->pad);
        pw = comma ? atoi(comma + 1) : ph;
    }
    *pt = ph, *pl = pw;
    *Ho = (s->H + 2 * ph - ekh) / s->sh + 1;
    *Wo = (s->W + 2 * pw - ekw) / s->sw + 1;
}

static double act_ref(const char *act, double v) {
    if (!strcmp(act, "relu")) return v > 0 ? v : 0;
    if (!strcmp(act, "sigmoid")) return 1.0 / (1.0 + exp(-v));
    if (!strcmp(act, "tanh")) return tanh(v);
    return v;
}

static char *conv_xml(const conv_spec *s) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "<model><input name='a' shape='%d,%d,%d'/>"
             "<conv2d name='c' in='a' filters='%d' kernel='%d,%d' stride='%d,%d' dilation='%d,%d'"
             " pad='%s' bias='%s' activation='%s'/><output name='c'/></model>",
             s->C, s->H, s->W, s->F, s->kh, s->kw, s->sh, s->sw, s->dh, s->dw, s->pad,
             s->bias ? "true" : "false", s->act);
    return buf;
}

/* x index or -1 when (ih, iw) is padding */
static int64_t xidx(const conv_spec *s, int n, int c, int ih, int iw) {
    if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) return -1;
    return (((int64_t)n * s->C + c) * s->H + ih) * s->W + iw;
}

/* Forward (and, with backward = 1, backward through a random dy) against the references. */
static void conv_check(const conv_spec *s, int backward) {
    int Ho, Wo, pt, pl;
    conv_geom(s, &Ho, &Wo, &pt, &pl);
    sngt_run *r = sngt_run_new(conv_xml(s), s->batch, 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    int N = s->batch, F = s->F, C = s->C;
    int64_t ny = (int64_t)N * F * Ho * Wo, nx = (int64_t)N * C * s->H * s->W;
    int64_t nw = (int64_t)F * C * s->kh * s->kw;
    CU_ASSERT_EQUAL_FATAL(sngt_run_numel(r, "c"), ny);
    float *x = sngt_run_buf(r, "a"), *w = sngt_run_param(r, "c/W");
    float *b = s->bias ? sngt_run_param(r, "c/b") : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    if (s->bias) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        for (int f = 0; f < F; f++) b[f] = 0.5f * urand();
    } else {
        CU_ASSERT_PTR_NULL(sngt_run_param(r, "c/b"));
    }
    sngt_run_forward(r);
    const float *y = sngt_run_buf(r, "c");
    double *ref = calloc((size_t)ny, sizeof(double));
    for (int n = 0; n < N; n++)
        for (int f = 0; f < F; f++)
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    double acc = b ? b[f] : 0;
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < s->kh; i++)
                            for (int j = 0; j < s->kw; j++) {
                                int64_t k = xidx(s, n, c, oh * s->sh - pt + i * s->dh,
                                                 ow * s->sw - pl + j * s->dw);
                                if (k >= 0)
                                    acc += (double)x[k] *
                                           w[((int64_t)(f * C + c) * s->kh + i) * s->kw + j];
                            }
                    ref[(((int64_t)n * F + f) * Ho + oh) * Wo + ow] = act_ref(s->act, acc);
                }
    check_close("conv2d y", y, ref, ny, FWD_TOL);
    free(ref);
    if (backward) {
        float *dy = sngt_run_grad(r, "c");
        CU_ASSERT_PTR_NOT_NULL_FATAL(dy);
        for (int64_t i = 0; i < ny; i++) dy[i] = urand();
        double *g = malloc(sizeof(double) * (size_t)ny);
        for (int64_t i = 0; i < ny; i++) {
            double yy = y[i];
            g[i] = !strcmp(s->act, "relu")      ? (yy > 0 ? dy[i] : 0)
                   : !strcmp(s->act, "sigmoid") ? dy[i] * yy * (1 - yy)
                   : !strcmp(s->act, "tanh")    ? dy[i] * (1 - yy * yy)
                                                : dy[i];
        }
        sngt_run_backward(r);
        double *dx = calloc((size_t)nx, sizeof(double)), *dw = calloc((size_t)nw, sizeof(double));
        double *db = calloc((size_t)F, sizeof(double));
        for (int n = 0; n < N; n++)
            for (int f = 0; f < F; f++)
                for (int oh = 0; oh < Ho; oh++)
                    for (int ow = 0; ow < Wo; ow++) {
                        double gv = g[(((int64_t)n * F + f) * Ho + oh) * Wo + ow];
                        db[f] += gv;
                        for (int c = 0; c < C; c++)
                            for (int i = 0; i < s->kh; i++)
                                for (int j = 0; j < s->kw; j++) {
                                    int64_t k = xidx(s, n, c, oh * s->sh - pt + i * s->dh,
                                                     ow * s->sw - pl + j * s->dw);
                                    if (k < 0) continue;
                                    int64_t wi = ((int64_t)(f * C + c) * s->kh + i) * s->kw + j;
                                    dw[wi] += gv * x[k];
                                    dx[k] += gv * w[wi];
                                }
                    }
        check_close("conv2d dx", sngt_run_grad(r, "a"), dx, nx, BWD_TOL);
        check_close("conv2d dW", sngt_run_param_grad(r, "c/W"), dw, nw, BWD_TOL);
        if (s->bias) check_close("conv2d db", sngt_run_param_grad(r, "c/b"), db, F, BWD_TOL);
        free(g);
        free(dx);
        free(dw);
        free(db);
    }
    sngt_run_free(r);
}

/* C H W F kh kw sh sw dh dw pad bias act batch */
static const conv_spec conv_fwd_cases[] = {
    {1, 105, 105, 4, 3, 3, 1, 1, 1, 1, "same", 1, "relu", 2},   /* VGG block1: batched tiles */
    {5, 105, 105, 3, 10, 10, 1, 1, 1, 1, "valid", 1, "none", 1}, /* Koch conv1: row-band tiles */
    {1, 105, 105, 2, 3, 3, 2, 2, 1, 1, "same", 0, "none", 2},   /* odd input, stride 2 same */
    {3, 52, 52, 6, 4, 4, 2, 2, 1, 1, "same", 1, "tanh", 3},     /* even kernel, stride 2 */
    {5, 13, 13, 7, 3, 3, 1, 1, 2, 2, "2", 1, "sigmoid", 2},     /* dilation 2 */
    {5, 13, 13, 4, 10, 10, 1, 1, 1, 1, "same", 1, "none", 2},   /* asymmetric same pad 4/5 */
    {3, 6, 7, 2, 1, 3, 2, 1, 1, 1, "0,1", 1, "tanh", 2},        /* non-square kernel, stride */
    {3, 6, 6, 5, 3, 2, 1, 2, 2, 1, "1,0", 1, "none", 3},        /* mixed dilation/stride */
    {5, 13, 13, 4, 1, 1, 1, 1, 1, 1, "valid", 1, "none", 1},    /* 1x1: column matrix is x */
    {5, 13, 13, 4, 1, 1, 1, 1, 1, 1, "0", 1, "relu", 3},        /* 1x1 batched */
    {40, 105, 105, 3, 1, 1, 1, 1, 1, 1, "valid", 1, "none", 1}, /* 1x1 in row bands */
    {4, 3, 3, 3, 3, 3, 2, 2, 1, 1, "same", 1, "none", 2},       /* 3x3 map, stride 2 */
    {3, 1, 1, 4, 3, 3, 1, 1, 1, 1, "same", 1, "none", 2},       /* 1x1 spatial map */
    {2, 6, 6, 3, 3, 3, 1, 1, 1, 1, "3", 1, "none", 1},          /* pad larger than needed */
    {64, 13, 13, 32, 3, 3, 1, 1, 1, 1, "same", 1, "relu", 4},   /* deep layer, several images */
};

static void test_conv2d_forward_reference(void) {
    for (size_t i = 0; i < sizeof conv_fwd_cases / sizeof *conv_fwd_cases; i++)
        conv_check(&conv_fwd_cases[i], 0);
}

static const conv_spec conv_bwd_cases[] = {
    {5, 105, 105, 3, 10, 10, 1, 1, 1, 1, "valid", 1, "relu", 1}, /* row bands */
    {1, 105, 105, 4, 3, 3, 1, 1, 1, 1, "same", 1, "relu", 2},    /* batched */
    {8, 13, 13, 16, 3, 3, 1, 1, 1, 1, "same", 1, "relu", 5},     /* several images per GEMM */
    {100, 105, 105, 2, 1, 1, 1, 1, 1, 1, "valid", 1, "relu", 1}, /* 1x1 direct, row bands */
    {3, 52, 52, 6, 4, 4, 2, 2, 1, 1, "same", 0, "tanh", 2},
    {5, 13, 13, 7, 3, 3, 1, 1, 2, 2, "2", 1, "sigmoid", 2},
    {3, 6, 7, 2, 1, 3, 2, 1, 1, 1, "0,1", 1, "none", 2},
};

static void test_conv2d_backward_reference(void) {
    for (size_t i = 0; i < sizeof conv_bwd_cases / sizeof *conv_bwd_cases; i++)
        conv_check(&conv_bwd_cases[i], 1);
}

static void test_conv2d_gradcheck(void) {
    static const conv_spec cases[] = {
        {3, 7, 7, 4, 3, 3, 1, 1, 1, 1, "same", 1, "none", 2},
        {2, 9, 8, 3, 2, 3, 2, 2, 1, 2, "1,0", 1, "sigmoid", 2},
        {3, 6, 6, 4, 1, 1, 1, 1, 1, 1, "valid", 1, "tanh", 1},
        {3, 6, 6, 4, 1, 1, 1, 1, 1, 1, "valid", 0, "none", 3},
        {2, 5, 5, 3, 3, 3, 2, 2, 1, 1, "same", 1, "sigmoid", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        sngt_gradcheck(conv_xml(&cases[i]), cases[i].batch, NULL, 1e-2, 1e-3);
}

/* Two runs give bit-identical outputs and gradients. */
static void test_conv2d_deterministic(void) {
    conv_spec s = {8, 13, 13, 16, 3, 3, 1, 1, 1, 1, "same", 1, "relu", 5};
    float *out[2], *dw[2];
    int64_t ny = 5 * 16 * 13 * 13, nw = 16 * 8 * 9;
    for (int k = 0; k < 2; k++) {
        sngt_run *r = sngt_run_new(conv_xml(&s), s.batch, 11);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        sngt_run_forward(r);
        float *dy = sngt_run_grad(r, "c");
        for (int64_t i = 0; i < ny; i++) dy[i] = (float)((i * 7919) % 13) - 6.0f;
        sngt_run_backward(r);
        out[k] = malloc(sizeof(float) * ny);
        dw[k] = malloc(sizeof(float) * nw);
        memcpy(out[k], sngt_run_buf(r, "c"), sizeof(float) * ny);
        memcpy(dw[k], sngt_run_param_grad(r, "c/W"), sizeof(float) * nw);
        sngt_run_free(r);
    }
    CU_ASSERT(memcmp(out[0], out[1], sizeof(float) * ny) == 0);
    CU_ASSERT(memcmp(dw[0], dw[1], sizeof(float) * nw) == 0);
    for (int k = 0; k < 2; k++) free(out[k]), free(dw[k]);
}

/* ---- pooling ----------------------------------------------------------------------------------- */
typedef struct {
    int C, H, W, kh, kw, sh, sw, ph, pw, ceil_mode, batch;
    int Ho, Wo; /* expected output size (worked out by hand) */
} pool_spec;

static char *pool_xml(const char *op, const pool_spec *s) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "<model><input name='a' shape='%d,%d,%d'/>"
             "<%s name='p' in='a' kernel='%d,%d' stride='%d,%d' pad='%d,%d' round='%s'/>"
             "<output name='p'/></model>",
             s->C, s->H, s->W, op, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw,
             s->ceil_mode ? "ceil" : "floor");
    return buf;
}

/* Reference forward (is_max: max, else mean over in-range cells) and backward of dy. */
static void pool_ref(const pool_spec *s, int is_max, const float *x, const float *dy, double *y,
                     double *dx) {
    int64_t hw = (int64_t)s->H * s->W;
    for (int q = 0; q < s->batch * s->C; q++)
        for (int oh = 0; oh < s->Ho; oh++)
            for (int ow = 0; ow < s->Wo; ow++) {
                double acc = 0, best = -INFINITY;
                int64_t arg = -1, cnt = 0;
                for (int i = 0; i < s->kh; i++)
                    for (int j = 0; j < s->kw; j++) {
                        int ih = oh * s->sh - s->ph + i, iw = ow * s->sw - s->pw + j;
                        if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                        int64_t k = q * hw + (int64_t)ih * s->W + iw;
                        cnt++;
                        acc += x[k];
                        if (x[k] > best) best = x[k], arg = k;
                    }
                int64_t o = ((int64_t)q * s->Ho + oh) * s->Wo + ow;
                CU_ASSERT(cnt > 0);
                if (cnt == 0) continue;
                y[o] = is_max ? best : acc / cnt;
                if (!dx) continue;
                if (is_max) {
                    dx[arg] += dy[o];
                } else {
                    for (int i = 0; i < s->kh; i++)
                        for (int j = 0; j < s->kw; j++) {
                            int ih = oh * s->sh - s->ph + i, iw = ow * s->sw - s->pw + j;
                            if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                            dx[q * hw + (int64_t)ih * s->W + iw] += dy[o] / cnt;
                        }
                }
            }
}

/* C H W kh kw sh sw ph pw ceil batch Ho Wo */
static const pool_spec pool_cases[] = {
    {3, 105, 105, 2, 2, 2, 2, 0, 0, 0, 2, 52, 52}, /* VGG: floor drops the last row/column */
    {3, 105, 105, 2, 2, 2, 2, 0, 0, 1, 1, 53, 53}, /* ceil: last window runs off the edge */
    {5, 13, 13, 3, 3, 2, 2, 1, 1, 1, 2, 7, 7},     /* pad 1, ceil: (13+2-3)/2 = 6 -> 7 */
    {5, 13, 13, 3, 3, 2, 2, 1, 1, 0, 2, 7, 7},
    {1, 6, 6, 3, 3, 3, 3, 1, 1, 1, 2, 3, 3},       /* ceil window starting in the pad dropped */
    {2, 6, 7, 2, 3, 1, 2, 0, 1, 1, 3, 5, 4},       /* non-square, mixed stride/pad */
    {4, 3, 3, 3, 3, 1, 1, 1, 1, 0, 2, 3, 3},       /* 3x3 map, same-size pooling */
    {3, 1, 1, 3, 3, 1, 1, 1, 1, 0, 2, 1, 1},       /* 1x1 spatial map */
    {2, 5, 5, 1, 1, 1, 1, 0, 0, 0, 1, 5, 5},       /* 1x1 kernel: identity */
    {2, 5, 5, 5, 5, 5, 5, 0, 0, 0, 2, 1, 1},       /* whole map */
};

static void pool_check(const char *op, const pool_spec *s, int ties) {
    sngt_run *r = sngt_run_new(pool_xml(op, s), s->batch, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    int64_t nx = (int64_t)s->batch * s->C * s->H * s->W, ny = (int64_t)s->batch * s->C * s->Ho * s->Wo;
    CU_ASSERT_EQUAL_FATAL(sngt_run_numel(r, "p"), ny);
    float *x = sngt_run_buf(r, "a");
    if (ties) /* few distinct values: windows have tied maxima (first in scan order wins) */
        for (int64_t i = 0; i < nx; i++) x[i] = (float)(int)(urand() * 2.5f);
    sngt_run_forward(r);
    float *dy = sngt_run_grad(r, "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dy);
    for (int64_t i = 0; i < ny; i++) dy[i] = urand();
    sngt_run_backward(r);
    double *y = calloc((size_t)ny, sizeof(double)), *dx = calloc((size_t)nx, sizeof(double));
    pool_ref(s, strcmp(op, "maxpool2d") == 0, x, dy, y, dx);
    check_close(op, sngt_run_buf(r, "p"), y, ny, FWD_TOL);
    check_close(op, sngt_run_grad(r, "a"), dx, nx, FWD_TOL);
    free(y);
    free(dx);
    sngt_run_free(r);
}

static void test_maxpool2d_reference(void) {
    for (size_t i = 0; i < sizeof pool_cases / sizeof *pool_cases; i++) {
        pool_check("maxpool2d", &pool_cases[i], 0);
        pool_check("maxpool2d", &pool_cases[i], 1);
    }
}

static void test_avgpool2d_reference(void) {
    for (size_t i = 0; i < sizeof pool_cases / sizeof *pool_cases; i++)
        pool_check("avgpool2d", &pool_cases[i], 0);
}

static void test_pool_gradcheck(void) {
    static const pool_spec cases[] = {
        {2, 7, 7, 2, 2, 2, 2, 0, 0, 1, 2, 4, 4},
        {2, 7, 6, 3, 2, 2, 1, 1, 0, 0, 2, 4, 5},
    };
    for (size_t i = 0; i < 2; i++) {
        sngt_gradcheck_ex(pool_xml("maxpool2d", &cases[i]), 2, NULL, 1e-2, 1e-3, 1e-4, 42);
        sngt_gradcheck(pool_xml("avgpool2d", &cases[i]), 2, NULL, 1e-2, 1e-3);
    }
}

static void test_global_avgpool(void) {
    const char *xml = "<model><input name='a' shape='5,6,7'/>"
                      "<global_avgpool name='g' in='a'/><output name='g'/></model>";
    sngt_run *r = sngt_run_new(xml, 3, 9);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(sngt_run_numel(r, "g"), 15);
    sngt_run_forward(r);
    const float *x = sngt_run_buf(r, "a");
    double ref[15];
    for (int q = 0; q < 15; q++) {
        double s = 0;
        for (int i = 0; i < 42; i++) s += x[q * 42 + i];
        ref[q] = s / 42;
    }
    check_close("global_avgpool", sngt_run_buf(r, "g"), ref, 15, FWD_TOL);
    sngt_run_free(r);
    sngt_gradcheck(xml, 3, NULL, 1e-2, 1e-3);
}

/* ---- flatten / reshape ------------------------------------------------------------------------- */
static void test_flatten_reshape(void) {
    const char *xml = "<model><input name='a' shape='3,4,2'/>"
                      "<flatten name='f' in='a'/><reshape name='r' in='a' shape='-1,4'/>"
                      "<output name='f'/><output name='r'/></model>";
    sngt_run *r = sngt_run_new(xml, 2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(sngt_run_numel(r, "f"), 48);
    CU_ASSERT_EQUAL(sngt_run_numel(r, "r"), 48);
    sngt_run_forward(r);
    const float *x = sngt_run_buf(r, "a");
    CU_ASSERT(memcmp(x, sngt_run_buf(r, "f"), 48 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(x, sngt_run_buf(r, "r"), 48 * sizeof(float)) == 0);
    sngt_run_free(r);
    /* both outputs feed back into a (fan-out: the gradients sum) */
    sngt_gradcheck(xml, 2, NULL, 1e-3, 1e-4);
}

/* ---- a small pipeline: conv -> maxpool -> flatten -> dense --------------------------------------- */
static void test_pipeline_gradcheck(void) {
    const char *xml =
        "<model><input name='a' shape='2,8,8'/>"
        "<conv2d name='c1' in='a' filters='3' kernel='3' pad='same' activation='sigmoid'/>"
        "<avgpool2d name='p1' in='c1' kernel='2'/>"
        "<conv2d name='c2' in='p1' filters='4' kernel='3' stride='2' pad='valid'"
        " activation='tanh'/>"
        "<flatten name='f' in='c2'/>"
        "<dense name='d' in='f' units='3' activation='sigmoid'/>"
        "<output name='d'/></model>";
    sngt_gradcheck(xml, 2, NULL, 1e-2, 1e-3);
}

/* ---- errors -------------------------------------------------------------------------------------- */
static void expect_error(const char *xml, sng_status want, const char *text) {
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    sng_status st = sng_graph_load_string(ctx, xml, strlen(xml), "t.xml", NULL, &g);
    CU_ASSERT_EQUAL(st, want);
    const char *msg = sng_ctx_errmsg(ctx);
    if (!msg || !strstr(msg, text))
        fprintf(stderr, "\n  expected \"%s\" in \"%s\"\n", text, msg ? msg : "(null)");
    CU_ASSERT(msg && strstr(msg, text));
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

static void test_spatial_errors(void) {
    expect_error("<model><input name='a' shape='4608'/>"
                 "<conv2d name='c' in='a' filters='4'/><output name='c'/></model>",
                 SNG_ERR_SHAPE, "conv2d expects (C,H,W) input, got (4608)");
    expect_error("<model><input name='a' shape='1,6,6'/>"
                 "<conv2d name='c' in='a' filters='4' kernel='10'/><output name='c'/></model>",
                 SNG_ERR_SHAPE, "kernel 10x10 does not fit input (1,6,6) with pad 0");
    expect_error("<model><input name='a' shape='1,6,6'/>"
                 "<conv2d name='c' in='a' kernel='3'/><output name='c'/></model>",
                 SNG_ERR_MODEL, "filters");
    expect_error("<model><input name='a' shape='1,6,6'/>"
                 "<conv2d name='c' in='a' filters='2' pad='wide'/><output name='c'/></model>",
                 SNG_ERR_MODEL, "pad");
    expect_error("<model><input name='a' shape='1,6,6'/>"
                 "<maxpool2d name='p' in='a' kernel='2' pad='2'/><output name='p'/></model>",
                 SNG_ERR_MODEL, "pad 2,2 must be smaller than kernel 2x2");
    expect_error("<model><input name='a' shape='1,3,3'/>"
                 "<maxpool2d name='p' in='a' kernel='4'/><output name='p'/></model>",
                 SNG_ERR_SHAPE, "kernel 4x4 does not fit input (1,3,3)");
    expect_error("<model><input name='a' shape='12'/>"
                 "<avgpool2d name='p' in='a'/><output name='p'/></model>",
                 SNG_ERR_SHAPE, "avgpool2d expects (C,H,W) input, got (12)");
    expect_error("<model><input name='a' shape='3,4,2'/>"
                 "<reshape name='r' in='a' shape='5,-1'/><output name='r'/></model>",
                 SNG_ERR_SHAPE, "cannot reshape input (3,4,2) (24 elements) to (5,-1)");
    expect_error("<model><input name='a' shape='3,4,2'/>"
                 "<reshape name='r' in='a' shape='-1,-1'/><output name='r'/></model>",
                 SNG_ERR_MODEL, "more than one -1");
    expect_error("<model><input name='a' shape='3,4,2'/>"
                 "<global_avgpool name='r' in='a' foo='1'/><output name='r'/></model>",
                 SNG_ERR_MODEL, "foo");
}

static CU_TestInfo conv_tests[] = {
    {"test_conv2d_forward_reference", test_conv2d_forward_reference},
    {"test_conv2d_backward_reference", test_conv2d_backward_reference},
    {"test_conv2d_gradcheck", test_conv2d_gradcheck},
    {"test_conv2d_deterministic", test_conv2d_deterministic},
    CU_TEST_INFO_NULL,
};
static CU_TestInfo pool_tests[] = {
    {"test_maxpool2d_reference", test_maxpool2d_reference},
    {"test_avgpool2d_reference", test_avgpool2d_reference},
    {"test_pool_gradcheck", test_pool_gradcheck},
    {"test_global_avgpool", test_global_avgpool},
    CU_TEST_INFO_NULL,
};
static CU_TestInfo shape_tests[] = {
    {"test_flatten_reshape", test_flatten_reshape},
    {"test_pipeline_gradcheck", test_pipeline_gradcheck},
    {"test_spatial_errors", test_spatial_errors},
    CU_TEST_INFO_NULL,
};
CU_SuiteInfo sngt_suites[] = {
    {"ops_conv", NULL, NULL, NULL, NULL, conv_tests},
    {"ops_pool", NULL, NULL, NULL, NULL, pool_tests},
    {"ops_shape", NULL, NULL, NULL, NULL, shape_tests},
    CU_SUITE_INFO_NULL,
};
