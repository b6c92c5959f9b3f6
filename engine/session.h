/*
 * session.h — private structures of a session: the step schedule (forward steps, then backward
 * steps in reverse order), the buffers with their lifetimes over that schedule, the planned
 * arena and the parameter slab.
 */
#ifndef SNG_SESSION_H
#define SNG_SESSION_H

#include "ops/op.h"
#include "sng_int.h"
#include "state.h"

enum { SNGI_PASS_FWD = 0, SNGI_PASS_BWD = 1 };

typedef enum {
    SNGI_BUF_VALUE = 0, /* a node's output */
    SNGI_BUF_GRAD,      /* the gradient of a node's output */
    SNGI_BUF_WS,        /* a step's workspace */
    SNGI_BUF_SAVED      /* forward-to-backward state of a node */
} sngi_buf_kind;

typedef struct sngi_buf {
    sngi_buf_kind kind;
    int node;           /* owning node */
    size_t nbytes;      /* rounded up to 64 */
    int first, last;    /* live over steps [first, last] */
    size_t offset;      /* in the arena (planned) */
    void *ptr;          /* resolved address */
} sngi_buf;

typedef struct sngi_step {
    int node;
    int pass;           /* SNGI_PASS_FWD or SNGI_PASS_BWD */
    int ws;             /* workspace buffer id or -1 */
    int *zero;          /* gradient buffers to zero before this step runs */
    int n_zero;
    /* The op's pointer arrays, one slot per input / parameter however many there are; filled
     * before each run. Owned (one allocation at `in`, freed with the session). Steps of one
     * wave run concurrently but a step never runs twice at once, so these are not shared. */
    const float **in;
    float **din, **p, **dp;
} sngi_step;

struct sng_session {
    sng_ctx *ctx;
    const sng_graph *g;
    sng_session_opts o;
    int n_threads;

    /* Units: tied instances of a subgraph run as one batch of K*N (branch batching). A unit is
     * named by its leader node; its members' values are K consecutive slices of one buffer. */
    int *unit_of;       /* per node: the leader of its unit (itself when alone) */
    int *member;        /* per node: its slice index in the unit */
    int *n_mem;         /* per leader: K */
    int n_merged;       /* units with K > 1 */

    /* per unit leader */
    int *val_buf;       /* buffer id of the value, -1 for none */
    int *grad_buf;      /* buffer id of the output gradient, -1 for none */
    int *saved_buf;     /* -1 for none */
    char *needs_grad;   /* a gradient flows into this node's output */
    char *has_bwd;      /* a backward step runs for this node */
    char *active;       /* the node runs in this session (inference skips losses) */
    char *fed;          /* the caller provides this node's value (opts.feeds) */
    char *is_out;       /* requested output (opts.outputs, else the model's) */

    sngi_step *steps;
    int n_steps;
    int n_fwd_steps;    /* steps[0..n_fwd_steps) are forward */
    int *wave_start;    /* steps of wave w: [wave_start[w], wave_start[w+1]) */
    int n_waves, n_fwd_waves;
    int *time_of;       /* per step: its wave (buffer lifetimes are in waves) */
    sngi_buf *bufs;
    int n_bufs;

    void *arena;        /* one allocation (planned mode) */
    size_t arena_bytes;
    int64_t naive_bytes, lower_bound;

    float *slab;        /* parameters | gradients | optimiser state */
    size_t slab_floats;
    size_t n_param_floats;
    float **pval;       /* per param: its data in the slab */
    float **pgrad;      /* per param: its gradient or NULL (frozen/state/inference) */
    float *opt_state;   /* optimiser state area in the slab (set by the optimiser) */
    size_t opt_floats;

    double *step_time;  /* per step: seconds accumulated when profiling, else NULL */
    float one;          /* the seed gradient of every loss */
    int64_t step;
    int forward_done;

    int32_t **kinks;    /* per unit leader with SNG_OP_KINKS: its decisions (gradcheck only) */
    int kink_mode;      /* SNGI_KINK_* */
};

/* autodiff.c: marks needs_grad/has_bwd/active and checks every op on a gradient path has a
 * backward. */
sng_status sngi_autodiff(sng_session *s);
/* plan.c: builds the step list and buffers with lifetimes, then assigns arena offsets. */
sng_status sngi_plan_build(sng_session *s);
/* Assigns offsets to bufs (greedy by size, best fit in address among conflicting lifetimes);
 * returns the arena size. Exposed for the planner property tests. */
size_t sngi_plan_offsets(sngi_buf *bufs, int n);


/* plan.c: groups tied instances into units (branch batching); called before the plan. */
sng_status sngi_plan_units(sng_session *s);

/* BLIS set-up: choose the best kernel set for the CPU once per process. */
void sngi_blis_init(void);

#endif
