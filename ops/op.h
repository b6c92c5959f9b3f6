/*
 * op.h — the op interface. Everything about an op lives in one file ops/<name>.c that defines
 * `const sngi_op_def sngi_op_<name>` and is listed by one line in ops/ops.def. The compiler,
 * autodiff, planner and executor only ever see sngi_op_def.
 *
 * Conventions for kernels:
 *   - Data are float32, activations NCHW with the batch dim first: x: (N, C, H, W).
 *   - backward ACCUMULATES (+=) into din[i] and dp[j]; buffers are zeroed by the executor before
 *     the first accumulation, so fan-out and tied parameters simply sum.
 *   - din[i] / dp[j] are NULL when no gradient is needed for that input/parameter: skip the work.
 *   - Kernels never allocate: scratch memory comes from x->ws (size asked via ->workspace) and
 *     forward-to-backward state from x->saved (size asked via ->saved).
 *   - Loss ops output one float for the whole batch (the unweighted mean loss); their backward
 *     multiplies by dout[0] * node->loss_weight.
 *   - GEMMs go through sngi_sgemm (it uses the executor's thread count), loops above
 *     SNG_PAR_MIN elements use `#pragma omp parallel for simd if(n > SNG_PAR_MIN)`.
 */
#ifndef SNG_OP_H
#define SNG_OP_H

#include "../engine/op_core.h"

#define SNG_PAR_MIN 32768

/* Op flags. */
enum {
    SNG_OP_LOSS = 1u << 0,        /* a loss: scalar output for the batch, has `weight` attribute */
    SNG_OP_INPUT = 1u << 1,       /* a graph input: no forward, data filled by the caller */
    SNG_OP_BWD_NEEDS_IN = 1u << 2, /* backward reads the inputs (keeps them alive) */
    SNG_OP_BWD_NEEDS_OUT = 1u << 3, /* backward reads the output (keeps it alive) */
    SNG_OP_NO_GRAD = 1u << 4,     /* stops gradients (stop_gradient, labels) */
    SNG_OP_ALIAS = 1u << 5,       /* output may share the input's memory (flatten/reshape) */
    SNG_OP_BATCH_COUPLED = 1u << 6, /* samples of a batch interact (batchnorm): tied branches are
                                      not merged into one batch through it */
    SNG_OP_KINKS = 1u << 7         /* piecewise (ReLU, max, |.|, hinge): takes part in kink
                                      freezing through sngi_kink() */
};

/* Kink freezing, for the whole-model gradcheck: a finite difference that crosses a ReLU or
 * max-pool switch measures an average slope, not the derivative the backward pass computes.
 * In RECORD mode an op stores each branch decision it takes; in REPLAY mode it takes the
 * stored decision instead, so the forward becomes the smooth function that agrees with the
 * model at the recorded point and has the same derivative there. */
enum { SNGI_KINK_OFF = 0, SNGI_KINK_RECORD, SNGI_KINK_REPLAY };

/* Context handed to parse and infer. ctx and g are opaque to ops (op_core.h does not define
 * them): ops reach the graph only through the services below (engine/op_ctx.c). */
typedef struct sngi_op_ctx {
    sng_ctx *ctx;
    sng_graph *g;
    int node_id;
    sngi_node *node;
    const char *missing; /* set by sngi_attr_missing: the required attribute absent (borrowed) */
} sngi_op_ctx;

/* What a kernel sees at run time. Pointers index the planned arena/slab. */
typedef struct sngi_exec {
    int n;                  /* batch size of this node's input/output */
    int training;           /* 1 in training (batchnorm uses batch stats, dropout drops) */
    const float *const *in; /* in[i]: input i, shape (n, node->in_shape[i]) */
    float **din;            /* din[i]: gradient of input i, or NULL */
    float *out;             /* output (n, node->shape), or the loss scalar */
    const float *dout;      /* gradient of the output (backward only) */
    float **p;              /* p[j]: parameter j (node->param[j]) */
    float **dp;             /* dp[j]: its gradient, or NULL when frozen / not needed */
    void *ws;               /* workspace of ->workspace() bytes, 64-byte aligned */
    void *saved;            /* forward->backward state of ->saved() bytes */
    int n_threads;          /* threads this node may use */
    uint64_t seed;          /* run seed (dropout) */
    int64_t step;           /* training step (dropout) */
    int32_t *kinks;         /* kink decisions of this node (SNG_OP_KINKS), or NULL when off */
    int kink_mode;          /* SNGI_KINK_RECORD or SNGI_KINK_REPLAY when kinks is set */
} sngi_exec;

/* Branch decision i of a kinked op: cond itself, recorded, or the recorded one (see above).
 * i ranges over the node's output elements (x->n times its shape). */
