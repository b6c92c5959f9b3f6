/*
 * flatten — any per-sample shape to a vector (numel):  y = x;  dx += dy.
 * The data layout is unchanged, so the planner may alias y to x (SNG_OP_ALIAS); the kernels
 * then see out == in (and din == dout) and do nothing.
 */
#include "config.h"

#include <string.h>

#include "op.h"

static sng_status flatten_infer(sngi_op_ctx *c, void *attr) {
    int64_t n = sngi_shape_numel(&c->node->in_shape[0]);
    if (n > (1 << 30)) return sngi_op_fail(c, SNG_ERR_SHAPE, "flatten: input too large");
    c->node->shape = sngi_shape1((int)n);
    c->node->flops = 0;
    return SNG_OK;
}

static void flatten_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    if (x->out != x->in[0]) memcpy(x->out, x->in[0], sizeof(float) * (size_t)n);
}

static void flatten_backward(const sngi_node *node, const sngi_exec *x) {
    float *dx = x->din[0];
    if (!dx || dx == x->dout) return;
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    const float *dy = x->dout;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i];
}

const sngi_op_def sngi_op_flatten = {
    .name = "flatten",
    .n_inputs = 1,
    .flags = SNG_OP_ALIAS,
    .summary = "flatten each sample to a vector: (C,H,W) -> (C*H*W)",
    .infer = flatten_infer,
    .forward = flatten_forward,
    .backward = flatten_backward,
};
