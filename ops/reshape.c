/*
 * reshape — reinterpret each sample with a new shape of the same number of elements:
 *   y = x;  dx += dy.   Attribute shape="a,b,c" (1 to 4 dims; one entry may be -1, inferred).
 * The data layout is unchanged, so the planner may alias y to x (SNG_OP_ALIAS); the kernels
 * then see out == in (and din == dout) and do nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

typedef struct {
    int nd;
    int d[SNG_MAX_DIMS]; /* -1: inferred */
} reshape_attr;

static sng_status reshape_parse(sngi_op_ctx *c, void *attr) {
    reshape_attr *a = attr;
    const char *v;
    if (!sngi_attr_raw(c, "shape", &v))
        return sngi_attr_missing(c, "shape");
    const char *p = v;
    int n_free = 0;
    a->nd = 0;
    for (;;) {
        char *end;
        errno = 0;
        long d = strtol(p, &end, 10);
        if (end == p || errno || d == 0 || d < -1 || d > (1 << 30) || a->nd == SNG_MAX_DIMS)
            return sngi_op_fail(c, SNG_ERR_MODEL,
                                "attribute shape=\"%s\" is not 1 to %d positive sizes"
                                " (one may be -1)",
                                v, SNG_MAX_DIMS);
        if (d == -1 && ++n_free > 1)
            return sngi_op_fail(c, SNG_ERR_MODEL, "attribute shape=\"%s\" has more than one -1",
                                v);
        a->d[a->nd++] = (int)d;
        while (*end == ' ') end++;
        if (!*end) break;
        if (*end != ',' && *end != 'x')
            return sngi_op_fail(c, SNG_ERR_MODEL,
                                "attribute shape=\"%s\" is not 1 to %d positive sizes"
                                " (one may be -1)",
                                v, SNG_MAX_DIMS);
        p = end + 1;
    }
    return SNG_OK;
}

/* Writes the target shape as written ("(2,-1)") for messages. */
static void target_str(const reshape_attr *a, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < a->nd && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? "," : "(", a->d[i]);
    if (k < n) snprintf(buf + k, n - k, ")");
}

static sng_status reshape_infer(sngi_op_ctx *c, void *attr) {
    reshape_attr *a = attr;
    const sngi_shape *in = &c->node->in_shape[0];
    int64_t numel = sngi_shape_numel(in), known = 1;
    int free_i = -1;
    for (int i = 0; i < a->nd; i++) {
        if (a->d[i] < 0)
            free_i = i;
        else
            known *= a->d[i];
    }
    sngi_shape out = {a->nd, {0, 0, 0, 0}};
    for (int i = 0; i < a->nd; i++) out.d[i] = a->d[i];
    int ok = free_i < 0 ? known == numel : (known > 0 && numel % known == 0);
    if (ok && free_i >= 0) out.d[free_i] = (int)(numel / known);
    if (!ok || sngi_shape_numel(&out) != numel) {
        char b1[64], b2[64];
        target_str(a, b2, sizeof b2);
        return sngi_op_fail(c, SNG_ERR_SHAPE,
                            "cannot reshape input %s (%lld elements) to %s",
                            sngi_shape_str(in, b1, sizeof b1), (long long)numel, b2);
    }
    c->node->shape = out;
    c->node->flops = 0;
    return SNG_OK;
}

static void reshape_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    if (x->out != x->in[0]) memcpy(x->out, x->in[0], sizeof(float) * (size_t)n);
}

static void reshape_backward(const sngi_node *node, const sngi_exec *x) {
    float *dx = x->din[0];
    if (!dx || dx == x->dout) return;
    int64_t n = (int64_t)x->n * sngi_shape_numel(&node->shape);
    const float *dy = x->dout;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i];
}

const sngi_op_def sngi_op_reshape = {
    .name = "reshape",
    .n_inputs = 1,
    .flags = SNG_OP_ALIAS,
    .attr_size = sizeof(reshape_attr),
    .summary = "reinterpret each sample with a new shape (shape=\"a,b,c\", one -1 allowed)",
    .parse = reshape_parse,
    .infer = reshape_infer,
    .forward = reshape_forward,
    .backward = reshape_backward,
};
