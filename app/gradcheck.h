/* gradcheck.h — whole-model finite-difference gradient check (see gradcheck.c). */
#ifndef SNG_GRADCHECK_H
#define SNG_GRADCHECK_H

#include <stdio.h>

#include "engine/state.h"
#include "ops/op.h"

typedef struct sngi_gradcheck_opts {
    int batch;
    uint64_t seed;
    int threads;
    int inputs;     /* also check gradients of image inputs */
    int samples;    /* elements per tensor in the direction (0: all) */
    double eps;     /* step */
    double tol;     /* relative error allowed */
    int json;
    int no_branch_batching;
    int raw;        /* plain differences: no kink freezing */
} sngi_gradcheck_opts;

/* Prints one line per tensor; *n_bad = tensors over tolerance. */
sng_status sngi_gradcheck(sng_ctx *ctx, const sng_graph *g, const sngi_gradcheck_opts *o,
                          FILE *out, int *n_bad);

#endif
