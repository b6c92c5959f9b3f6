/*
 * dropout — inverted dropout with attribute rate in [0, 1) (default 0.5). In training,
 *   keep_i = hash(seed ^ order * 0x9E3779B97F4A7C15, step, i) >= rate
 *   y_i = keep_i ? x_i / (1 - rate) : 0;  dx_i += keep_i ? dy_i / (1 - rate) : 0
 * where i is the flat index over the batch. The mask is a pure function of (run seed, node,
 * step, index), so backward recomputes it: no mask buffer, and a run is reproducible. In
 * inference y = x.
 */
#include "config.h"

#include "elem_common.h"

typedef struct {
    float rate;
} dropout_attr;

static sng_status dropout_parse(sngi_op_ctx *c, void *attr) {
    dropout_attr *a = attr;
    sng_status st = sngi_attr_float(c, "rate", 0.5f, 0.0f, 1.0f, &a->rate);
    if (st) return st;
    if (a->rate >= 1.0f)
        return sngi_op_fail(c, SNG_ERR_MODEL, "dropout: rate=%g must be < 1", a->rate);
    return SNG_OK;
}

static sng_status dropout_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = 2.0 * (double)elem_numel(c->node);
    return SNG_OK;
}

static uint64_t dropout_seed(const sngi_node *node, const sngi_exec *x) {
    return x->seed ^ (uint64_t)node->order * 0x9E3779B97F4A7C15ull;
}

/* dst[i] (+)= keep_i ? src[i] / (1 - rate) : 0 over n floats; or a copy/sum in inference. */
static void dropout_apply(const sngi_node *node, const sngi_exec *x, const float *src, float *dst,
                          int accumulate) {
    const dropout_attr *a = node->attr;
    int64_t n = (int64_t)x->n * elem_numel(node);
    if (!x->training || a->rate == 0.0f) {
        if (accumulate) {
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
            for (int64_t i = 0; i < n; i++) dst[i] += src[i];
        } else if (dst != src) {
            memcpy(dst, src, sizeof(float) * (size_t)n);
        }
        return;
    }
    uint64_t seed = dropout_seed(node, x), step = (uint64_t)x->step;
    float rate = a->rate, k = 1.0f / (1.0f - rate);
#pragma omp parallel for if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float v = sngi_hash_uniform(seed, step, (uint64_t)i) >= rate ? src[i] * k : 0.0f;
        if (accumulate)
            dst[i] += v;
        else
            dst[i] = v;
    }
}

static void dropout_forward(const sngi_node *node, const sngi_exec *x) {
    dropout_apply(node, x, x->in[0], x->out, 0);
}

static void dropout_backward(const sngi_node *node, const sngi_exec *x) {
    if (x->din[0]) dropout_apply(node, x, x->dout, x->din[0], 1);
}

const sngi_op_def sngi_op_dropout = {
    .name = "dropout",
    .n_inputs = 1,
    .attr_size = sizeof(dropout_attr),
    .summary = "inverted dropout (rate=0.5), identity in inference; mask from (seed, step)",
    .parse = dropout_parse,
    .infer = dropout_infer,
    .forward = dropout_forward,
    .backward = dropout_backward,
};
