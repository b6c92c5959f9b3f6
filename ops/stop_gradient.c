/*
 * stop_gradient — y = x; no gradient flows back through it (SNG_OP_NO_GRAD: the autodiff never
 * schedules its backward, which is a no-op for completeness).
 */
#include "config.h"

#include "elem_common.h"

static sng_status stop_gradient_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    c->node->shape = c->node->in_shape[0];
    c->node->flops = 0;
    return SNG_OK;
}

static void stop_gradient_forward(const sngi_node *node, const sngi_exec *x) {
    int64_t n = (int64_t)x->n * elem_numel(node);
    if (x->out != x->in[0]) memcpy(x->out, x->in[0], sizeof(float) * (size_t)n);
}

static void stop_gradient_backward(const sngi_node *node, const sngi_exec *x) {
    (void)node;
    (void)x;
}

const sngi_op_def sngi_op_stop_gradient = {
    .name = "stop_gradient",
    .n_inputs = 1,
    .flags = SNG_OP_NO_GRAD,
    .summary = "identity that blocks gradients",
    .infer = stop_gradient_infer,
    .forward = stop_gradient_forward,
    .backward = stop_gradient_backward,
};
