/*
 * add — y = x0 + x1 + ... + x(k-1), k >= 2 inputs of the same shape (summed in input order);
 * dxi += dy for every input. Backward reads neither inputs nor output.
 */
#include "config.h"

#include "elem_common.h"

static sng_status add_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sngi_node *nd = c->node;
    if (nd->n_in < 2)
        return sngi_op_fail(c, SNG_ERR_MODEL, "add: needs at least 2 inputs, got %d", nd->n_in);
    for (int k = 1; k < nd->n_in; k++) {
        sng_status st = elem_same_shape(c, 0, k);
        if (st) return st;
    }
    nd->shape = nd->in_shape[0];
    nd->flops = (double)(nd->n_in - 1) * (double)elem_numel(nd);
    return SNG_OK;
}

static void add_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *a = x->in[0], *b = x->in[1];
    float *y = x->out;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
    for (int k = 2; k < node->n_in; k++) {
        const float *c = x->in[k];
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++) y[i] += c[i];
    }
}

static void add_backward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *dy = x->dout;
    for (int k = 0; k < node->n_in; k++) {
        float *dx = x->din[k];
        if (!dx) continue;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] += dy[i];
    }
}

const sngi_op_def sngi_op_add = {
    .name = "add",
    .n_inputs = -1,
    .summary = "elementwise sum of 2 or more inputs of the same shape",
    .infer = add_infer,
    .forward = add_forward,
    .backward = add_backward,
};
