/*
 * sng_int.h — private structures and cross-file internals (sngi_*) of libsngraph.
 *
 * Layout convention: activations are NCHW float32. Shapes in the graph are per sample (the batch
 * dimension N is implicit and fixed only when a graph is planned). A loss node's output is a
 * scalar for the whole batch (sngi_node.batched == 0).
 */
#ifndef SNG_INT_H
#define SNG_INT_H

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

/* ---- context ---------------------------------------------------------------------------------- */
struct sng_ctx {
    char errmsg[2048];
    char **model_dirs; /* owned */
    int n_model_dirs;
};

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

/* ---- parameters ------------------------------------------------------------------------------ */
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

typedef struct sngi_param {
    char *name;        /* scope-qualified, e.g. "backbone/block1_conv1/W" */
    sngi_shape shape;
    sngi_init init;
    float init_scale;  /* for NORMAL/UNIFORM */
    int fan_in, fan_out;
    int trainable;     /* 0: frozen or state (e.g. batchnorm running statistics) */
    int is_state;      /* updated by forward in training (running stats), never by the optimiser */
    int n_users;       /* nodes using it: > 1 means tied */
    int first_node;    /* node that created it (for messages) */
    size_t offset;     /* float offset into the parameter slab, set by the planner */
} sngi_param;

/* ---- nodes ------------------------------------------------------------------------------------ */
struct sng_op_def;

typedef struct sngi_node {
    char *name;               /* qualified value name, e.g. "left/block1_conv1" */
    char *elem;               /* XML element (op) name */
    char *file;               /* model file the element came from */
    int line;
    char *instance;           /* qualified instance prefix ("left"), NULL at top level */
    char *scope;              /* parameter scope ("backbone" when tied), "" at top level */
    const struct sng_op_def *op;
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

/* ---- the compiled graph ---------------------------------------------------------------------- */
typedef struct sngi_cfg {
    sngi_kv *kv;  /* dotted keys from <train>/<data>, e.g. "train.batch", overrides applied */
    int n;
    int cap;
    char **files; /* file of each entry (borrowed from graph's file list) */
} sngi_cfg;

struct sng_graph {
    char *name;            /* model name attribute */
    char *file;            /* main file path */
    int line;              /* line of <model> in it (0: unknown) */
    char *xml_text;        /* the model file as read (for checkpoints), owned */
    size_t xml_len;
    char *xml_expanded;    /* the model after XInclude processing (self-contained), owned */
    size_t xml_expanded_len;
    sngi_node *nodes;      /* topological order after compile */
    int n_nodes;
    int cap_nodes;
    sngi_param *params;
    int n_params;
    int cap_params;
    int *outputs;          /* node ids named by <output> (resolved from out_ref) */
    int n_outputs;
    char **out_ref;        /* <output name> references as written, owned */
    int *out_line;
    int *losses;           /* loss node ids */
    int n_losses;
    int *inputs;           /* graph input node ids (op "input") */
    int n_inputs;
    sngi_cfg cfg;
    char **strings;        /* interned file names, owned */
    int n_strings;
    char **alias_from;     /* reference aliases: instance name -> its output, subgraph input ->
                              the outer value; owned */
    char **alias_to;
    const char **alias_file; /* where each alias was made (an <instance>), interned */
    int *alias_line;
    int n_alias;
    int cap_alias;
    int64_t untied_trainable;
};

/* ---- graph building (graph.c), used by the XML reader ----------------------------------------- */
sng_graph *sngi_graph_new(void);
/* Adds a node; fails (naming both places) if the qualified name exists. Strings are copied. */
sng_status sngi_graph_add_node(sng_ctx *ctx, sng_graph *g, const char *name, const char *elem,
                               const char *file, int line, int *out_id);
/* Adds a reference alias (copied), made by the element at file:line (for messages). */
sng_status sngi_graph_add_alias(sng_ctx *ctx, sng_graph *g, const char *from, const char *to,
                                const char *file, int line);
/* Interns a string (file names) in the graph; returns a pointer owned by g, NULL on OOM. */
char *sngi_graph_intern(sng_graph *g, const char *s);
/* Appends a raw attribute to node id (copied). */
sng_status sngi_node_add_kv(sng_ctx *ctx, sng_graph *g, int id, const char *key, const char *val,
                            int line);
/* Appends an input reference (already qualified) to node id (copied). */
sng_status sngi_node_add_in(sng_ctx *ctx, sng_graph *g, int id, const char *ref);
/* Dotted-key config entry (used by the reader and by --set). */
sng_status sngi_cfg_add(sng_ctx *ctx, sng_graph *g, const char *key, const char *val,
                        const char *file, int line);

/* Finds a node by qualified name; -1 if absent. */
int sngi_graph_find(const sng_graph *g, const char *name);
/* Same, following aliases (an instance name means its output). */
int sngi_graph_resolve(const sng_graph *g, const char *ref);
/* Finds or creates a parameter for node `node_id` named `scope/local/pname`. Fails with
 * SNG_ERR_SHAPE when a tied parameter exists with a different shape (naming both nodes). */
sng_status sngi_graph_param(sng_ctx *ctx, sng_graph *g, int node_id, const char *pname,
                            const sngi_shape *shape, sngi_init init, int fan_in, int fan_out,
                            int *out_id);

/* Formats "FILE:LINE: error: <elem name="N">: " followed by fmt, and returns st. */
sng_status sngi_fail_node(sng_ctx *ctx, sng_status st, const sngi_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
sng_status sngi_fail_at(sng_ctx *ctx, sng_status st, const char *file, int line, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

/* Compiles a graph whose nodes were added by the XML reader: resolves references, sorts
 * topologically, infers shapes and creates parameters. */
sng_status sngi_graph_compile(sng_ctx *ctx, sng_graph *g);

/* Configuration from <train>/<data>: lookup by dotted key; marks the entry used. */
const char *sngi_cfg_get(sng_graph *g, const char *key);
/* Overrides (or adds) key with val, as from `--set key=value`. */
sng_status sngi_cfg_set(sng_ctx *ctx, sng_graph *g, const char *key, const char *val);
/* Typed readers: return SNG_OK and the default when the key is absent; a clear error naming the
 * key, its value and where it was set when it does not parse. */
sng_status sngi_cfg_int(sng_ctx *ctx, sng_graph *g, const char *key, long def, long lo, long hi,
                        long *out);
sng_status sngi_cfg_double(sng_ctx *ctx, sng_graph *g, const char *key, double def, double lo,
                           double hi, double *out);
/* Fails naming the first key that nobody read (a typo in <train>/<data> or --set). */
sng_status sngi_cfg_check_unused(sng_ctx *ctx, const sng_graph *g, const char *prefix);

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

/* Fills a parameter tensor according to its initialiser. */
void sngi_param_init(const sngi_param *p, float *data, uint64_t seed);

/* Output helpers (summary.c). */
void sngi_json_str(FILE *f, const char *s);
char *sngi_commas(int64_t v, char *buf, size_t n);

#endif /* SNG_INT_H */
