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

#include "pool_common.h"

/* Index (within the plane) of the first maximum of window (oh, ow). */
static inline int argmax_at(const sngi_pool_attr *a, const float *xp, int oh, int ow) {
    int h0, h1, w0, w1;
    sngi_pool_win(oh, a->sh, a->ph, a->kh, a->H, &h0, &h1);
    sngi_pool_win(ow, a->sw, a->pw, a->kw, a->W, &w0, &w1);
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

static void maxpool_forward(const sngi_node *node, const sngi_exec *x) {
    const sngi_pool_attr *a = node->attr;
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

static void maxpool_backward(const sngi_node *node, const sngi_exec *x) {
    if (!x->din[0]) return;
    const sngi_pool_attr *a = node->attr;
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

const sngi_op_def sngi_op_maxpool2d = {
    .name = "maxpool2d",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_IN | SNG_OP_KINKS,
    .attr_size = sizeof(sngi_pool_attr),
    .summary = "2-D max pooling (kernel, stride, pad, floor/ceil rounding)",
    .parse = sngi_pool_parse,
    .infer = sngi_pool_infer,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};
