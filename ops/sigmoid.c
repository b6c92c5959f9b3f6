/*
 * sigmoid — y = 1 / (1 + exp(-x)), evaluated without overflow for either sign of x;
 * dx += dy * y * (1 - y) (backward reads only the output).
 */
#include "config.h"

#include "activation.h"

static sng_status sigmoid_infer(sng_op_ctx *c, void *attr) {
    return sngi_act_infer(c, SNGI_ACT_SIGMOID);
}

static void sigmoid_forward(const sngi_node *node, const sng_exec *x) {
    sngi_act_op_forward(node, x, SNGI_ACT_SIGMOID, 0.0f);
}

static void sigmoid_backward(const sngi_node *node, const sng_exec *x) {
    sngi_act_op_backward(node, x, SNGI_ACT_SIGMOID, 0.0f);
}

const sng_op_def sng_op_sigmoid = {
    .name = "sigmoid",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT,
    .summary = "logistic function 1/(1+exp(-x))",
    .infer = sigmoid_infer,
    .forward = sigmoid_forward,
    .backward = sigmoid_backward,
};
