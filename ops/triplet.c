/*
 * triplet — triplet margin loss on anchor a, positive p, negative q, all (N, ...):
 *   squared (default): d(u, v) = ||u - v||^2;  otherwise d(u, v) = ||u - v|| (D = 0 guarded)
 *   L = mean_n max(0, d(a, p) - d(a, q) + margin)
 * Where the hinge is active (> 0), with s = dout * loss_weight / N:
 *   squared:  da += 2s (q - p);  dp += -2s (a - p);  dq += 2s (a - q)
 *   plain:    da += s ((a - p)/Dp - (a - q)/Dq);  dp += -s (a - p)/Dp;  dq += s (a - q)/Dq,
 *             each division by max(D, 1e-12) (0 at D == 0 since the difference is 0 there).
 * Backward recomputes the distances from the inputs.
 */
#include "config.h"

#include "elem_common.h"

typedef struct {
    float margin;
    int squared;
} triplet_attr;

static sng_status triplet_parse(sngi_op_ctx *c, void *attr) {
    triplet_attr *a = attr;
    sng_status st;
    if ((st = sngi_attr_float(c, "margin", 1.0f, 0.0f, 1e30f, &a->margin))) return st;
    return sngi_attr_bool(c, "squared", 1, &a->squared);
}

static sng_status triplet_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st;
    if ((st = elem_same_shape(c, 0, 1))) return st;
    if ((st = elem_same_shape(c, 0, 2))) return st;
    c->node->shape = sngi_shape1(1);
    c->node->flops = 6.0 * (double)elem_in_numel(c->node, 0) + 4;
    return SNG_OK;
}

/* The two distances of sample i (plain or squared per the attribute). */
static void triplet_dists(const triplet_attr *a, const float *an, const float *po,
                          const float *ne, int64_t d, double *dp, double *dn) {
    *dp = elem_sqdist(an, po, d);
    *dn = elem_sqdist(an, ne, d);
    if (!a->squared) {
        *dp = sqrt(*dp);
        *dn = sqrt(*dn);
    }
}

static void triplet_forward(const sngi_node *node, const sngi_exec *x) {
    const triplet_attr *a = node->attr;
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    double *per = x->ws;
#pragma omp parallel for if (elem_par(n, 6 * d))
    for (int i = 0; i < n; i++) {
        double dp, dn;
        triplet_dists(a, x->in[0] + i * d, x->in[1] + i * d, x->in[2] + i * d, d, &dp, &dn);
        double h = dp - dn + a->margin;
        per[i] = sngi_kink(x, i, h > 0) ? h : 0.0;
    }
    x->out[0] = n > 0 ? (float)(elem_sum_ordered(per, n) / n) : 0.0f;
}

static void triplet_backward(const sngi_node *node, const sngi_exec *x) {
    const triplet_attr *a = node->attr;
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    float *da = x->din[0], *dpo = x->din[1], *dne = x->din[2];
    if ((!da && !dpo && !dne) || n == 0) return;
    double s = (double)x->dout[0] * node->loss_weight / n;
#pragma omp parallel for if (elem_par(n, 8 * d))
    for (int i = 0; i < n; i++) {
        const float *an = x->in[0] + i * d, *po = x->in[1] + i * d, *ne = x->in[2] + i * d;
        double dp, dn;
        triplet_dists(a, an, po, ne, d, &dp, &dn);
        if (!(dp - dn + a->margin > 0)) continue;
        /* d dp/da = cp (a - p), d dn/da = cn (a - n) */
        float cp, cn;
        if (a->squared) {
            cp = (float)(2.0 * s);
            cn = (float)(2.0 * s);
        } else {
            cp = (float)(s / fmax(dp, 1e-12));
            cn = (float)(s / fmax(dn, 1e-12));
        }
        for (int64_t j = 0; j < d; j++) {
            float up = an[j] - po[j], un = an[j] - ne[j];
            if (da) da[i * d + j] += cp * up - cn * un;
            if (dpo) dpo[i * d + j] -= cp * up;
            if (dne) dne[i * d + j] += cn * un;
        }
    }
}

const sngi_op_def sngi_op_triplet = {
    .name = "triplet",
    .n_inputs = 3,
    .flags = SNG_OP_LOSS | SNG_OP_BWD_NEEDS_IN | SNG_OP_KINKS,
    .attr_size = sizeof(triplet_attr),
    .summary = "triplet margin loss on anchor, positive, negative (margin=1, squared=true)",
    .parse = triplet_parse,
    .infer = triplet_infer,
    .workspace = elem_loss_workspace,
    .forward = triplet_forward,
    .backward = triplet_backward,
};
