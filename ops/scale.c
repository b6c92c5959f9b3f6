/*
 * scale — y = alpha * x + beta (attributes alpha = 1, beta = 0);  dx += alpha * dy.
 */
#include "config.h"

#include "elem_common.h"

typedef struct {
    float alpha, beta;
} scale_attr;

static sng_status scale_parse(sngi_op_ctx *c, void *attr) {
    scale_attr *a = attr;
    sng_status st;
    if ((st = sngi_attr_float(c, "alpha", 1.0f, -1e30f, 1e30f, &a->alpha))) return st;
    return sngi_attr_float(c, "beta", 0.0f, -1e30f, 1e30f, &a->beta);
}

static sng_status scale_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = 2.0 * (double)elem_numel(c->node);
    return SNG_OK;
}

static void scale_forward(const sngi_node *node, const sngi_exec *x) {
    const scale_attr *a = node->attr;
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *in = x->in[0];
    float *y = x->out, alpha = a->alpha, beta = a->beta;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = alpha * in[i] + beta;
}

static void scale_backward(const sngi_node *node, const sngi_exec *x) {
    if (!x->din[0]) return;
    const scale_attr *a = node->attr;
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *dy = x->dout;
    float *dx = x->din[0], alpha = a->alpha;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += alpha * dy[i];
}

const sngi_op_def sngi_op_scale = {
    .name = "scale",
    .n_inputs = 1,
    .attr_size = sizeof(scale_attr),
    .summary = "affine map alpha*x + beta with constant alpha (1) and beta (0)",
    .parse = scale_parse,
    .infer = scale_infer,
    .forward = scale_forward,
    .backward = scale_backward,
};
