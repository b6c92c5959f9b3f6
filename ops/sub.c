/*
 * sub — y = a - b (same shapes);  da += dy;  db -= dy. Backward reads neither inputs nor output.
 */
#include "config.h"

#include "elem_common.h"

static sng_status sub_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st = elem_same_shape(c, 0, 1);
    if (st) return st;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = (double)elem_numel(c->node);
    return SNG_OK;
}

static void sub_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *a = x->in[0], *b = x->in[1];
    float *y = x->out;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = a[i] - b[i];
}

static void sub_backward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *dy = x->dout;
    float *da = x->din[0], *db = x->din[1];
    if (da) {
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++) da[i] += dy[i];
    }
    if (db) {
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++) db[i] -= dy[i];
    }
}

const sngi_op_def sngi_op_sub = {
    .name = "sub",
    .n_inputs = 2,
    .summary = "elementwise difference a - b",
    .infer = sub_infer,
    .forward = sub_forward,
    .backward = sub_backward,
};
