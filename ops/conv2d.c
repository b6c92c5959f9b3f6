/*
 * conv2d — 2-D convolution (cross-correlation) with optional bias and fused activation:
 *   y[n,f,oh,ow] = act(b[f] + sum_{c,i,j} W[f,c,i,j] * x[n, c, oh*sh - pt + i*dh, ow*sw - pl + j*dw])
 *   x: (N, C, H, W)   W: (F, C, kh, kw)   b: (F)   y: (N, F, Ho, Wo)
 *   g = dy * act'(y);  dW += g col^T;  db += sum g;  dcol = W^T g;  dx += col2im(dcol)
 *
 * Algorithm: im2col + BLIS sgemm (through sngi_sgemm), tiled so the column buffer stays small.
 * A tile is B images x R output rows: for large maps one image is cut into row bands (B = 1) so
 * the tile's buffers stay under a cap (1 row minimum); for small maps (deep layers) several
 * whole images share one GEMM (BLIS is slow on skinny per-image products) when at least two
 * fit under the cap. When B = 1 the GEMM
 * writes straight into y (a sub-matrix with leading dimension Ho*Wo); when B > 1 it writes into
 * a staging buffer that is scattered to y together with bias and activation. The tiling is a
 * pure function of the node and the batch, so ->workspace and the kernels agree on it.
 *
 * Workspace (floats, R' = R*Wo columns per image):
 *   forward  : col (CK x B*R') [none for 1x1/stride 1/no pad when B = 1] + stage (F x B*Ho*Wo) if B > 1
 *   backward : col (CK x B*R') + G (F x B*R')   (G = dy*act'(y) of the tile, contiguous)
 * Backward accumulates into dW, db and dx; dx is skipped when din[0] is NULL.
 * Deterministic: fixed tile order, BLIS never splits the k dimension, col2im is parallel over
 * (image, channel) planes only.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "activation.h"
#include "op.h"

/* Tile caps in floats (column buffer plus G or staging). Forward is bounded hard, since
 * inference of a VGG16 pair must fit a small arena: the peak there is the early layers (large
 * maps, small C*kh*kw), which tile into row bands under CONV_CAP_FWD. Deep layers (small maps,
 * large C*kh*kw) get room for at least CONV_MIN_COLS columns, so their GEMMs are not skinny;
 * their activations are small, so this does not raise the arena's peak. Backward runs in
 * training, where activations dominate anyway. */
#define CONV_CAP_FWD (384 * 1024)  /* 1.5 MB */
#define CONV_CAP_BWD (1024 * 1024) /* 4 MB */
#define CONV_MIN_COLS 768

typedef struct {
    int filters;
    int kh, kw, sh, sw, dh, dw;
    int pad_mode; /* 0 explicit, 1 same, 2 valid */
    int ph, pw;   /* explicit pads (symmetric) */
    int use_bias;
    sngi_act act;
    sngi_init init;
    float init_scale;
    /* geometry, set by infer */
    int C, H, W, Ho, Wo, pt, pl;
} conv_attr;

static sng_status conv_parse(sngi_op_ctx *c, void *attr) {
    conv_attr *a = attr;
    sng_status st;
    int k[2], s[2], d[2];
    if ((st = sngi_attr_int_req(c, "filters", 1, 1 << 20, &a->filters))) return st;
    if ((st = sngi_attr_pair(c, "kernel", 3, 1, 4096, k))) return st;
    if ((st = sngi_attr_pair(c, "stride", 1, 1, 4096, s))) return st;
    if ((st = sngi_attr_pair(c, "dilation", 1, 1, 4096, d))) return st;
    a->kh = k[0], a->kw = k[1], a->sh = s[0], a->sw = s[1], a->dh = d[0], a->dw = d[1];
    const char *v;
    a->pad_mode = 0;
    a->ph = a->pw = 0;
    if (sngi_attr_raw(c, "pad", &v)) {
        if (strcmp(v, "same") == 0) {
            a->pad_mode = 1;
        } else if (strcmp(v, "valid") == 0) {
            a->pad_mode = 2;
        } else {
            int p[2];
            if ((st = sngi_attr_pair(c, "pad", 0, 0, 4096, p))) return st;
            a->ph = p[0], a->pw = p[1];
        }
    }
    if ((st = sngi_attr_bool(c, "bias", 1, &a->use_bias))) return st;
    if ((st = sngi_attr_act(c, &a->act))) return st;
    return sngi_attr_init(c, SNGI_INIT_HE_NORMAL, &a->init, &a->init_scale);
}

