/*
 * relu — y = max(x, 0);  dx += dy * [y > 0].
 */
#include "config.h"

#include "activation.h"

static sng_status relu_infer(sng_op_ctx *c, void *attr) {
    return sngi_act_infer(c, SNGI_ACT_RELU);
}

static void relu_forward(const sngi_node *node, const sng_exec *x) {
    sngi_act_op_forward(node, x, SNGI_ACT_RELU, 0.0f);
}

static void relu_backward(const sngi_node *node, const sng_exec *x) {
    sngi_act_op_backward(node, x, SNGI_ACT_RELU, 0.0f);
}

const sng_op_def sng_op_relu = {
    .name = "relu",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT | SNG_OP_KINKS,
    .summary = "rectified linear unit",
    .infer = relu_infer,
    .forward = relu_forward,
    .backward = relu_backward,
};
