/*
 * sigmoid — y = 1 / (1 + exp(-x)), evaluated without overflow for either sign of x;
 * dx += dy * y * (1 - y) (backward reads only the output).
 */
#include "config.h"

#include "elem_common.h"

static sng_status sigmoid_infer(sng_op_ctx *c, void *attr) {
    (void)attr;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = 4.0 * (double)elem_numel(c->node);
    return SNG_OK;
}

static void sigmoid_forward(const sngi_node *node, const sng_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *in = x->in[0];
    float *out = x->out;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = elem_sigmoidf(in[i]);
}

static void sigmoid_backward(const sngi_node *node, const sng_exec *x) {
    if (!x->din[0]) return;
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *y = x->out, *dy = x->dout;
    float *dx = x->din[0];
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

const sng_op_def sng_op_sigmoid = {
    .name = "sigmoid",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT,
    .summary = "logistic function 1/(1+exp(-x))",
    .infer = sigmoid_infer,
    .forward = sigmoid_forward,
    .backward = sigmoid_backward,
};