/* TF 'same' along one axis: out = ceil(in/s); returns the leading pad. */
static int same_pad(int in, int k, int s, int d, int *out) {
    int o = (in + s - 1) / s;
    int total = (o - 1) * s + (k - 1) * d + 1 - in;
    if (total < 0) total = 0;
    *out = o;
    return total / 2;
}

static sng_status conv_infer(sngi_op_ctx *c, void *attr) {
    conv_attr *a = attr;
    const sngi_shape *in = &c->node->in_shape[0];
    char buf[64];
    if (in->nd != 3)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "conv2d expects (C,H,W) input, got %s",
                            sngi_shape_str(in, buf, sizeof buf));
    a->C = in->d[0], a->H = in->d[1], a->W = in->d[2];
    int ekh = (a->kh - 1) * a->dh + 1, ekw = (a->kw - 1) * a->dw + 1; /* effective extent */
    if (a->pad_mode == 1) {
        a->pt = same_pad(a->H, a->kh, a->sh, a->dh, &a->Ho);
        a->pl = same_pad(a->W, a->kw, a->sw, a->dw, &a->Wo);
    } else {
        int ph = a->pad_mode == 2 ? 0 : a->ph, pw = a->pad_mode == 2 ? 0 : a->pw;
        if (ekh > a->H + 2 * ph || ekw > a->W + 2 * pw) {
            if (a->dh > 1 || a->dw > 1)
                return sngi_op_fail(c, SNG_ERR_SHAPE,
                                    "kernel %dx%d with dilation %dx%d (extent %dx%d) does not fit"
                                    " input %s with pad %d,%d",
                                    a->kh, a->kw, a->dh, a->dw, ekh, ekw,
                                    sngi_shape_str(in, buf, sizeof buf), ph, pw);
            if (ph == pw)
                return sngi_op_fail(c, SNG_ERR_SHAPE,
                                    "kernel %dx%d does not fit input %s with pad %d", a->kh, a->kw,
                                    sngi_shape_str(in, buf, sizeof buf), ph);
            return sngi_op_fail(c, SNG_ERR_SHAPE,
                                "kernel %dx%d does not fit input %s with pad %d,%d", a->kh, a->kw,
                                sngi_shape_str(in, buf, sizeof buf), ph, pw);
        }
        a->pt = ph, a->pl = pw;
        a->Ho = (a->H + 2 * ph - ekh) / a->sh + 1;
        a->Wo = (a->W + 2 * pw - ekw) / a->sw + 1;
    }
    int64_t ck = (int64_t)a->C * a->kh * a->kw, p = (int64_t)a->Ho * a->Wo;
    if (ck > (1 << 28) || p > (1 << 28) || (int64_t)a->filters * p > (1 << 30))
        return sngi_op_fail(c, SNG_ERR_SHAPE, "conv2d on input %s is too large",
                            sngi_shape_str(in, buf, sizeof buf));
    sngi_shape w = {4, {a->filters, a->C, a->kh, a->kw}};
    sngi_shape b = sngi_shape1(a->filters);
    sng_status st = sngi_op_param(c, "W", &w, a->init, a->init_scale, (int)ck,
                                  a->filters * a->kh * a->kw);
    if (st) return st;
    if (a->use_bias && (st = sngi_op_param(c, "b", &b, SNGI_INIT_ZEROS, 0, (int)ck,
                                           a->filters * a->kh * a->kw)))
        return st;
    c->node->shape = sngi_shape3(a->filters, a->Ho, a->Wo);
    c->node->flops = (double)a->filters * p *
                     (2.0 * ck + (a->use_bias ? 1 : 0) + (a->act != SNGI_ACT_NONE ? 1 : 0));
    return SNG_OK;
}

/* ---- tiling ------------------------------------------------------------------------------------- */
typedef struct {
    int B, R;      /* images per tile, output rows per tile (R == Ho when B > 1) */
    int identity;  /* 1x1, stride 1, no pad: the column matrix of one image is x itself */
    int64_t ck, p; /* C*kh*kw, Ho*Wo */
} conv_tiling;

