/*
 * leaky_relu — y = x > 0 ? x : alpha*x;  dx += dy * (y > 0 ? 1 : alpha).
 * alpha >= 0 (default 0.01), so the sign of y is the sign of x and backward reads only the output.
 */
#include "config.h"

#include "activation.h"

typedef struct {
    float alpha;
} leaky_relu_attr;

static sng_status leaky_relu_parse(sngi_op_ctx *c, void *attr) {
    leaky_relu_attr *a = attr;
    return sngi_attr_float(c, "alpha", 0.01f, 0.0f, 1e6f, &a->alpha);
}

static sng_status leaky_relu_infer(sngi_op_ctx *c, void *attr) {
    return sngi_act_infer(c, SNGI_ACT_LEAKY_RELU);
}

static void leaky_relu_forward(const sngi_node *node, const sngi_exec *x) {
    const leaky_relu_attr *a = node->attr;
    sngi_act_op_forward(node, x, SNGI_ACT_LEAKY_RELU, a->alpha);
}

static void leaky_relu_backward(const sngi_node *node, const sngi_exec *x) {
    const leaky_relu_attr *a = node->attr;
    sngi_act_op_backward(node, x, SNGI_ACT_LEAKY_RELU, a->alpha);
}

const sngi_op_def sngi_op_leaky_relu = {
    .name = "leaky_relu",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT | SNG_OP_KINKS,
    .attr_size = sizeof(leaky_relu_attr),
    .summary = "leaky rectified linear unit: x > 0 ? x : alpha*x (alpha=0.01)",
    .parse = leaky_relu_parse,
    .infer = leaky_relu_infer,
    .forward = leaky_relu_forward,
    .backward = leaky_relu_backward,
};
