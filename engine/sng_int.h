/*
 * sng_int.h — private structures and cross-file internals (sngi_*) of libsngraph.
 *
 * Layout convention: activations are NCHW float32. Shapes in the graph are per sample (the batch
 * dimension N is implicit and fixed only when a graph is planned). A loss node's output is a
 * scalar for the whole batch (sngi_node.batched == 0).
 */
#ifndef SNG_INT_H
#define SNG_INT_H

/* What ops see too: status, allocation, shapes, attributes, nodes, random numbers. */
#include "op_core.h"

/* ---- context ---------------------------------------------------------------------------------- */
struct sng_ctx {
    char errmsg[2048];
    char **model_dirs; /* owned */
    int n_model_dirs;
};

/* ---- parameters ------------------------------------------------------------------------------ */
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
/* Edit distance of two short strings, capped at 9 (for "did you mean" suggestions). */
int sngi_edit_distance(const char *a, const char *b);
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
/* Reports key's value as bad ("setting KEY=\"VALUE\": WHAT") where it was written. */
sng_status sngi_cfg_bad(sng_ctx *ctx, sng_graph *g, const char *key, const char *what);
sng_status sngi_cfg_check_unused(sng_ctx *ctx, const sng_graph *g, const char *prefix);

/* Fills a parameter tensor according to its initialiser. */
void sngi_param_init(const sngi_param *p, float *data, uint64_t seed);

/* Output helpers (summary.c). */
void sngi_json_str(FILE *f, const char *s);
char *sngi_commas(int64_t v, char *buf, size_t n);

#endif /* SNG_INT_H */
