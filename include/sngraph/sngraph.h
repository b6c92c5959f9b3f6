/*
 * sngraph.h — the public API of libsngraph, a dataflow graph engine for Siamese networks.
 *
 * A model file (XML) is compiled into a static graph (sng_graph): subgraphs are instantiated,
 * tied instances share one set of parameters, shapes are inferred, nodes are put in topological
 * order. A compiled graph is then differentiated, planned into one memory arena and executed
 * (sng_session). Everything fallible returns sng_status; the message stays on the sng_ctx
 * (sng_ctx_errmsg) until the next failing call. The library never prints and never exits.
 *
 * Ownership: the creator frees. `_new`/`_load` pair with `_free`, and `_free(NULL)` is a no-op.
 * Out-parameters are set to NULL on failure.
 */
#ifndef SNGRAPH_H
#define SNGRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SNG_BUILDING) && defined(__GNUC__)
#define SNG_API __attribute__((visibility("default")))
#else
#define SNG_API
#endif

/* Status codes. SNG_OK is 0 and never extended. */
typedef enum sng_status {
    SNG_OK = 0,
    SNG_ERR_NOMEM,       /* allocation failed */
    SNG_ERR_IO,          /* a file could not be read or written */
    SNG_ERR_XML,         /* the model file is not well-formed or not valid against the schema */
    SNG_ERR_MODEL,       /* the model is well-formed but wrong (names, references, attributes) */
    SNG_ERR_SHAPE,       /* shapes do not fit */
    SNG_ERR_UNSUPPORTED, /* an op or feature is not available (e.g. no backward) */
    SNG_ERR_DATA,        /* a dataset, image or checkpoint is wrong */
    SNG_ERR_BUDGET,      /* a memory budget would be exceeded */
    SNG_ERR_USAGE,       /* the caller used the API wrongly (bad argument) */
    SNG_ERR_INTERRUPTED, /* stopped on request (signal) */
    SNG_ERR_INTERNAL     /* a bug: an internal invariant broke */
} sng_status;

/* Returns a static string naming the status ("ok", "out of memory", ...). */
SNG_API const char *sng_status_str(sng_status s);

/* ---- context: error messages and settings --------------------------------------------------- */
typedef struct sng_ctx sng_ctx;

/* Creates a context. Returns NULL only when out of memory. Free with sng_ctx_free. */
SNG_API sng_ctx *sng_ctx_new(void);
SNG_API void sng_ctx_free(sng_ctx *ctx);
/* The message of the last failure on ctx ("" if none). Owned by ctx, valid until the next call
 * that fails on it. */
SNG_API const char *sng_ctx_errmsg(const sng_ctx *ctx);
/* Adds a directory searched for models given by bare name (e.g. "siamese_vgg16"), and the only
 * places besides the model's own directory tree from which XInclude may read. Copies dir. */
SNG_API sng_status sng_ctx_add_model_dir(sng_ctx *ctx, const char *dir);

/* ---- graph: a compiled model -------------------------------------------------------------- */
typedef struct sng_graph sng_graph;

/* One "--set key=value" override applied to the model's <train>/<data> sections on load. */
typedef struct sng_setting {
    const char *key;   /* dotted path, e.g. "train.batch", "data.train.source" */
    const char *value;
} sng_setting;

/* Loads and compiles a model file. `path` is a file path, or a bare model name looked up in the
 * directories added with sng_ctx_add_model_dir (".xml" appended when missing). On success *out
 * owns a graph that the caller frees with sng_graph_free. Errors name FILE:LINE and element. */
SNG_API sng_status sng_graph_load(sng_ctx *ctx, const char *path, const sng_setting *settings,
                                  int n_settings, sng_graph **out);
/* Same from a string in memory; `name` stands for the file in messages, `base_dir` resolves
 * XIncludes (may be NULL: no includes allowed). */
SNG_API sng_status sng_graph_load_string(sng_ctx *ctx, const char *xml, size_t len,
                                         const char *name, const char *base_dir,
                                         sng_graph **out);
SNG_API void sng_graph_free(sng_graph *g);

/* Totals of a compiled graph. */
typedef struct sng_graph_stats {
    int n_nodes;
    int n_params;               /* parameter tensors (tied ones counted once) */
    int64_t trainable;          /* trainable scalars, tied counted once */
    int64_t non_trainable;      /* non-trainable scalars (frozen weights, running statistics) */
    int64_t untied_trainable;   /* what the trainable count would be with every instance untied */
    double flops_per_sample;    /* forward FLOPs of one sample (one pair for a Siamese model) */
    int64_t activation_bytes;   /* bytes of all forward activations of one sample */
} sng_graph_stats;
SNG_API void sng_graph_stats_get(const sng_graph *g, sng_graph_stats *out);

