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

/* The ops a model file can use, as XML element names: i in [0, sng_op_count()). Returns the
 * name and sets *summary (one line; may be NULL to skip) and *has_backward (may be NULL).
 * Static strings; NULL for an i out of range. */
SNG_API int sng_op_count(void);
SNG_API const char *sng_op_info(int i, const char **summary, int *has_backward);

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

/* ---- verification: a trained checkpoint, one image at a time ------------------------------- */
/* A checkpoint loaded for embedding and comparing images (what `sngraph compare`, `embed`,
 * `gallery` and `identify` use). Images are decoded (PNG, JPEG or PNM), converted to the
 * model's channels and size, and normalised with the data settings recorded in the checkpoint,
 * exactly as in training. A verifier is used by one thread at a time. */
typedef struct sng_verifier sng_verifier;

/* Loads a checkpoint written by `sngraph run` or sng_train. threads: 0 = every core. On success
 * *out is owned by the caller, who frees it with sng_verifier_free; ctx must outlive it. */
SNG_API sng_status sng_verifier_open(sng_ctx *ctx, const char *checkpoint, int threads,
                                     sng_verifier **out);
SNG_API void sng_verifier_free(sng_verifier *v);
/* Floats per embedding. */
SNG_API int sng_verifier_dim(const sng_verifier *v);
/* The threshold calibrated on validation pairs: score >= threshold means "same". */
SNG_API double sng_verifier_threshold(const sng_verifier *v);
/* Embeds one encoded image, given in memory (data, n bytes) or as a file, into emb (dim
 * floats, the caller's). */
SNG_API sng_status sng_embed_image(sng_verifier *v, const void *data, size_t n, float *emb);
SNG_API sng_status sng_embed_file(sng_verifier *v, const char *path, float *emb);
/* Compares two encoded images in memory, or two image files: *score is the similarity (higher
 * is more alike) and *same is 1 when it reaches the threshold. */
SNG_API sng_status sng_compare_images(sng_verifier *v, const void *a, size_t na, const void *b,
                                      size_t nb, double *score, int *same);
SNG_API sng_status sng_compare_files(sng_verifier *v, const char *a, const char *b,
                                     double *score, int *same);

/* ---- gallery: identities enrolled from one image each ----------------------------------------- */
/* A gallery file of enrolled identities with their embeddings, bound to one checkpoint.
 * Enrolling or removing never retrains; each change is on disk (written to a temporary file,
 * fsynced and renamed) before the call returns. */
typedef struct sng_gallery sng_gallery;

/* One identity's result: name (borrowed from the gallery, valid until it next changes), score,
 * and match = score >= the verifier's threshold. */
typedef struct sng_match {
    const char *name;
    double score;
    int match;
} sng_match;

/* Opens the gallery at path for verifier v, creating it (empty) when missing. A gallery made
 * with another checkpoint is refused. On success *out is owned by the caller
 * (sng_gallery_close); v must outlive it. */
SNG_API sng_status sng_gallery_open(sng_ctx *ctx, const char *path, sng_verifier *v,
                                    sng_gallery **out);
SNG_API void sng_gallery_close(sng_gallery *g);
SNG_API int sng_gallery_size(const sng_gallery *g);
/* Name of identity i in [0, size): borrowed, valid until the gallery next changes. */
SNG_API const char *sng_gallery_name(const sng_gallery *g, int i);
/* Enrols `name` from one encoded image (SNG_ERR_DATA when the name is taken). */
SNG_API sng_status sng_gallery_enrol(sng_gallery *g, const char *name, const void *image,
                                     size_t n);
/* Removes `name` (SNG_ERR_DATA when it is not enrolled). */
SNG_API sng_status sng_gallery_remove(sng_gallery *g, const char *name);
/* Ranks the identities against one encoded image: the best min(top, size) go to matches[]
 * (the caller's, top entries), best first, their count to *n_matches. */
SNG_API sng_status sng_gallery_identify(sng_gallery *g, const void *image, size_t n, int top,
                                        sng_match *matches, int *n_matches);

/* ---- training ------------------------------------------------------------------------------- */
/* Called after every training step with the steps done, the total and the step's loss. Return
 * nonzero to stop: the run then ends as on Ctrl-C, with a checkpoint written. */
typedef int (*sng_progress_fn)(void *user, int64_t step, int64_t steps, double loss);

/* Trains a model file as `sngraph run` does (its <train> and <data> settings, overridden by
 * settings[0..n_settings)), evaluates it on held-out classes, and writes run_dir/checkpoint.tar,
 * metrics.jsonl, report.txt and report.svg. threads: 0 = every core. progress may be NULL.
 * Prints nothing and installs no signal handler. Returns SNG_ERR_INTERRUPTED when progress
 * stopped it (the checkpoint is written). */
SNG_API sng_status sng_train(sng_ctx *ctx, const char *model, const sng_setting *settings,
                             int n_settings, const char *run_dir, int threads,
                             sng_progress_fn progress, void *user);

#ifdef __cplusplus
}
#endif
#endif /* SNGRAPH_H */