static conv_tiling conv_tile(const conv_attr *a, int n, int pass) {
    conv_tiling t;
    t.ck = (int64_t)a->C * a->kh * a->kw;
    t.p = (int64_t)a->Ho * a->Wo;
    int64_t cap = pass ? CONV_CAP_BWD : CONV_CAP_FWD;
    if (cap < (t.ck + a->filters) * CONV_MIN_COLS) cap = (t.ck + a->filters) * CONV_MIN_COLS;
    t.identity = a->kh == 1 && a->kw == 1 && a->sh == 1 && a->sw == 1 && a->pt == 0 &&
                 a->pl == 0 && a->Ho == a->H && a->Wo == a->W;
    if (n < 1) n = 1;
    /* Floats per output column: the column buffer, plus G (backward) or the staging buffer
     * (forward with several images per tile). */
    int64_t staged = t.ck + a->filters, direct = pass ? staged : t.ck;
    if (n > 1 && 2 * staged * t.p <= cap) {
        t.R = a->Ho;
        int64_t b = cap / (staged * t.p);
        if (b > n) b = n;
        int tiles = (int)((n + b - 1) / b);
        t.B = (n + tiles - 1) / tiles; /* even tiles */
    } else {
        t.B = 1;
        int64_t r = cap / (direct * a->Wo);
        if (r < 1) r = 1;
        if (r > a->Ho) r = a->Ho;
        int tiles = (int)((a->Ho + r - 1) / r);
        t.R = (a->Ho + tiles - 1) / tiles;
    }
    return t;
}

static size_t conv_workspace(const sngi_node *node, int n, int pass) {
    const conv_attr *a = node->attr;
    conv_tiling t = conv_tile(a, n, pass);
    int64_t cols = (int64_t)t.B * t.R * a->Wo, fl = 0;
    if (pass == 0) {
        if (!(t.identity && t.B == 1)) fl += t.ck * cols;
        if (t.B > 1) fl += (int64_t)a->filters * cols;
    } else {
        fl = t.ck * cols + (int64_t)a->filters * cols;
    }
    /* round each part to 16 floats (64 bytes) */
    return (size_t)(fl + 32) * sizeof(float);
}

/* ---- im2col / col2im ---------------------------------------------------------------------------- */
/* Valid output columns [lo, hi) for kernel column j: 0 <= ow*sw - pl + j*dw < W. */
static void ow_range(const conv_attr *a, int j, int *lo, int *hi) {
    int off = j * a->dw - a->pl; /* iw = ow*sw + off */
    int l = off >= 0 ? 0 : (-off + a->sw - 1) / a->sw;
    int h = a->W - off <= 0 ? 0 : (a->W - off + a->sw - 1) / a->sw; /* ow*sw + off < W */
    if (h > a->Wo) h = a->Wo;
    if (l > h) l = h;
    *lo = l, *hi = h;
}

/* col (CK x B*R*Wo): rows (c,i,j), columns (b, r, ow) for output rows [r0, r0+R) of images
 * x .. x + (B-1)*C*H*W. */
static void im2col(const conv_attr *a, const float *x, int B, int r0, int R, float *col) {
    int kk = a->kh * a->kw, Wo = a->Wo;
    int64_t ncols = (int64_t)B * R * Wo, rows = (int64_t)a->C * kk * B;
    int64_t chw = (int64_t)a->C * a->H * a->W;
#pragma omp parallel for schedule(static) if (rows * R * Wo > SNG_PAR_MIN)
    for (int64_t q = 0; q < rows; q++) {
        int row = (int)(q / B), b = (int)(q % B);
        int c = row / kk, i = (row % kk) / a->kw, j = row % a->kw;
        int lo, hi;
        ow_range(a, j, &lo, &hi);
        int off = j * a->dw - a->pl;
        const float *xc = x + b * chw + (int64_t)c * a->H * a->W;
        float *dst = col + row * ncols + (int64_t)b * R * Wo;
        for (int r = 0; r < R; r++, dst += Wo) {
            int ih = (r0 + r) * a->sh - a->pt + i * a->dh;
            if (ih < 0 || ih >= a->H || lo >= hi) {
                memset(dst, 0, sizeof(float) * Wo);
                continue;
            }
            const float *src = xc + (int64_t)ih * a->W + off;
            for (int ow = 0; ow < lo; ow++) dst[ow] = 0;
            if (a->sw == 1)
                memcpy(dst + lo, src + lo, sizeof(float) * (hi - lo));
            else
                for (int ow = lo; ow < hi; ow++) dst[ow] = src[(int64_t)ow * a->sw];
            for (int ow = hi; ow < Wo; ow++) dst[ow] = 0;
        }
    }
}