/* Writes a Keras-like summary (or JSON with json != 0) to f. */
SNG_API void sng_graph_print_summary(const sng_graph *g, FILE *f, int json);
/* Writes Graphviz DOT: one cluster per instance, tied parameters marked. */
SNG_API void sng_graph_print_dot(const sng_graph *g, FILE *f);

/* ---- session: a graph planned and ready to run -------------------------------------------- */
typedef struct sng_session sng_session;

/* Most threads a session accepts: far above any machine's cores, low enough that OpenMP never
 * tries to create a team it cannot (libgomp aborts on that). */
#define SNG_MAX_THREADS 4096

typedef struct sng_session_opts {
    int batch;            /* samples per step (pairs for a Siamese model); >= 1 */
    int training;         /* 1: differentiate and keep what backward needs; 0: inference */
    int threads;          /* 0: every core; 1: fully serial; at most SNG_MAX_THREADS */
    uint64_t seed;        /* parameter initialisation and dropout */
    int unplanned;        /* 1: every buffer malloc'd separately (testing the planner) */
    int grad_inputs;      /* 1: also compute gradients of graph inputs (gradcheck) */
    int no_branch_batching; /* 1: run tied instances one after the other, not as one batch */
    int64_t max_memory;   /* bytes for arena + parameter slab; 0: no limit */
    int opt_slots;        /* optimiser state floats per trainable parameter (0, 1 or 2) */
    /* Inference on part of the graph (both NULL-terminated lists of node or instance names, or
     * NULL): `outputs` replaces the model's <output>s; `feeds` are nodes whose values the caller
     * provides (their producers do not run) — e.g. cached embeddings into the head. */
    const char *const *outputs;
    const char *const *feeds;
} sng_session_opts;

/* Fills opts with defaults (batch 1, training, all cores, seed 1). */
SNG_API void sng_session_opts_init(sng_session_opts *opts);
/* Differentiates (in training), plans memory and allocates the arena and the parameter slab.
 * Borrows g, which must outlive the session. Parameters are initialised from opts->seed.
 * SNG_ERR_BUDGET when max_memory is too small (the message names the batch that would fit). */
SNG_API sng_status sng_session_new(sng_ctx *ctx, const sng_graph *g, const sng_session_opts *opts,
                                   sng_session **out);
SNG_API void sng_session_free(sng_session *s);
/* The buffer of a node's value, (batch, shape...) floats, owned by the session. Inputs are filled
 * by the caller before sng_session_forward; outputs and losses are valid after it. Intermediate
 * values may be overwritten by later steps (planned memory). NULL if no such node. */
SNG_API float *sng_session_value(sng_session *s, const char *node, int64_t *n_out);
/* The gradient of a node's output after backward (NULL if none is computed). With no loss in
 * the model, the caller sets the gradients of the <output> nodes before backward. */
SNG_API float *sng_session_grad(sng_session *s, const char *node, int64_t *n_out);
/* A parameter and its gradient by full name ("branch/block1_conv1/W"); NULL if absent. */
SNG_API float *sng_session_param(sng_session *s, const char *name, int64_t *n_out);
SNG_API float *sng_session_param_grad(sng_session *s, const char *name, int64_t *n_out);
/* Runs the forward pass; *loss (may be NULL) gets the total weighted loss (0 without losses). */
SNG_API sng_status sng_session_forward(sng_session *s, double *loss);
/* Runs the backward pass of the last forward (training sessions only); parameter gradients are
 * overwritten (not accumulated across calls). */
SNG_API sng_status sng_session_backward(sng_session *s);
/* Sets the training step (dropout masks depend on it). */
SNG_API void sng_session_set_step(sng_session *s, int64_t step);

/* Memory plan figures. */
typedef struct sng_plan_stats {
    int64_t naive_bytes;   /* every buffer separate */
    int64_t lower_bound;   /* the largest total of buffers live at one step */
    int64_t arena_bytes;   /* the planned arena */
    int64_t slab_bytes;    /* parameters, their gradients and optimiser state */
    int n_buffers;
    int n_steps;
} sng_plan_stats;
SNG_API void sng_session_plan_stats(const sng_session *s, sng_plan_stats *out);

/* ---- command line ------------------------------------------------------------------------------ */
/* Exit codes of the sngraph program. */
enum { SNG_EXIT_OK = 0, SNG_EXIT_INPUT = 1, SNG_EXIT_USAGE = 2, SNG_EXIT_INTERNAL = 3 };

/* The whole sngraph program as a function (main only calls it), so tests and fuzzers can run it.
 * Writes to out and err only. Returns the exit code. */
SNG_API int sng_cli_main(int argc, char **argv, FILE *out, FILE *err);

#ifdef __cplusplus
}
#endif
#endif /* SNGRAPH_H */
