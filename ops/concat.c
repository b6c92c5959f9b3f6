/*
 * concat — joins k >= 1 inputs along per-sample axis `axis` (default 0, the first per-sample
 * dim, i.e. channels of (C,H,W); negative counts from the end). All other dims must be equal.
 *   y[.., off_k + j, ..] = x_k[.., j, ..];  dx_k += the matching slice of dy.
 * With the batch folded into the outer loop, each (outer, input) pair is one contiguous copy.
 */
#include "config.h"

#include "elem_common.h"

typedef struct {
    int axis; /* as written; normalised in infer into `ax` */
    int ax;
} concat_attr;

static sng_status concat_parse(sngi_op_ctx *c, void *attr) {
    concat_attr *a = attr;
    return sngi_attr_int(c, "axis", 0, -SNG_MAX_DIMS, SNG_MAX_DIMS - 1, &a->axis);
}

static sng_status concat_infer(sngi_op_ctx *c, void *attr) {
    concat_attr *a = attr;
    sngi_node *nd = c->node;
    const sngi_shape *s0 = &nd->in_shape[0];
    if (s0->nd < 1)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "concat: input '%s' is a scalar per sample",
                            nd->in_ref[0]);
    int ax = a->axis < 0 ? a->axis + s0->nd : a->axis;
    if (ax < 0 || ax >= s0->nd) {
        char s[64];
        return sngi_op_fail(c, SNG_ERR_SHAPE, "concat: axis %d is out of range for input '%s' of "
                            "shape %s", a->axis, nd->in_ref[0], sngi_shape_str(s0, s, sizeof s));
    }
    a->ax = ax;
    sngi_shape out = *s0;
    for (int k = 1; k < nd->n_in; k++) {
        const sngi_shape *sk = &nd->in_shape[k];
        int ok = sk->nd == s0->nd;
        for (int d = 0; ok && d < s0->nd; d++)
            if (d != ax && sk->d[d] != s0->d[d]) ok = 0;
        if (!ok) {
            char t0[64], tk[64];
            return sngi_op_fail(c, SNG_ERR_SHAPE,
                                "concat: input '%s' has shape %s but '%s' has %s (all dims but "
                                "axis %d must match)",
                                nd->in_ref[k], sngi_shape_str(sk, tk, sizeof tk), nd->in_ref[0],
                                sngi_shape_str(s0, t0, sizeof t0), ax);
        }
        out.d[ax] += sk->d[ax];
    }
    nd->shape = out;
    nd->flops = 0;
    return SNG_OK;
}

/* outer: product of dims before the axis; inner: after it (per sample). */
static void concat_split(const sngi_node *node, int ax, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int d = 0; d < node->shape.nd; d++) {
        if (d < ax) *outer *= node->shape.d[d];
        if (d > ax) *inner *= node->shape.d[d];
    }
}

static void concat_forward(const sngi_node *node, const sngi_exec *x) {
    const concat_attr *a = node->attr;
    int64_t outer, inner;
    concat_split(node, a->ax, &outer, &inner);
    outer *= x->n;
    int64_t row = (int64_t)node->shape.d[a->ax] * inner;
    int n_in = node->n_in;
#pragma omp parallel for if (outer * row > SNG_PAR_MIN && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
        float *y = x->out + o * row;
        for (int k = 0; k < n_in; k++) {
            int64_t len = (int64_t)node->in_shape[k].d[a->ax] * inner;
            memcpy(y, x->in[k] + o * len, sizeof(float) * (size_t)len);
            y += len;
        }
    }
}

static void concat_backward(const sngi_node *node, const sngi_exec *x) {
    const concat_attr *a = node->attr;
    int64_t outer, inner;
    concat_split(node, a->ax, &outer, &inner);
    outer *= x->n;
    int64_t row = (int64_t)node->shape.d[a->ax] * inner;
    int n_in = node->n_in;
#pragma omp parallel for if (outer * row > SNG_PAR_MIN && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
        const float *dy = x->dout + o * row;
        for (int k = 0; k < n_in; k++) {
            int64_t len = (int64_t)node->in_shape[k].d[a->ax] * inner;
            float *dx = x->din[k];
            if (dx) {
                dx += o * len;
                for (int64_t i = 0; i < len; i++) dx[i] += dy[i];
            }
            dy += len;
        }
    }
}

const sngi_op_def sngi_op_concat = {
    .name = "concat",
    .n_inputs = -1,
    .attr_size = sizeof(concat_attr),
    .summary = "concatenation along a per-sample axis (axis=0: channels/features)",
    .parse = concat_parse,
    .infer = concat_infer,
    .forward = concat_forward,
    .backward = concat_backward,
};