/* dx += col2im(dcol), the adjoint of im2col; parallel over (image, channel) planes. */
static void col2im_add(const conv_attr *a, const float *dcol, int B, int r0, int R, float *dx) {
    int kk = a->kh * a->kw, Wo = a->Wo;
    int64_t ncols = (int64_t)B * R * Wo, chw = (int64_t)a->C * a->H * a->W;
    int planes = B * a->C;
#pragma omp parallel for schedule(static) if ((int64_t)planes * kk * R * Wo > SNG_PAR_MIN)
    for (int q = 0; q < planes; q++) {
        int b = q / a->C, c = q % a->C;
        float *xc = dx + b * chw + (int64_t)c * a->H * a->W;
        for (int i = 0; i < a->kh; i++)
            for (int j = 0; j < a->kw; j++) {
                int row = c * kk + i * a->kw + j, lo, hi;
                ow_range(a, j, &lo, &hi);
                int off = j * a->dw - a->pl;
                const float *src = dcol + row * ncols + (int64_t)b * R * Wo;
                for (int r = 0; r < R; r++, src += Wo) {
                    int ih = (r0 + r) * a->sh - a->pt + i * a->dh;
                    if (ih < 0 || ih >= a->H) continue;
                    float *d = xc + (int64_t)ih * a->W + off;
                    if (a->sw == 1) {
#pragma omp simd
                        for (int ow = lo; ow < hi; ow++) d[ow] += src[ow];
                    } else {
                        for (int ow = lo; ow < hi; ow++) d[(int64_t)ow * a->sw] += src[ow];
                    }
                }
            }
    }
}

/* ---- forward ------------------------------------------------------------------------------------ */
static void conv_forward(const sngi_node *node, const sngi_exec *x) {
    const conv_attr *a = node->attr;
    conv_tiling t = conv_tile(a, x->n, 0);
    int F = a->filters, ck = (int)t.ck, Wo = a->Wo;
    int64_t p = t.p, chw = (int64_t)a->C * a->H * a->W;
    const float *W = x->p[0], *bias = a->use_bias ? x->p[1] : NULL;
    float *col = x->ws;
    for (int b0 = 0; b0 < x->n; b0 += t.B) {
        int B = x->n - b0 < t.B ? x->n - b0 : t.B;
        const float *xb = x->in[0] + b0 * chw;
        float *yb = x->out + (int64_t)b0 * F * p;
        if (B == 1) {
            for (int r0 = 0; r0 < a->Ho; r0 += t.R) {
                int R = a->Ho - r0 < t.R ? a->Ho - r0 : t.R, ncols = R * Wo;
                const float *cb;
                int ldb;
                if (t.identity) {
                    cb = xb + (int64_t)r0 * Wo;
                    ldb = (int)p;
                } else {
                    im2col(a, xb, 1, r0, R, col);
                    cb = col;
                    ldb = ncols;
                }
                float *yt = yb + (int64_t)r0 * Wo;
                if (bias) {
#pragma omp parallel for schedule(static) if ((int64_t)F * ncols > SNG_PAR_MIN)
                    for (int f = 0; f < F; f++)
                        for (int j = 0; j < ncols; j++) yt[(int64_t)f * p + j] = bias[f];
                }
                sngi_sgemm(x->n_threads, 0, 0, F, ncols, ck, 1.0f, W, ck, cb, ldb,
                           bias ? 1.0f : 0.0f, yt, (int)p);
                if (a->act != SNGI_ACT_NONE) {
#pragma omp parallel for schedule(static) if ((int64_t)F * ncols > SNG_PAR_MIN)
                    for (int f = 0; f < F; f++) {
                        float *yr = yt + (int64_t)f * p;
                        sngi_act_row_forward(a->act, 0.0f, yr, yr, ncols, x, yr - x->out);
                    }
                }
            }
        } else {
            int64_t ncols = (int64_t)B * p;
            float *stage = col + ((t.ck * t.B * p + 15) & ~(int64_t)15);
            im2col(a, xb, B, 0, a->Ho, col);
            sngi_sgemm(x->n_threads, 0, 0, F, (int)ncols, ck, 1.0f, W, ck, col, (int)ncols, 0.0f,
                       stage, (int)ncols);
#pragma omp parallel for schedule(static) if ((int64_t)F * ncols > SNG_PAR_MIN)
            for (int q = 0; q < B * F; q++) {
                int b = q / F, f = q % F;
                const float *s = stage + (int64_t)f * ncols + (int64_t)b * p;
                float *yr = yb + ((int64_t)b * F + f) * p, bv = bias ? bias[f] : 0.0f;
                for (int64_t j = 0; j < p; j++) yr[j] = s[j] + bv;
                sngi_act_row_forward(a->act, 0.0f, yr, yr, p, x, yr - x->out);
            }
        }
    }
}

