/*
 * avgpool2d — mean over the in-range cells of kernel windows (padding is excluded from the
 * count, so every output is the mean of 1..kh*kw real cells):
 *   y[n,c,oh,ow] = sum_{window in range} x / count;   dx[cell] += dy / count for each window
 *   x: (N, C, H, W)  y: (N, C, Ho, Wo)
 * Attributes as maxpool2d: kernel, stride (default = kernel), pad, round ("floor" | "ceil").
 * Parallel over (n, c) planes: backward is race-free and deterministic.
 */
#include "config.h"

#include <string.h>

#include "pool_common.h"

static void avgpool_forward(const sngi_node *node, const sngi_exec *x) {
    const sngi_pool_attr *a = node->attr;
    int64_t planes = (int64_t)x->n * node->shape.d[0];
    int64_t hw = (int64_t)a->H * a->W, ohw = (int64_t)a->Ho * a->Wo;
#pragma omp parallel for schedule(static) if (planes * ohw > SNG_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        const float *xp = x->in[0] + q * hw;
        float *yp = x->out + q * ohw;
        for (int oh = 0; oh < a->Ho; oh++) {
            int h0, h1;
            sngi_pool_win(oh, a->sh, a->ph, a->kh, a->H, &h0, &h1);
            for (int ow = 0; ow < a->Wo; ow++) {
                int w0, w1;
                sngi_pool_win(ow, a->sw, a->pw, a->kw, a->W, &w0, &w1);
                float s = 0;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) s += xp[ih * a->W + iw];
                yp[oh * a->Wo + ow] = s / (float)((h1 - h0) * (w1 - w0));
            }
        }
    }
}

static void avgpool_backward(const sngi_node *node, const sngi_exec *x) {
    if (!x->din[0]) return;
    const sngi_pool_attr *a = node->attr;
    int64_t planes = (int64_t)x->n * node->shape.d[0];
    int64_t hw = (int64_t)a->H * a->W, ohw = (int64_t)a->Ho * a->Wo;
#pragma omp parallel for schedule(static) if (planes * ohw > SNG_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        const float *dy = x->dout + q * ohw;
        float *dx = x->din[0] + q * hw;
        for (int oh = 0; oh < a->Ho; oh++) {
            int h0, h1;
            sngi_pool_win(oh, a->sh, a->ph, a->kh, a->H, &h0, &h1);
            for (int ow = 0; ow < a->Wo; ow++) {
                int w0, w1;
                sngi_pool_win(ow, a->sw, a->pw, a->kw, a->W, &w0, &w1);
                float g = dy[oh * a->Wo + ow] / (float)((h1 - h0) * (w1 - w0));
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) dx[ih * a->W + iw] += g;
            }
        }
    }
}

const sngi_op_def sngi_op_avgpool2d = {
    .name = "avgpool2d",
    .n_inputs = 1,
    .summary = "2-D average pooling over in-range cells (kernel, stride, pad, floor/ceil)",
    .attr_size = sizeof(sngi_pool_attr),
    .parse = sngi_pool_parse,
    .infer = sngi_pool_infer,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};
