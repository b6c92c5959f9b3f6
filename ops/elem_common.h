/*
 * elem_common.h — private static inline helpers shared by the elementwise, distance and loss ops
 * (absdiff, contrastive, ...): shape validation with messages that name both inputs,
 * label decoding, per-sample reductions in double and the deterministic batch sum of losses.
 *
 * Not part of the op interface: only the op files include it. Everything here is static inline.
 */
#ifndef SNG_ELEM_COMMON_H
#define SNG_ELEM_COMMON_H

#include <math.h>
#include <string.h>

#include "op.h"

/* Elements per sample of the node's output. */
static inline int64_t elem_numel(const sngi_node *node) {
    return sngi_shape_numel(&node->shape);
}

/* Elements per sample of input k. */
static inline int64_t elem_in_numel(const sngi_node *node, int k) {
    return sngi_shape_numel(&node->in_shape[k]);
}

/* Fails unless inputs i and j have the same per-sample shape; the message names both inputs as
 * written in the model and both shapes: "absdiff: input 'left' has shape (4608) but 'right'
 * has (512)". */
static inline sng_status elem_same_shape(sngi_op_ctx *c, int i, int j) {
    const sngi_node *nd = c->node;
    if (sngi_shape_eq(&nd->in_shape[i], &nd->in_shape[j])) return SNG_OK;
    char si[64], sj[64];
    sngi_shape_str(&nd->in_shape[i], si, sizeof si);
    sngi_shape_str(&nd->in_shape[j], sj, sizeof sj);
    return sngi_op_fail(c, SNG_ERR_SHAPE, "%s: input '%s' has shape %s but '%s' has %s",
                        nd->op->name, nd->in_ref[i], si, nd->in_ref[j], sj);
}

/* Fails unless input k (a label) has one element per sample, or (when like >= 0) the same shape
 * as input `like` (elementwise targets). */
static inline sng_status elem_label_shape(sngi_op_ctx *c, int k, int like) {
    const sngi_node *nd = c->node;
    if (sngi_shape_numel(&nd->in_shape[k]) == 1) return SNG_OK;
    if (like >= 0 && sngi_shape_eq(&nd->in_shape[k], &nd->in_shape[like])) return SNG_OK;
    char sk[64], sl[64];
    sngi_shape_str(&nd->in_shape[k], sk, sizeof sk);
    if (like < 0)
        return sngi_op_fail(c, SNG_ERR_SHAPE,
                            "%s: label input '%s' must have shape (1) per sample, has %s",
                            nd->op->name, nd->in_ref[k], sk);
    sngi_shape_str(&nd->in_shape[like], sl, sizeof sl);
    return sngi_op_fail(c, SNG_ERR_SHAPE,
                        "%s: label input '%s' has shape %s but must be (1) or the shape %s of '%s'",
                        nd->op->name, nd->in_ref[k], sk, sl, nd->in_ref[like]);
}

/* A label value (0/1, read as >= 0.5) -> 1 when it means "same"/positive, given same_label. */
static inline int elem_label_pos(float v, int same_label) {
    return (v >= 0.5f) == (same_label != 0);
}

/* sum_i (a_i - b_i)^2 in double. */
static inline double elem_sqdist(const float *a, const float *b, int64_t d) {
    double s = 0;
    for (int64_t i = 0; i < d; i++) {
        double t = (double)a[i] - b[i];
        s += t * t;
    }
    return s;
}

/* Workspace of loss ops: one double per sample in forward (per-sample losses summed afterwards
 * in sample order, so the result does not depend on the thread count). */
static inline size_t elem_loss_workspace(const sngi_node *node, int n, int pass) {
    (void)node;
    return pass == 0 ? (size_t)n * sizeof(double) : 0;
}

/* Sums v[0..n) in order. */
static inline double elem_sum_ordered(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return s;
}

/* Flop count threshold for parallelising a loop over samples whose body is `per` flops. */
static inline int elem_par(int n, int64_t per) {
    return (int64_t)n * per > SNG_PAR_MIN && n > 1;
}

#endif /* SNG_ELEM_COMMON_H */
