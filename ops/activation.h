/*
 * activation.h — the one table of activations, used by the standalone ops (relu, leaky_relu,
 * sigmoid, tanh) and by the activations fused into conv2d and dense. Every backward here is
 * expressed through the output y, so callers keep only the output alive.
 */
#ifndef SNG_ACTIVATION_H
#define SNG_ACTIVATION_H

#include <math.h>

#include "op.h"

/* The first SNGI_ACT_N_FUSED entries are the names the `activation` attribute accepts. */
typedef enum {
    SNGI_ACT_NONE = 0,
    SNGI_ACT_RELU,
    SNGI_ACT_SIGMOID,
    SNGI_ACT_TANH,
    SNGI_ACT_N_FUSED,
    SNGI_ACT_LEAKY_RELU = SNGI_ACT_N_FUSED,
    SNGI_ACT_COUNT
} sngi_act;

typedef struct sngi_act_def {
    const char *name;
    int kinks;    /* piecewise: its branch decisions take part in kink freezing */
    double flops; /* forward flops per element (for the standalone op's count) */
    /* y[i] = f(in[i]) for i in [0, n), serially (in may equal y). kinks: the decisions of these
     * n elements, or NULL when freezing is off. */
    void (*forward)(const float *in, float *y, int64_t n, float alpha, int32_t *kinks, int mode);
    /* g[i] = dy[i] * f'(.) from the output y (acc: g[i] += instead), serially. */
    void (*backward)(const float *y, const float *dy, float *g, int64_t n, float alpha, int acc);
} sngi_act_def;

const sngi_act_def *sngi_act_get(sngi_act a);

/* The logistic function, evaluated without overflow for either sign of z (also used by
 * bce_with_logits). */
static inline float sngi_sigmoidf(float z) {
    if (z >= 0) return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* y = f(in) over n elements, in parallel when large; x supplies kink freezing (x->kinks indexes
 * these n elements) and may be NULL. alpha: the leaky_relu slope, ignored by the others. */
void sngi_act_forward(sngi_act a, float alpha, const float *in, float *y, int64_t n,
                      const sngi_exec *x);
/* g = dy * f'(y) (acc: g += ...) over n elements, in parallel when large; g may equal dy. */
void sngi_act_backward(sngi_act a, float alpha, const float *y, const float *dy, float *g,
                       int64_t n, int acc);

/* The same on one row, serially, for callers already inside a parallel loop (conv2d's tiles):
 * y = f(in) over n elements at offset `at` of the node's output (for kink freezing, x may be
 * NULL), and g = dy * f'(y) (acc: g += ...). */
static inline void sngi_act_row_forward(sngi_act a, float alpha, const float *in, float *y,
                                        int64_t n, const sngi_exec *x, int64_t at) {
    const sngi_act_def *d = sngi_act_get(a);
    int32_t *k = x && x->kinks && d->kinks ? x->kinks + at : NULL;
    d->forward(in, y, n, alpha, k, k ? x->kink_mode : SNGI_KINK_OFF);
}
static inline void sngi_act_row_backward(sngi_act a, float alpha, const float *y, const float *dy,
                                         float *g, int64_t n, int acc) {
    sngi_act_get(a)->backward(y, dy, g, n, alpha, acc);
}

/* The `activation` attribute of conv2d and dense: none|relu|sigmoid|tanh. */
sng_status sngi_attr_act(sngi_op_ctx *c, sngi_act *out);

/* The infer/forward/backward of a standalone activation op (output shape = input shape). */
sng_status sngi_act_infer(sngi_op_ctx *c, sngi_act a);
void sngi_act_op_forward(const sngi_node *node, const sngi_exec *x, sngi_act a, float alpha);
void sngi_act_op_backward(const sngi_node *node, const sngi_exec *x, sngi_act a, float alpha);

/* Defines sngi_op_<nm>, a standalone activation without attributes, from table entry `act`. */
#define SNGI_ACT_OP(nm, act, op_flags, text) \
    static sng_status nm##_infer(sngi_op_ctx *c, void *attr) { return sngi_act_infer(c, act); } \
    static void nm##_forward(const sngi_node *node, const sngi_exec *x) { \
        sngi_act_op_forward(node, x, act, 0.0f); \
    } \
    static void nm##_backward(const sngi_node *node, const sngi_exec *x) { \
        sngi_act_op_backward(node, x, act, 0.0f); \
    } \
    const sngi_op_def sngi_op_##nm = { \
        .name = #nm, \
        .n_inputs = 1, \
        .flags = SNG_OP_BWD_NEEDS_OUT | (op_flags), \
        .summary = text, \
        .infer = nm##_infer, \
        .forward = nm##_forward, \
        .backward = nm##_backward, \
    }

#endif /* SNG_ACTIVATION_H */
