/*
 * l2_distance — per sample D = ||a - b||_2 over all elements: a, b: (N, ...) -> y: (N, 1).
 *   g = dy * (a - b) / max(D, 1e-12);  da += g;  db -= g   (0 when D == 0: a - b is 0 there).
 * Sums in double; parallel over samples.
 */
#include "config.h"

#include "elem_common.h"

static sng_status l2_distance_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st = elem_same_shape(c, 0, 1);
    if (st) return st;
    c->node->shape = sngi_shape1(1);
    c->node->flops = 3.0 * (double)elem_in_numel(c->node, 0) + 1;
    return SNG_OK;
}

static void l2_distance_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    const float *a = x->in[0], *b = x->in[1];
    float *y = x->out;
#pragma omp parallel for if (elem_par(n, 3 * d))
    for (int i = 0; i < n; i++) y[i] = (float)sqrt(elem_sqdist(a + i * d, b + i * d, d));
}

static void l2_distance_backward(const sngi_node *node, const sngi_exec *x) {
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    const float *a = x->in[0], *b = x->in[1], *y = x->out, *dy = x->dout;
    float *da = x->din[0], *db = x->din[1];
    if (!da && !db) return;
#pragma omp parallel for if (elem_par(n, 3 * d))
    for (int i = 0; i < n; i++) {
        float s = dy[i] / fmaxf(y[i], 1e-12f);
        const float *ai = a + i * d, *bi = b + i * d;
        if (da)
            for (int64_t j = 0; j < d; j++) da[i * d + j] += s * (ai[j] - bi[j]);
        if (db)
            for (int64_t j = 0; j < d; j++) db[i * d + j] -= s * (ai[j] - bi[j]);
    }
}

const sngi_op_def sngi_op_l2_distance = {
    .name = "l2_distance",
    .n_inputs = 2,
    .flags = SNG_OP_BWD_NEEDS_IN | SNG_OP_BWD_NEEDS_OUT,
    .summary = "Euclidean distance ||a - b|| per sample, output (1)",
    .infer = l2_distance_infer,
    .forward = l2_distance_forward,
    .backward = l2_distance_backward,
};
