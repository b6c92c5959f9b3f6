/*
 * maxpool2d — max over kernel windows of each channel:
 *   y[n,c,oh,ow] = max over in-range cells (ih, iw) of the window at (oh*sh - ph, ow*sw - pw)
 *   dx[argmax] += dy  (argmax = first maximum in scan order, recomputed from x in backward)
 *   x: (N, C, H, W)  y: (N, C, Ho, Wo)
 * Attributes: kernel (2 or "kh,kw"), stride (default = kernel), pad (0 or "ph,pw"; padded cells
 * never win), round ("floor" | "ceil"; with ceil, windows running off the edge use only their
 * in-range cells, and a window that would start in the padding is dropped, as in PyTorch).
 * Parallel over (n, c) planes, so backward is race-free and deterministic.
 */
#include "config.h"

#include <string.h>

#include "op.h"

typedef struct {
    int kh, kw, sh, sw, ph, pw;
    int ceil_mode;
    int H, W, Ho, Wo; /* set by infer */
} pool_attr;

static sng_status pool_parse(sng_op_ctx *c, void *attr) {
    pool_attr *a = attr;
    static const char *const rounds[] = {"floor", "ceil", NULL};
    int k[2], s[2], p[2];
    sng_status st;
    if ((st = sngi_attr_pair(c, "kernel", 2, 1, 4096, k))) return st;
    if ((st = sngi_attr_pair(c, "stride", 0, 1, 4096, s))) return st;
    if ((st = sngi_attr_pair(c, "pad", 0, 0, 4096, p))) return st;
    if ((st = sngi_attr_enum(c, "round", rounds, 0, &a->ceil_mode))) return st;
    a->kh = k[0], a->kw = k[1];
    a->sh = s[0] ? s[0] : k[0], a->sw = s[1] ? s[1] : k[1];
    a->ph = p[0], a->pw = p[1];
    if (a->ph >= a->kh || a->pw >= a->kw)
        return sngi_op_fail(c, SNG_ERR_MODEL, "pad %d,%d must be smaller than kernel %dx%d", a->ph,
                            a->pw, a->kh, a->kw);
    return SNG_OK;
}

/* Output extent along one axis; 0 when the kernel does not fit. */
static int pool_out(int in, int k, int s, int p, int ceil_mode) {
    int span = in + 2 * p - k;
    if (span < 0) return 0;
    int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--; /* the last window would start in the padding */
    return o;
}

static sng_status pool_infer(sng_op_ctx *c, void *attr) {
    pool_attr *a = attr;
    const sngi_shape *in = &c->node->in_shape[0];
    char buf[64];
    if (in->nd != 3)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "maxpool2d expects (C,H,W) input, got %s",
                            sngi_shape_str(in, buf, sizeof buf));
    a->H = in->d[1], a->W = in->d[2];
    a->Ho = pool_out(a->H, a->kh, a->sh, a->ph, a->ceil_mode);
    a->Wo = pool_out(a->W, a->kw, a->sw, a->pw, a->ceil_mode);
    if (a->Ho < 1 || a->Wo < 1)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "kernel %dx%d does not fit input %s with pad %d,%d",
                            a->kh, a->kw, sngi_shape_str(in, buf, sizeof buf), a->ph, a->pw);
    c->node->shape = sngi_shape3(in->d[0], a->Ho, a->Wo);
    c->node->flops = (double)in->d[0] * a->Ho * a->Wo * a->kh * a->kw;
    return SNG_OK;
}

/* In-range window [lo, hi) of output index o along an axis. */
static inline void win(int o, int s, int p, int k, int in, int *lo, int *hi) {
    int a = o * s - p, b = a + k;
    *lo = a < 0 ? 0 : a;
    *hi = b > in ? in : b;
}

/* Index (within the plane) of the first maximum of window (oh, ow). */
static inline int argmax_at(const pool_attr *a, const float *xp, int oh, int ow) {
    int h0, h1, w0, w1;
    win(oh, a->sh, a->ph, a->kh, a->H, &h0, &h1);
    win(ow, a->sw, a->pw, a->kw, a->W, &w0, &w1);
    int best = h0 * a->W + w0;
    float m = xp[best];
    for (int ih = h0; ih < h1; ih++)
        for (int iw = w0; iw < w1; iw++)
            if (xp[ih * a->W + iw] > m) {
                m = xp[ih * a->W + iw];
                best = ih * a->W + iw;
            }
    return best;
}

static void maxpool_forward(const sngi_node *node, const sng_exec *x) {
    const pool_attr *a = node->attr;
    int64_t planes = (int64_t)x->n * node->shape.d[0];
    int64_t hw = (int64_t)a->H * a->W, ohw = (int64_t)a->Ho * a->Wo;
#pragma omp parallel for schedule(static) if (planes * ohw > SNG_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        const float *xp = x->in[0] + q * hw;
        float *yp = x->out + q * ohw;
        if (x->kinks) { /* the recorded window choice (kink freezing) */
            for (int64_t o = 0; o < ohw; o++)
                yp[o] = xp[sngi_kink(x, q * ohw + o, argmax_at(a, xp, (int)(o / a->Wo),
                                                              (int)(o % a->Wo)))];
            continue;
        }
        if (a->kh == 2 && a->kw == 2 && a->sh == 2 && a->sw == 2 && a->ph == 0 && a->pw == 0 &&
            2 * a->Ho <= a->H && 2 * a->Wo <= a->W) {
            /* the common 2x2/2 case, all windows in range */
            for (int oh = 0; oh < a->Ho; oh++) {
                const float *r0 = xp + (int64_t)2 * oh * a->W, *r1 = r0 + a->W;
                for (int ow = 0; ow < a->Wo; ow++) {
                    float m = r0[2 * ow];
                    if (r0[2 * ow + 1] > m) m = r0[2 * ow + 1];
                    if (r1[2 * ow] > m) m = r1[2 * ow];
                    if (r1[2 * ow + 1] > m) m = r1[2 * ow + 1];
                    yp[oh * a->Wo + ow] = m;
                }
            }
            continue;
        }
        for (int oh = 0; oh < a->Ho; oh++)
            for (int ow = 0; ow < a->Wo; ow++) yp[oh * a->Wo + ow] = xp[argmax_at(a, xp, oh, ow)];
    }
}

static void maxpool_backward(const sngi_node *node, const sng_exec *x) {
    if (!x->din[0]) return;
    const pool_attr *a = node->attr;
    int64_t planes = (int64_t)x->n * node->shape.d[0];
    int64_t hw = (int64_t)a->H * a->W, ohw = (int64_t)a->Ho * a->Wo;
#pragma omp parallel for schedule(static) if (planes * ohw > SNG_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        const float *xp = x->in[0] + q * hw, *dy = x->dout + q * ohw;
        float *dx = x->din[0] + q * hw;
        for (int oh = 0; oh < a->Ho; oh++)
            for (int ow = 0; ow < a->Wo; ow++) dx[argmax_at(a, xp, oh, ow)] += dy[oh * a->Wo + ow];
    }
}

const sng_op_def sng_op_maxpool2d = {
    .name = "maxpool2d",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_IN | SNG_OP_KINKS,
    .attr_size = sizeof(pool_attr),
    .summary = "2-D max pooling (kernel, stride, pad, floor/ceil rounding)",
    .parse = pool_parse,
    .infer = pool_infer,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};
