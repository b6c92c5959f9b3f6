/* concat — PLACEHOLDER until implemented: compiling a model that uses it fails with a clear error. */
#include "config.h"

#include "op.h"

static sng_status todo_infer(sng_op_ctx *c, void *attr) {
    (void)attr;
    return sngi_op_fail(c, SNG_ERR_UNSUPPORTED, "op 'concat' is not implemented yet");
}

const sng_op_def sng_op_concat = {.name = "concat", .n_inputs = -1, .infer = todo_infer};
