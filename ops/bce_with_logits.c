/*
 * bce_with_logits — binary cross-entropy on logits z: (N, ...) with label: (N, 1) or (N, ...)
 * of 0/1 values;  t = (label == same_label);
 *   l = max(z, 0) - z t + log1p(exp(-|z|))      (stable for any |z|)
 *   L = mean over the batch and the elements of z;  dz += s (sigmoid(z) - t) / (N * E),
 * s = dout * loss_weight. A (1)-shaped label applies to every element of its sample. The label
 * receives no gradient.
 */
#include "config.h"

#include "activation.h"
#include "elem_common.h"

typedef struct {
    int same_label;
} bce_with_logits_attr;

static sng_status bce_with_logits_parse(sngi_op_ctx *c, void *attr) {
    bce_with_logits_attr *a = attr;
    return sngi_attr_int(c, "same_label", 1, 0, 1, &a->same_label);
}

static sng_status bce_with_logits_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st = elem_label_shape(c, 1, 0);
    if (st) return st;
    c->node->shape = sngi_shape1(1);
    c->node->flops = 8.0 * (double)elem_in_numel(c->node, 0);
    return SNG_OK;
}

static void bce_with_logits_forward(const sngi_node *node, const sngi_exec *x) {
    const bce_with_logits_attr *a = node->attr;
    int64_t e = elem_in_numel(node, 0), le = elem_in_numel(node, 1);
    int n = x->n;
    const float *z = x->in[0], *lab = x->in[1];
    double *per = x->ws;
#pragma omp parallel for if (elem_par(n, 8 * e))
    for (int i = 0; i < n; i++) {
        double acc = 0;
        for (int64_t j = 0; j < e; j++) {
            double zj = z[i * e + j];
            double t = elem_label_pos(lab[i * le + (le == 1 ? 0 : j)], a->same_label);
            acc += fmax(zj, 0.0) - zj * t + log1p(exp(-fabs(zj)));
        }
        per[i] = acc;
    }
    x->out[0] = n > 0 ? (float)(elem_sum_ordered(per, n) / ((double)n * e)) : 0.0f;
}

static void bce_with_logits_backward(const sngi_node *node, const sngi_exec *x) {
    const bce_with_logits_attr *a = node->attr;
    float *dz = x->din[0];
    int n = x->n;
    if (!dz || n == 0) return;
    int64_t e = elem_in_numel(node, 0), le = elem_in_numel(node, 1);
    const float *z = x->in[0], *lab = x->in[1];
    float s = (float)((double)x->dout[0] * node->loss_weight / ((double)n * e));
    int64_t total = (int64_t)n * e;
#pragma omp parallel for simd if (total > SNG_PAR_MIN)
    for (int64_t k = 0; k < total; k++) {
        int64_t i = k / e, j = k % e;
        float t = (float)elem_label_pos(lab[i * le + (le == 1 ? 0 : j)], a->same_label);
        dz[k] += s * (sngi_sigmoidf(z[k]) - t);
    }
}

const sngi_op_def sngi_op_bce_with_logits = {
    .name = "bce_with_logits",
    .n_inputs = 2,
    .flags = SNG_OP_LOSS | SNG_OP_BWD_NEEDS_IN,
    .attr_size = sizeof(bce_with_logits_attr),
    .summary = "binary cross-entropy on logits, numerically stable (same_label=1)",
    .parse = bce_with_logits_parse,
    .infer = bce_with_logits_infer,
    .workspace = elem_loss_workspace,
    .forward = bce_with_logits_forward,
    .backward = bce_with_logits_backward,
};
