/*
 * input — a graph input: <input name="img_a" shape="1,105,105"/>. The batch dim is implicit.
 * Has no forward (the caller fills its buffer) and never receives a gradient.
 */
#include "config.h"

#include "op.h"

typedef struct {
    sngi_shape shape;
} input_attr;

static sng_status input_parse(sngi_op_ctx *c, void *attr) {
    input_attr *a = attr;
    const char *v;
    if (!sngi_attr_raw(c, "shape", &v))
        return sngi_attr_missing(c, "shape");
    if (sngi_shape_parse(v, &a->shape))
        return sngi_op_fail(c, SNG_ERR_MODEL,
                            "attribute shape=\"%s\" is not a list of 1 to 4 positive sizes", v);
    return SNG_OK;
}

static sng_status input_infer(sngi_op_ctx *c, void *attr) {
    c->node->shape = ((input_attr *)attr)->shape;
    return SNG_OK;
}

const sngi_op_def sngi_op_input = {
    .name = "input",
    .n_inputs = 0,
    .flags = SNG_OP_INPUT | SNG_OP_NO_GRAD,
    .attr_size = sizeof(input_attr),
    .summary = "graph input (shape per sample, batch implicit)",
    .parse = input_parse,
    .infer = input_infer,
};
