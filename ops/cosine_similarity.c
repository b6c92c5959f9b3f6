/*
 * cosine_similarity — per sample s = a.b / (na * nb), na = max(||a||, 1e-8), nb likewise:
 * a, b: (N, ...) -> y: (N, 1).
 *   da += dy * (b / (na nb) - s a / na^2)   (the second term only where ||a|| > eps)
 *   db += dy * (a / (na nb) - s b / nb^2)   (likewise)
 * Backward recomputes the dot product and norms from the inputs (no output kept alive).
 */
#include "config.h"

#include "elem_common.h"

#define COS_EPS 1e-8

static sng_status cosine_similarity_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st = elem_same_shape(c, 0, 1);
    if (st) return st;
    c->node->shape = sngi_shape1(1);
    c->node->flops = 6.0 * (double)elem_in_numel(c->node, 0) + 4;
    return SNG_OK;
}

/* Dot product and both norms (unclamped) of one sample, in double. */
static void cos_stats(const float *a, const float *b, int64_t d, double *dot, double *na,
                      double *nb) {
    double ab = 0, aa = 0, bb = 0;
    for (int64_t j = 0; j < d; j++) {
        ab += (double)a[j] * b[j];
        aa += (double)a[j] * a[j];
        bb += (double)b[j] * b[j];
    }
    *dot = ab;
    *na = sqrt(aa);
    *nb = sqrt(bb);
}

static void cosine_similarity_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    const float *a = x->in[0], *b = x->in[1];
    float *y = x->out;
#pragma omp parallel for if (elem_par(n, 6 * d))
    for (int i = 0; i < n; i++) {
        double ab, na, nb;
        cos_stats(a + i * d, b + i * d, d, &ab, &na, &nb);
        y[i] = (float)(ab / (fmax(na, COS_EPS) * fmax(nb, COS_EPS)));
    }
}

static void cosine_similarity_backward(const sngi_node *node, const sngi_exec *x) {
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    const float *a = x->in[0], *b = x->in[1], *dy = x->dout;
    float *da = x->din[0], *db = x->din[1];
    if (!da && !db) return;
#pragma omp parallel for if (elem_par(n, 8 * d))
    for (int i = 0; i < n; i++) {
        const float *ai = a + i * d, *bi = b + i * d;
        double ab, na, nb;
        cos_stats(ai, bi, d, &ab, &na, &nb);
        int a_live = na > COS_EPS, b_live = nb > COS_EPS;
        na = fmax(na, COS_EPS);
        nb = fmax(nb, COS_EPS);
        double s = ab / (na * nb), g = dy[i];
        float cab = (float)(g / (na * nb));
        float ca = a_live ? (float)(g * s / (na * na)) : 0.0f;
        float cb = b_live ? (float)(g * s / (nb * nb)) : 0.0f;
        if (da)
            for (int64_t j = 0; j < d; j++) da[i * d + j] += cab * bi[j] - ca * ai[j];
        if (db)
            for (int64_t j = 0; j < d; j++) db[i * d + j] += cab * ai[j] - cb * bi[j];
    }
}

const sngi_op_def sngi_op_cosine_similarity = {
    .name = "cosine_similarity",
    .n_inputs = 2,
    .flags = SNG_OP_BWD_NEEDS_IN,
    .summary = "cosine similarity a.b / (||a|| ||b||) per sample, output (1)",
    .infer = cosine_similarity_infer,
    .forward = cosine_similarity_forward,
    .backward = cosine_similarity_backward,
};
