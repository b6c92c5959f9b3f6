/*
 * manifest.h — what a checkpoint's manifest.json says about the entries that must follow it:
 * every parameter's name and size, and the optimiser's slots. The reader bounds each entry by it.
 */
#ifndef SNG_MANIFEST_H
#define SNG_MANIFEST_H

#include "engine/sng_int.h"

/* The most floats a checkpoint may hold, parameters and optimiser state together (8 GiB): far
 * above any model sngraph trains (VGG16 with Adam is 51M), and low enough that a crafted
 * manifest cannot make the reader allocate without bound. */
#define SNGI_CKPT_MAX_FLOATS ((size_t)1 << 31)

typedef struct sngi_manifest_param {
    char *name;    /* owned */
    size_t numel;  /* floats */
} sngi_manifest_param;

typedef struct sngi_manifest {
    sngi_manifest_param *params;  /* owned */
    int n;
    int opt_slots;
    size_t total;  /* floats in all parameters */
} sngi_manifest;

/* Parses text (NUL-terminated). Refuses, naming path: a params list that is missing or
 * malformed, a threshold or step that is not a finite number, more than SNGI_CKPT_MAX_FLOATS
 * floats in parameters and optimiser state. Free with sngi_manifest_free. */
sng_status sngi_manifest_parse(sng_ctx *ctx, const char *path, const char *text,
                               sngi_manifest *out);
void sngi_manifest_free(sngi_manifest *m);
/* The parameter with this name, or NULL. */
const sngi_manifest_param *sngi_manifest_find(const sngi_manifest *m, const char *name);

#endif
