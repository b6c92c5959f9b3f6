/*
 * absdiff — the Siamese L1 layer: y = |a - b| elementwise (same shapes);
 *   s = sign(a - b) (0 at a == b);  da += dy * s;  db -= dy * s.
 * Backward reads the inputs (the sign of a - b is not recoverable from |a - b|).
 */
#include "config.h"

#include "elem_common.h"

static sng_status absdiff_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st = elem_same_shape(c, 0, 1);
    if (st) return st;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = 2.0 * (double)elem_numel(c->node);
    return SNG_OK;
}

static void absdiff_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *a = x->in[0], *b = x->in[1];
    float *y = x->out;
    if (x->kinks) { /* the sign of a - b (0 where equal, as in backward) */
#pragma omp parallel for if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)sngi_kink(x, i, (a[i] > b[i]) - (a[i] < b[i])) * (a[i] - b[i]);
        return;
    }
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = fabsf(a[i] - b[i]);
}

static void absdiff_backward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    const float *a = x->in[0], *b = x->in[1], *dy = x->dout;
    float *da = x->din[0], *db = x->din[1];
    if (da) {
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            da[i] += a[i] > b[i] ? dy[i] : a[i] < b[i] ? -dy[i] : 0.0f;
    }
    if (db) {
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            db[i] += a[i] > b[i] ? -dy[i] : a[i] < b[i] ? dy[i] : 0.0f;
    }
}

const sngi_op_def sngi_op_absdiff = {
    .name = "absdiff",
    .n_inputs = 2,
    .flags = SNG_OP_BWD_NEEDS_IN | SNG_OP_KINKS,
    .summary = "elementwise absolute difference |a - b| (Siamese L1 layer)",
    .infer = absdiff_infer,
    .forward = absdiff_forward,
    .backward = absdiff_backward,
};
