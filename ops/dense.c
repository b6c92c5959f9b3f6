/*
 * dense — fully connected layer on the flattened input:
 *   y = act(x W^T + b),  x: (N, K), W: (U, K), b: (U), y: (N, U)
 *   g = dy * act'(y);  dW += g^T x;  db += sum_n g;  dx += g W
 * Uses a workspace of N*U floats for g in backward (the activation's derivative applied).
 */
#include "config.h"

#include <string.h>

#include "activation.h"
#include "op.h"

typedef struct {
    int units;
    int use_bias;
    sngi_act act;
    sngi_init init;
    float init_scale;
} dense_attr;

static sng_status dense_parse(sngi_op_ctx *c, void *attr) {
    dense_attr *a = attr;
    sng_status st;
    if ((st = sngi_attr_int_req(c, "units", 1, 1 << 24, &a->units))) return st;
    if ((st = sngi_attr_bool(c, "bias", 1, &a->use_bias))) return st;
    if ((st = sngi_attr_act(c, &a->act))) return st;
    return sngi_attr_init(c, SNGI_INIT_GLOROT_UNIFORM, &a->init, &a->init_scale);
}

static sng_status dense_infer(sngi_op_ctx *c, void *attr) {
    dense_attr *a = attr;
    int64_t k = sngi_shape_numel(&c->node->in_shape[0]);
    if (k > (1 << 30)) return sngi_op_fail(c, SNG_ERR_SHAPE, "input too large");
    sngi_shape w = {2, {a->units, (int)k, 0, 0}};
    sngi_shape b = sngi_shape1(a->units);
    sng_status st = sngi_op_param(c, "W", &w, a->init, a->init_scale, (int)k, a->units);
    if (st) return st;
    if (a->use_bias && (st = sngi_op_param(c, "b", &b, SNGI_INIT_ZEROS, 0, (int)k, a->units)))
        return st;
    c->node->shape = sngi_shape1(a->units);
    c->node->flops = 2.0 * (double)k * a->units + (a->use_bias ? a->units : 0);
    return SNG_OK;
}

static size_t dense_workspace(const sngi_node *node, int n, int pass) {
    const dense_attr *a = node->attr;
    return pass == 1 && a->act != SNGI_ACT_NONE ? (size_t)n * a->units * sizeof(float) : 0;
}

static void dense_forward(const sngi_node *node, const sngi_exec *x) {
    const dense_attr *a = node->attr;
    int k = (int)sngi_shape_numel(&node->in_shape[0]), u = a->units, n = x->n;
    float *y = x->out;
    if (a->use_bias) {
        for (int i = 0; i < n; i++) memcpy(y + (size_t)i * u, x->p[1], sizeof(float) * u);
    }
    sngi_sgemm(x->n_threads, 0, 1, n, u, k, 1.0f, x->in[0], k, x->p[0], k,
               a->use_bias ? 1.0f : 0.0f, y, u);
    sngi_act_forward(a->act, 0.0f, y, y, (int64_t)n * u, x);
}

static void dense_backward(const sngi_node *node, const sngi_exec *x) {
    const dense_attr *a = node->attr;
    int k = (int)sngi_shape_numel(&node->in_shape[0]), u = a->units, n = x->n;
    const float *g = x->dout;
    if (a->act != SNGI_ACT_NONE) {
        sngi_act_backward(a->act, 0.0f, x->out, x->dout, x->ws, (int64_t)n * u, 0);
        g = x->ws;
    }
    if (x->dp[0]) sngi_sgemm(x->n_threads, 1, 0, u, k, n, 1.0f, g, u, x->in[0], k, 1.0f, x->dp[0], k);
    if (a->use_bias && x->dp[1]) {
        float *db = x->dp[1];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < u; j++) db[j] += g[(size_t)i * u + j];
    }
    if (x->din[0]) sngi_sgemm(x->n_threads, 0, 0, n, k, u, 1.0f, g, u, x->p[0], k, 1.0f, x->din[0], k);
}

const sngi_op_def sngi_op_dense = {
    .name = "dense",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_IN | SNG_OP_BWD_NEEDS_OUT | SNG_OP_KINKS,
    .attr_size = sizeof(dense_attr),
    .summary = "fully connected layer with optional bias and fused activation",
    .parse = dense_parse,
    .infer = dense_infer,
    .workspace = dense_workspace,
    .forward = dense_forward,
    .backward = dense_backward,
};
