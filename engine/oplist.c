/*
 * oplist.c — the op registry as the public API lists it (sng_op_count, sng_op_info).
 */
#include "config.h"

#include "ops/op.h"

SNG_API int sng_op_count(void) {
    int n;
    sngi_op_all(&n);
    return n;
}

SNG_API const char *sng_op_info(int i, const char **summary, int *has_backward) {
    int n;
    const sngi_op_def *const *ops = sngi_op_all(&n);
    if (i < 0 || i >= n) return NULL;
    if (summary) *summary = ops[i]->summary ? ops[i]->summary : "";
    if (has_backward) *has_backward = ops[i]->backward != NULL;
    return ops[i]->name;
}
