/*
 * tanh — y = tanh(x);  dx += dy * (1 - y^2) (backward reads only the output).
 */
#include "config.h"

#include "activation.h"

static sng_status tanh_infer(sng_op_ctx *c, void *attr) {
    return sngi_act_infer(c, SNGI_ACT_TANH);
}

static void tanh_forward(const sngi_node *node, const sng_exec *x) {
    sngi_act_op_forward(node, x, SNGI_ACT_TANH, 0.0f);
}

static void tanh_backward(const sngi_node *node, const sng_exec *x) {
    sngi_act_op_backward(node, x, SNGI_ACT_TANH, 0.0f);
}

const sng_op_def sng_op_tanh = {
    .name = "tanh",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_OUT,
    .summary = "hyperbolic tangent",
    .infer = tanh_infer,
    .forward = tanh_forward,
    .backward = tanh_backward,
};
