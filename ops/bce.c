/*
 * bce — binary cross-entropy on probabilities p: (N, ...) in (0, 1) with label: (N, 1) or
 * (N, ...) of 0/1 values;  t = (label == same_label);  q = clamp(p, 1e-7, 1 - 1e-7);
 *   l = -(t log q + (1 - t) log(1 - q));  L = mean over the batch and the elements of p;
 *   dp += s (q - t) / (q (1 - q)) / (N * E),  s = dout * loss_weight.
 * The gradient is taken at the clamped q even where p lies outside the clamp (a straight-through
 * clamp), so a confidently wrong p still learns. Prefer bce_with_logits after a sigmoid: it is
 * exact for saturated logits. The label receives no gradient.
 */
#include "config.h"

#include "elem_common.h"

#define BCE_CLAMP 1e-7

typedef struct {
    int same_label;
} bce_attr;

static sng_status bce_parse(sngi_op_ctx *c, void *attr) {
    bce_attr *a = attr;
    return sngi_attr_int(c, "same_label", 1, 0, 1, &a->same_label);
}

static sng_status bce_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st = elem_label_shape(c, 1, 0);
    if (st) return st;
    c->node->shape = sngi_shape1(1);
    c->node->flops = 6.0 * (double)elem_in_numel(c->node, 0);
    return SNG_OK;
}

static inline double bce_clamp(double p) {
    return p < BCE_CLAMP ? BCE_CLAMP : p > 1.0 - BCE_CLAMP ? 1.0 - BCE_CLAMP : p;
}

static void bce_forward(const sngi_node *node, const sngi_exec *x) {
    const bce_attr *a = node->attr;
    int64_t e = elem_in_numel(node, 0), le = elem_in_numel(node, 1);
    int n = x->n;
    const float *p = x->in[0], *lab = x->in[1];
    double *per = x->ws;
#pragma omp parallel for if (elem_par(n, 6 * e))
    for (int i = 0; i < n; i++) {
        double acc = 0;
        for (int64_t j = 0; j < e; j++) {
            double q = bce_clamp(p[i * e + j]);
            int t = elem_label_pos(lab[i * le + (le == 1 ? 0 : j)], a->same_label);
            acc -= t ? log(q) : log1p(-q);
        }
        per[i] = acc;
    }
    x->out[0] = n > 0 ? (float)(elem_sum_ordered(per, n) / ((double)n * e)) : 0.0f;
}

static void bce_backward(const sngi_node *node, const sngi_exec *x) {
    const bce_attr *a = node->attr;
    float *dp = x->din[0];
    int n = x->n;
    if (!dp || n == 0) return;
    int64_t e = elem_in_numel(node, 0), le = elem_in_numel(node, 1);
    const float *p = x->in[0], *lab = x->in[1];
    double s = (double)x->dout[0] * node->loss_weight / ((double)n * e);
    int64_t total = (int64_t)n * e;
#pragma omp parallel for if (total > SNG_PAR_MIN)
    for (int64_t k = 0; k < total; k++) {
        int64_t i = k / e, j = k % e;
        double q = bce_clamp(p[k]);
        int t = elem_label_pos(lab[i * le + (le == 1 ? 0 : j)], a->same_label);
        /* (q - t) / (q (1 - q)) is -1/q for t = 1 and 1/(1 - q) for t = 0. */
        dp[k] += (float)(s * (t ? -1.0 / q : 1.0 / (1.0 - q)));
    }
}

const sngi_op_def sngi_op_bce = {
    .name = "bce",
    .n_inputs = 2,
    .flags = SNG_OP_LOSS | SNG_OP_BWD_NEEDS_IN,
    .attr_size = sizeof(bce_attr),
    .summary = "binary cross-entropy on probabilities in (0,1), clamped to [1e-7, 1-1e-7]",
    .parse = bce_parse,
    .infer = bce_infer,
    .workspace = elem_loss_workspace,
    .forward = bce_forward,
    .backward = bce_backward,
};
