/*
 * relu — y = max(x, 0);  dx += dy * [y > 0].
 */
#include "config.h"

#include "op.h"

static sng_status relu_infer(sng_op_ctx *c, void *attr) {
    c->node->shape = c->node->in_shape[0];
    c->node->flops = (double)sngi_shape_numel(&c->node->shape);
    return SNG_OK;
}

static void relu_forward(const sngi_node *node, const sng_exec *x) {
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    const float *in = x->in[0];
    float *out = x->out;
    if (x->kinks) {
#pragma omp parallel for if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++) out[i] = sngi_kink(x, i, in[i] > 0) ? in[i] : 0;
        return;
    }
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : 0;
}

static void relu_backward(const sngi_node *node, const sng_exec *x) {
    if (!x->din[0]) return;
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    const float *y = x->out, *dy = x->dout;
    float *dx = x->din[0];
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += y[i] > 0 ? dy[i] : 0;
}

const sng_op_def sng_op_relu = {
    .name = "relu",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT | SNG_OP_KINKS,
    .summary = "rectified linear unit",
    .infer = relu_infer,
    .forward = relu_forward,
    .backward = relu_backward,
};
