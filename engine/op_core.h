/*
 * op_core.h — the part of the engine's internals that ops see (ops/op.h includes only this):
 * status and error messages, allocation, shapes, raw attributes, nodes, initialisers and
 * random numbers. The graph (struct sng_graph) and sessions stay behind engine/sng_int.h, so
 * an op declares its parameters through the services on sngi_op_ctx (ops/op.h).
 */
#ifndef SNG_OP_CORE_H
#define SNG_OP_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sngraph/sngraph.h"

#define SNG_MAX_DIMS 4
#define SNG_MAX_NAME 256

/* Aborts with file:line — only for broken internal invariants, never for input. */
#define SNG_ASSERT(x) \
    do { \
        if (!(x)) sngi_abort(__FILE__, __LINE__, #x); \
    } while (0)
void sngi_abort(const char *file, int line, const char *what) __attribute__((noreturn));

/* Sets ctx's message (printf-style) and returns st. Safe with ctx == NULL. */
sng_status sngi_fail(sng_ctx *ctx, sng_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sng_status sngi_vfail(sng_ctx *ctx, sng_status st, const char *fmt, va_list ap);

/* Allocation that may be made to fail in tests (sngi_alloc_fail_after). */
void *sngi_malloc(size_t n);
void *sngi_calloc(size_t n, size_t sz);
void *sngi_realloc(void *p, size_t n);
/* aligned_alloc (n a multiple of align) that the same hook can fail; free() it. */
void *sngi_aligned_alloc(size_t align, size_t n);
char *sngi_strdup(const char *s);
/* After `n` more successful allocations, every allocation fails (n < 0: never). For tests. */
void sngi_alloc_fail_after(long n);

/* ---- shapes ----------------------------------------------------------------------------------- */
typedef struct sngi_shape {
    int nd;               /* 0..SNG_MAX_DIMS; 0 is a scalar */
    int d[SNG_MAX_DIMS];  /* per-sample dims, e.g. (C, H, W) */
} sngi_shape;

int64_t sngi_shape_numel(const sngi_shape *s);          /* product of dims, 1 for a scalar */
int sngi_shape_eq(const sngi_shape *a, const sngi_shape *b);
/* Writes "(1,105,105)" into buf (always NUL-terminated); returns buf. */
char *sngi_shape_str(const sngi_shape *s, char *buf, size_t n);
/* Parses "1,105,105" (or "1x105x105"); returns 0 on success. */
int sngi_shape_parse(const char *txt, sngi_shape *out);

/* ---- key/value attributes as read from XML -------------------------------------------------- */
typedef struct sngi_kv {
    char *key;
    char *val;
    int line;
    int used; /* set when a reader consumed it: unread attributes are errors */
} sngi_kv;

/* ---- parameter initialisers ------------------------------------------------------------- */
typedef enum sngi_init {
    SNGI_INIT_ZEROS = 0,
    SNGI_INIT_ONES,
    SNGI_INIT_HE_NORMAL,
    SNGI_INIT_HE_UNIFORM,
    SNGI_INIT_GLOROT_UNIFORM,
    SNGI_INIT_GLOROT_NORMAL,
    SNGI_INIT_NORMAL, /* N(0, init_scale) */
    SNGI_INIT_UNIFORM /* U(-init_scale, init_scale) */
} sngi_init;

/* ---- nodes ------------------------------------------------------------------------------------ */
struct sngi_op_def;

typedef struct sngi_node {
    char *name;               /* qualified value name, e.g. "left/block1_conv1" */
    char *elem;               /* XML element (op) name */
    char *file;               /* model file the element came from */
    int line;
    char *instance;           /* qualified instance prefix ("left"), NULL at top level */
    char *scope;              /* parameter scope ("backbone" when tied), "" at top level */
    const struct sngi_op_def *op;
    void *attr;               /* op-private attributes (op->attr_size bytes), owned */
    sngi_kv *kv;              /* raw XML attributes, owned */
    int n_kv;

    char **in_ref;            /* unresolved input references (qualified), owned */
    int n_in;
    int *in;                  /* input node ids, resolved */
    sngi_shape *in_shape;     /* shapes of inputs, copied at inference */
    int *param;               /* parameter ids */
    int n_param;

    sngi_shape shape;         /* output shape per sample (or whole-batch if !batched) */
    int batched;              /* 1: output has a leading batch dim; 0: one value per batch (loss) */
    int trainable;            /* attribute trainable (default 1) */
    int is_output;            /* named by <output> */
    int is_loss;              /* op has SNG_OP_LOSS */
    float loss_weight;        /* weight attribute of a loss */
    double flops;             /* forward FLOPs per sample (set by infer) */
    int needs_grad;           /* set by autodiff: a gradient flows into this node's output */
    int order;                /* position in topological order */
} sngi_node;

/* ---- errors at a node -------------------------------------------------------------------- */
/* Formats "FILE:LINE: error: <elem name="N">: " followed by fmt, and returns st. */
sng_status sngi_fail_node(sng_ctx *ctx, sng_status st, const sngi_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
sng_status sngi_fail_at(sng_ctx *ctx, sng_status st, const char *file, int line, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

/* ---- random numbers ---------------------------------------------------------------------- */
/* Deterministic random numbers (splitmix64 / xoshiro-like), used by initialisers and samplers. */
typedef struct sngi_rng {
    uint64_t s[2];
} sngi_rng;
void sngi_rng_seed(sngi_rng *r, uint64_t seed);
uint64_t sngi_rng_next(sngi_rng *r);
float sngi_rng_uniform(sngi_rng *r);              /* [0,1) */
float sngi_rng_normal(sngi_rng *r);               /* N(0,1) */
/* Stateless hash to [0,1): the same (seed, a, b) always gives the same number (dropout masks). */
float sngi_hash_uniform(uint64_t seed, uint64_t a, uint64_t b);

#endif /* SNG_OP_CORE_H */