static inline int sngi_kink(const sngi_exec *x, int64_t i, int cond) {
    if (!x->kinks) return cond;
    if (x->kink_mode == SNGI_KINK_RECORD) x->kinks[i] = cond;
    return x->kinks[i];
}

typedef struct sngi_op_def {
    const char *name;    /* XML element name, "conv2d" */
    int n_inputs;        /* exact count; -1: one or more (variadic) */
    unsigned flags;      /* SNG_OP_* */
    size_t attr_size;    /* sizeof the op's private attr struct (0: none) */
    const char *summary; /* one line for `sngraph ops` and docs */
    /* Reads the XML attributes into attr with the sngi_attr_* helpers. May be NULL (no attrs). */
    sng_status (*parse)(sngi_op_ctx *c, void *attr);
    /* Input shapes (c->node->in_shape) -> output shape, parameters, flops. */
    sng_status (*infer)(sngi_op_ctx *c, void *attr);
    /* Bytes of scratch for a pass (0 forward, 1 backward) at batch n. NULL = 0. */
    size_t (*workspace)(const sngi_node *node, int n, int pass);
    /* Bytes kept from forward to backward at batch n (e.g. batchnorm mean/rstd). NULL = 0. */
    size_t (*saved)(const sngi_node *node, int n);
    void (*forward)(const sngi_node *node, const sngi_exec *x);
    /* NULL: the op cannot be differentiated (building a training graph through it fails). */
    void (*backward)(const sngi_node *node, const sngi_exec *x);
} sngi_op_def;

/* Registry (ops/registry.c, generated from ops/ops.def). */
const sngi_op_def *sngi_op_find(const char *name);
const sngi_op_def *const *sngi_op_all(int *n_out);

/* ---- attribute helpers for parse(): each marks the attribute as read ----------------------- */
/* Returns 1 and sets *val when present, 0 when absent. */
int sngi_attr_raw(sngi_op_ctx *c, const char *key, const char **val);
sng_status sngi_attr_int(sngi_op_ctx *c, const char *key, int def, int lo, int hi, int *out);
/* Required integer (error naming the attribute when absent). */
sng_status sngi_attr_int_req(sngi_op_ctx *c, const char *key, int lo, int hi, int *out);
sng_status sngi_attr_float(sngi_op_ctx *c, const char *key, float def, float lo, float hi,
                           float *out);
/* "3" -> {3,3}; "3,5" -> {3,5}. */
sng_status sngi_attr_pair(sngi_op_ctx *c, const char *key, int def, int lo, int hi, int out[2]);
/* names is NULL-terminated; *out = index. */
sng_status sngi_attr_enum(sngi_op_ctx *c, const char *key, const char *const *names, int def,
                          int *out);
sng_status sngi_attr_bool(sngi_op_ctx *c, const char *key, int def, int *out);
/* init="he|he_uniform|glorot|glorot_normal|normal|uniform|zeros|ones", init_scale="0.01". */
sng_status sngi_attr_init(sngi_op_ctx *c, sngi_init def, sngi_init *out, float *scale);

/* Fails with "missing required attribute 'key'" and records key in c->missing, so the compiler
 * can point at a misspelt attribute instead without reading the message. key must outlive c. */
sng_status sngi_attr_missing(sngi_op_ctx *c, const char *key);

/* Fails at the node with "FILE:LINE: error: <elem name=..>: msg". */
sng_status sngi_op_fail(sngi_op_ctx *c, sng_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Declares parameter `pname` of the current node (tied across instances by scope). init/scale as parsed; fans for He/Glorot. */
sng_status sngi_op_param(sngi_op_ctx *c, const char *pname, const sngi_shape *shape,
                         sngi_init init, float scale, int fan_in, int fan_out);
/* Same, but the parameter is running state (updated in forward, not by the optimiser). */
sng_status sngi_op_state(sngi_op_ctx *c, const char *pname, const sngi_shape *shape,
                         sngi_init init);

/* Shape builders. */
static inline sngi_shape sngi_shape1(int a) {
    sngi_shape s = {1, {a, 0, 0, 0}};
    return s;
}
static inline sngi_shape sngi_shape3(int a, int b, int c) {
    sngi_shape s = {3, {a, b, c, 0}};
    return s;
}

/* ---- GEMM through BLIS ------------------------------------------------------------------------ */
/* C(MxN) = alpha * op(A)(MxK) * op(B)(KxN) + beta * C, row-major with leading dims, on
 * n_threads threads (a per-call BLIS rntm, so concurrent calls never oversubscribe). */
void sngi_sgemm(int n_threads, int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif /* SNG_OP_H */
