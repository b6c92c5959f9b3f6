/*
 * tanh — y = tanh(x);  dx += dy * (1 - y^2) (backward reads only the output).
 */
#include "config.h"

#include "elem_common.h"

static sng_status tanh_infer(sng_op_ctx *c, void *attr) {
    (void)attr;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = 4.0 * (double)elem_numel(c->node);
    return SNG_OK;
}

static void tanh_forward(const sngi_node *node, const sng_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *in = x->in[0];
    float *out = x->out;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
}

static void tanh_backward(const sngi_node *node, const sng_exec *x) {
    if (!x->din[0]) return;
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *y = x->out, *dy = x->dout;
    float *dx = x->din[0];
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

const sng_op_def sng_op_tanh = {
    .name = "tanh",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT,
    .summary = "hyperbolic tangent",
    .infer = tanh_infer,
    .forward = tanh_forward,
    .backward = tanh_backward,
};
