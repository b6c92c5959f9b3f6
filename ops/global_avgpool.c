/*
 * global_avgpool — mean of each channel over its spatial map:
 *   y[n,c] = sum_{h,w} x[n,c,h,w] / (H*W);   dx[n,c,h,w] += dy[n,c] / (H*W)
 *   x: (N, C, H, W)  y: (N, C)
 */
#include "config.h"

#include "op.h"

static sng_status gap_infer(sngi_op_ctx *c, void *attr) {
    const sngi_shape *in = &c->node->in_shape[0];
    char buf[64];
    if (in->nd != 3)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "global_avgpool expects (C,H,W) input, got %s",
                            sngi_shape_str(in, buf, sizeof buf));
    c->node->shape = sngi_shape1(in->d[0]);
    c->node->flops = (double)sngi_shape_numel(in);
    return SNG_OK;
}

static void gap_forward(const sngi_node *node, const sngi_exec *x) {
    const sngi_shape *in = &node->in_shape[0];
    int64_t planes = (int64_t)x->n * in->d[0], hw = (int64_t)in->d[1] * in->d[2];
    float inv = 1.0f / (float)hw;
#pragma omp parallel for schedule(static) if (planes * hw > SNG_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        const float *xp = x->in[0] + q * hw;
        float s = 0;
        for (int64_t i = 0; i < hw; i++) s += xp[i];
        x->out[q] = s * inv;
    }
}

static void gap_backward(const sngi_node *node, const sngi_exec *x) {
    if (!x->din[0]) return;
    const sngi_shape *in = &node->in_shape[0];
    int64_t planes = (int64_t)x->n * in->d[0], hw = (int64_t)in->d[1] * in->d[2];
    float inv = 1.0f / (float)hw;
#pragma omp parallel for schedule(static) if (planes * hw > SNG_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        float *dx = x->din[0] + q * hw, g = x->dout[q] * inv;
        for (int64_t i = 0; i < hw; i++) dx[i] += g;
    }
}

const sngi_op_def sngi_op_global_avgpool = {
    .name = "global_avgpool",
    .n_inputs = 1,
    .summary = "mean of each channel over its spatial map: (C,H,W) -> (C)",
    .infer = gap_infer,
    .forward = gap_forward,
    .backward = gap_backward,
};
