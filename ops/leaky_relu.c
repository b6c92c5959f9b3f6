/*
 * leaky_relu — y = x > 0 ? x : alpha*x;  dx += dy * (y > 0 ? 1 : alpha).
 * alpha >= 0 (default 0.01), so the sign of y is the sign of x and backward reads only the output.
 */
#include "config.h"

#include "elem_common.h"

typedef struct {
    float alpha;
} leaky_relu_attr;

static sng_status leaky_relu_parse(sng_op_ctx *c, void *attr) {
    leaky_relu_attr *a = attr;
    return sngi_attr_float(c, "alpha", 0.01f, 0.0f, 1e6f, &a->alpha);
}

static sng_status leaky_relu_infer(sng_op_ctx *c, void *attr) {
    (void)attr;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = 2.0 * (double)elem_numel(c->node);
    return SNG_OK;
}

static void leaky_relu_forward(const sngi_node *node, const sng_exec *x) {
    const leaky_relu_attr *a = node->attr;
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *in = x->in[0];
    float *out = x->out, alpha = a->alpha;
    if (x->kinks) {
#pragma omp parallel for if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++) out[i] = sngi_kink(x, i, in[i] > 0) ? in[i] : alpha * in[i];
        return;
    }
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : alpha * in[i];
}

static void leaky_relu_backward(const sngi_node *node, const sng_exec *x) {
    if (!x->din[0]) return;
    const leaky_relu_attr *a = node->attr;
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *y = x->out, *dy = x->dout;
    float *dx = x->din[0], alpha = a->alpha;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += y[i] > 0 ? dy[i] : alpha * dy[i];
}

const sng_op_def sng_op_leaky_relu = {
    .name = "leaky_relu",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT | SNG_OP_KINKS,
    .attr_size = sizeof(leaky_relu_attr),
    .summary = "leaky rectified linear unit: x > 0 ? x : alpha*x (alpha=0.01)",
    .parse = leaky_relu_parse,
    .infer = leaky_relu_infer,
    .forward = leaky_relu_forward,
    .backward = leaky_relu_backward,
};