/* ---- backward ----------------------------------------------------------------------------------- */
static void conv_backward(const sngi_node *node, const sngi_exec *x) {
    const conv_attr *a = node->attr;
    conv_tiling t = conv_tile(a, x->n, 1);
    int F = a->filters, ck = (int)t.ck, Wo = a->Wo;
    int64_t p = t.p, chw = (int64_t)a->C * a->H * a->W;
    const float *W = x->p[0];
    float *dW = x->dp[0], *db = a->use_bias ? x->dp[1] : NULL, *dx = x->din[0];
    if (!dW && !db && !dx) return;
    int64_t colf = t.ck * t.B * t.R * Wo;
    float *col = x->ws, *G = col + ((colf + 15) & ~(int64_t)15);
    for (int b0 = 0; b0 < x->n; b0 += t.B) {
        int B = x->n - b0 < t.B ? x->n - b0 : t.B;
        for (int r0 = 0; r0 < a->Ho; r0 += t.R) {
            int R = a->Ho - r0 < t.R ? a->Ho - r0 : t.R;
            int64_t rc = (int64_t)R * Wo, ncols = B * rc;
            /* G (F x B*R*Wo) = dy * act'(y) for the tile */
#pragma omp parallel for schedule(static) if ((int64_t)F * ncols > SNG_PAR_MIN)
            for (int q = 0; q < B * F; q++) {
                int b = q / F, f = q % F;
                int64_t o = ((int64_t)(b0 + b) * F + f) * p + (int64_t)r0 * Wo;
                const float *dy = x->dout + o, *y = x->out + o;
                float *g = G + (int64_t)f * ncols + b * rc;
                sngi_act_row_backward(a->act, 0.0f, y, dy, g, rc, 0);
            }
            if (db) {
                for (int f = 0; f < F; f++) {
                    const float *g = G + (int64_t)f * ncols;
                    float s = 0;
                    for (int64_t j = 0; j < ncols; j++) s += g[j];
                    db[f] += s;
                }
            }
            const float *xb = x->in[0] + b0 * chw;
            int direct = t.identity && B == 1;
            if (dW) {
                const float *cb = col;
                int ldb = (int)ncols;
                if (direct) {
                    cb = xb + (int64_t)r0 * Wo;
                    ldb = (int)p;
                } else {
                    im2col(a, xb, B, r0, R, col);
                }
                sngi_sgemm(x->n_threads, 0, 1, F, ck, (int)ncols, 1.0f, G, (int)ncols, cb, ldb,
                           1.0f, dW, ck);
            }
            if (dx) {
                float *dxb = dx + b0 * chw;
                if (direct) {
                    sngi_sgemm(x->n_threads, 1, 0, ck, (int)ncols, F, 1.0f, W, ck, G, (int)ncols,
                               1.0f, dxb + (int64_t)r0 * Wo, (int)p);
                } else {
                    sngi_sgemm(x->n_threads, 1, 0, ck, (int)ncols, F, 1.0f, W, ck, G, (int)ncols,
                               0.0f, col, (int)ncols);
                    col2im_add(a, col, B, r0, R, dxb);
                }
            }
        }
    }
}

const sngi_op_def sngi_op_conv2d = {
    .name = "conv2d",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_IN | SNG_OP_BWD_NEEDS_OUT | SNG_OP_KINKS,
    .attr_size = sizeof(conv_attr),
    .summary = "2-D convolution (im2col + sgemm) with stride, padding, dilation, bias and fused "
               "activation",
    .parse = conv_parse,
    .infer = conv_infer,
    .workspace = conv_workspace,
    .forward = conv_forward,
    .backward = conv_backward,
};
