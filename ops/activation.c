/*
 * activation.c — the activation table (see activation.h). Row kernels are serial and
 * vectorisable; the wrappers split large arrays into chunks run in parallel, which leaves the
 * results identical for any thread count (every element is computed alone).
 */
#include "config.h"

#include "activation.h"

#define ACT_CHUNK 4096

/* Kink decision i of a row: cond itself, recorded, or the recorded one (op.h, sngi_kink). */
static inline int act_kink(int32_t *kinks, int mode, int64_t i, int cond) {
    const sngi_exec k = {.kinks = kinks, .kink_mode = mode};
    return sngi_kink(&k, i, cond);
}

static void none_fwd(const float *in, float *y, int64_t n, float alpha, int32_t *k, int mode) {
    if (in != y)
        for (int64_t i = 0; i < n; i++) y[i] = in[i];
}

static void none_bwd(const float *y, const float *dy, float *g, int64_t n, float alpha, int acc) {
    if (acc) {
        for (int64_t i = 0; i < n; i++) g[i] += dy[i];
    } else if (g != dy) {
        for (int64_t i = 0; i < n; i++) g[i] = dy[i];
    }
}

static void relu_fwd(const float *in, float *y, int64_t n, float alpha, int32_t *k, int mode) {
    if (k) {
        for (int64_t i = 0; i < n; i++) y[i] = act_kink(k, mode, i, in[i] > 0) ? in[i] : 0;
        return;
    }
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = in[i] > 0 ? in[i] : 0;
}

static void relu_bwd(const float *y, const float *dy, float *g, int64_t n, float alpha, int acc) {
    if (acc) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] += y[i] > 0 ? dy[i] : 0;
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] = y[i] > 0 ? dy[i] : 0;
    }
}

/* alpha >= 0, so the sign of y is the sign of the input and backward needs only y. */
static void leaky_fwd(const float *in, float *y, int64_t n, float alpha, int32_t *k, int mode) {
    if (k) {
        for (int64_t i = 0; i < n; i++)
            y[i] = act_kink(k, mode, i, in[i] > 0) ? in[i] : alpha * in[i];
        return;
    }
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = in[i] > 0 ? in[i] : alpha * in[i];
}

static void leaky_bwd(const float *y, const float *dy, float *g, int64_t n, float alpha, int acc) {
    if (acc) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] += y[i] > 0 ? dy[i] : alpha * dy[i];
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] = y[i] > 0 ? dy[i] : alpha * dy[i];
    }
}

static void sigmoid_fwd(const float *in, float *y, int64_t n, float alpha, int32_t *k, int mode) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = sngi_sigmoidf(in[i]);
}

static void sigmoid_bwd(const float *y, const float *dy, float *g, int64_t n, float alpha,
                        int acc) {
    if (acc) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] += dy[i] * y[i] * (1.0f - y[i]);
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] = dy[i] * y[i] * (1.0f - y[i]);
    }
}

static void tanh_fwd(const float *in, float *y, int64_t n, float alpha, int32_t *k, int mode) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = tanhf(in[i]);
}

static void tanh_bwd(const float *y, const float *dy, float *g, int64_t n, float alpha, int acc) {
    if (acc) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] += dy[i] * (1.0f - y[i] * y[i]);
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) g[i] = dy[i] * (1.0f - y[i] * y[i]);
    }
}

static const sngi_act_def table[SNGI_ACT_COUNT] = {
    [SNGI_ACT_NONE] = {"none", 0, 0.0, none_fwd, none_bwd},
    [SNGI_ACT_RELU] = {"relu", 1, 1.0, relu_fwd, relu_bwd},
    [SNGI_ACT_SIGMOID] = {"sigmoid", 0, 4.0, sigmoid_fwd, sigmoid_bwd},
    [SNGI_ACT_TANH] = {"tanh", 0, 4.0, tanh_fwd, tanh_bwd},
    [SNGI_ACT_LEAKY_RELU] = {"leaky_relu", 1, 2.0, leaky_fwd, leaky_bwd},
};

const sngi_act_def *sngi_act_get(sngi_act a) { return &table[a]; }

void sngi_act_forward(sngi_act a, float alpha, const float *in, float *y, int64_t n,
                      const sngi_exec *x) {
    const sngi_act_def *d = &table[a];
    int32_t *k = x && d->kinks ? x->kinks : NULL;
    int mode = k ? x->kink_mode : SNGI_KINK_OFF;
    if (a == SNGI_ACT_NONE && in == y) return;
#pragma omp parallel for schedule(static) if (n > SNG_PAR_MIN)
    for (int64_t c0 = 0; c0 < n; c0 += ACT_CHUNK) {
        int64_t m = n - c0 < ACT_CHUNK ? n - c0 : ACT_CHUNK;
        d->forward(in + c0, y + c0, m, alpha, k ? k + c0 : NULL, mode);
    }
}

void sngi_act_backward(sngi_act a, float alpha, const float *y, const float *dy, float *g,
                       int64_t n, int acc) {
    const sngi_act_def *d = &table[a];
#pragma omp parallel for schedule(static) if (n > SNG_PAR_MIN)
    for (int64_t c0 = 0; c0 < n; c0 += ACT_CHUNK) {
        int64_t m = n - c0 < ACT_CHUNK ? n - c0 : ACT_CHUNK;
        d->backward(y + c0, dy + c0, g + c0, m, alpha, acc);
    }
}

sng_status sngi_attr_act(sngi_op_ctx *c, sngi_act *out) {
    const char *names[SNGI_ACT_N_FUSED + 1];
    for (int i = 0; i < SNGI_ACT_N_FUSED; i++) names[i] = table[i].name;
    names[SNGI_ACT_N_FUSED] = NULL;
    int i;
    sng_status st = sngi_attr_enum(c, "activation", names, 0, &i);
    *out = (sngi_act)i;
    return st;
}

sng_status sngi_act_infer(sngi_op_ctx *c, sngi_act a) {
    c->node->shape = c->node->in_shape[0];
    c->node->flops = table[a].flops * (double)sngi_shape_numel(&c->node->shape);
    return SNG_OK;
}

void sngi_act_op_forward(const sngi_node *node, const sngi_exec *x, sngi_act a, float alpha) {
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    sngi_act_forward(a, alpha, x->in[0], x->out, n, x);
}

void sngi_act_op_backward(const sngi_node *node, const sngi_exec *x, sngi_act a, float alpha) {
    if (!x->din[0]) return;
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    sngi_act_backward(a, alpha, x->out, x->dout, x->din[0], n, 1);
}
