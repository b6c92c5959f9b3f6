/*
 * contrastive — the contrastive loss of Hadsell, Chopra & LeCun (2006) on two embeddings:
 *   e1, e2: (N, ...), label: (N, 1) with values 0/1;  y = (label == same_label);
 *   D = ||e1 - e2||_2;  L = 1/(2N) sum_n [ y D^2 + (1 - y) max(0, margin - D)^2 ]
 *   de1 = s/N [ y (e1 - e2) - (1 - y) [D < margin] (margin - D) / D (e1 - e2) ],  de2 = -de1,
 * with s = dout * loss_weight. The y-term needs no division; the hinge term divides by
 * max(D, 1e-12) and is 0 at D == 0 (e1 - e2 is 0 there). The label receives no gradient.
 */
#include "config.h"

#include "elem_common.h"

typedef struct {
    float margin;
    int same_label;
} contrastive_attr;

static sng_status contrastive_parse(sngi_op_ctx *c, void *attr) {
    contrastive_attr *a = attr;
    sng_status st;
    if ((st = sngi_attr_float(c, "margin", 1.0f, 0.0f, 1e30f, &a->margin))) return st;
    return sngi_attr_int(c, "same_label", 1, 0, 1, &a->same_label);
}

static sng_status contrastive_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st;
    if ((st = elem_same_shape(c, 0, 1))) return st;
    if ((st = elem_label_shape(c, 2, -1))) return st;
    c->node->shape = sngi_shape1(1);
    c->node->flops = 3.0 * (double)elem_in_numel(c->node, 0) + 6;
    return SNG_OK;
}

static void contrastive_forward(const sngi_node *node, const sngi_exec *x) {
    const contrastive_attr *a = node->attr;
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    const float *e1 = x->in[0], *e2 = x->in[1], *lab = x->in[2];
    double *per = x->ws, m = a->margin;
#pragma omp parallel for if (elem_par(n, 3 * d))
    for (int i = 0; i < n; i++) {
        double d2 = elem_sqdist(e1 + i * d, e2 + i * d, d);
        if (elem_label_pos(lab[i], a->same_label)) {
            per[i] = d2;
        } else {
            double h = m - sqrt(d2);
            per[i] = h > 0 ? h * h : 0.0;
        }
    }
    x->out[0] = n > 0 ? (float)(elem_sum_ordered(per, n) / (2.0 * n)) : 0.0f;
}

static void contrastive_backward(const sngi_node *node, const sngi_exec *x) {
    const contrastive_attr *a = node->attr;
    int64_t d = elem_in_numel(node, 0);
    int n = x->n;
    const float *e1 = x->in[0], *e2 = x->in[1], *lab = x->in[2];
    float *d1 = x->din[0], *d2 = x->din[1];
    if ((!d1 && !d2) || n == 0) return;
    double s = (double)x->dout[0] * node->loss_weight / n, m = a->margin;
#pragma omp parallel for if (elem_par(n, 4 * d))
    for (int i = 0; i < n; i++) {
        const float *p = e1 + i * d, *q = e2 + i * d;
        double c; /* gradient = c * (e1 - e2) */
        if (elem_label_pos(lab[i], a->same_label)) {
            c = s;
        } else {
            double dist = sqrt(elem_sqdist(p, q, d));
            c = dist < m ? -s * (m - dist) / fmax(dist, 1e-12) : 0.0;
        }
        float cf = (float)c;
        if (cf == 0.0f) continue;
        if (d1)
            for (int64_t j = 0; j < d; j++) d1[i * d + j] += cf * (p[j] - q[j]);
        if (d2)
            for (int64_t j = 0; j < d; j++) d2[i * d + j] -= cf * (p[j] - q[j]);
    }
}

const sngi_op_def sngi_op_contrastive = {
    .name = "contrastive",
    .n_inputs = 3,
    .flags = SNG_OP_LOSS | SNG_OP_BWD_NEEDS_IN,
    .attr_size = sizeof(contrastive_attr),
    .summary = "contrastive loss (Hadsell et al. 2006) on e1, e2, label (margin=1, same_label=1)",
    .parse = contrastive_parse,
    .infer = contrastive_infer,
    .workspace = elem_loss_workspace,
    .forward = contrastive_forward,
    .backward = contrastive_backward,
};
