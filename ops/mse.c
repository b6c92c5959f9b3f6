/*
 * mse — mean squared error: pred, target: (N, ...) of the same shape;
 *   L = mean over the batch and the elements of (pred - target)^2;
 *   dpred += 2s (pred - target) / (N * E);  dtarget -= the same,  s = dout * loss_weight.
 */
#include "config.h"

#include "elem_common.h"

static sng_status mse_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sng_status st = elem_same_shape(c, 0, 1);
    if (st) return st;
    c->node->shape = sngi_shape1(1);
    c->node->flops = 3.0 * (double)elem_in_numel(c->node, 0);
    return SNG_OK;
}

static void mse_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t e = elem_in_numel(node, 0);
    int n = x->n;
    double *per = x->ws;
#pragma omp parallel for if (elem_par(n, 3 * e))
    for (int i = 0; i < n; i++) per[i] = elem_sqdist(x->in[0] + i * e, x->in[1] + i * e, e);
    x->out[0] = n > 0 ? (float)(elem_sum_ordered(per, n) / ((double)n * e)) : 0.0f;
}

static void mse_backward(const sngi_node *node, const sngi_exec *x) {
    float *dp = x->din[0], *dt = x->din[1];
    int n = x->n;
    if ((!dp && !dt) || n == 0) return;
    int64_t e = elem_in_numel(node, 0), total = (int64_t)n * e;
    const float *p = x->in[0], *t = x->in[1];
    float s = (float)(2.0 * x->dout[0] * node->loss_weight / ((double)n * e));
    if (dp) {
#pragma omp parallel for simd if (total > SNG_PAR_MIN)
        for (int64_t k = 0; k < total; k++) dp[k] += s * (p[k] - t[k]);
    }
    if (dt) {
#pragma omp parallel for simd if (total > SNG_PAR_MIN)
        for (int64_t k = 0; k < total; k++) dt[k] -= s * (p[k] - t[k]);
    }
}

const sngi_op_def sngi_op_mse = {
    .name = "mse",
    .n_inputs = 2,
    .flags = SNG_OP_LOSS | SNG_OP_BWD_NEEDS_IN,
    .summary = "mean squared error between pred and target",
    .infer = mse_infer,
    .workspace = elem_loss_workspace,
    .forward = mse_forward,
    .backward = mse_backward,
};
