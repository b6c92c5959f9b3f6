/*
 * registry.c — the op table, generated from ops/ops.def with an X-macro: one line per op.
 */
#include "config.h"

#include <string.h>

#include "op.h"

#define SNG_OP(name) extern const sngi_op_def sngi_op_##name;
#include "ops.def"
#undef SNG_OP

static const sngi_op_def *const table[] = {
#define SNG_OP(name) &sngi_op_##name,
#include "ops.def"
#undef SNG_OP
};

const sngi_op_def *sngi_op_find(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i]->name, name) == 0) return table[i];
    return NULL;
}

const sngi_op_def *const *sngi_op_all(int *n_out) {
    *n_out = (int)(sizeof table / sizeof table[0]);
    return table;
}
