/*
 * state.h — what layers above the engine may know of a session: its graph and options, the
 * values and gradients of nodes and parameters, and the slab as one array for exact copies
 * (checkpoints, MPI broadcast). The session's structure itself stays private (session.h).
 */
#ifndef SNG_STATE_H
#define SNG_STATE_H

#include <stddef.h>

#include "sng_int.h"

const sng_graph *sngi_session_graph(const sng_session *s);
const sng_session_opts *sngi_session_opts(const sng_session *s);
/* Threads the session really uses (opts.threads resolved). */
int sngi_session_threads(const sng_session *s);
/* The value (grad = 0) or gradient (grad = 1) of node v: its slice of its unit's buffer, or
 * NULL when there is none. Borrowed: valid while the session lives. */
float *sngi_node_ptr(const sng_session *s, int v, int grad);
/* Parameter i's values (graph parameter order), and its gradient (NULL when frozen, a state,
 * or in inference). Borrowed. */
float *sngi_session_param(const sng_session *s, int i);
float *sngi_session_param_grad(const sng_session *s, int i);
/* The gradients of every parameter as one array (n floats), for averaging across ranks. */
float *sngi_session_grads(const sng_session *s, size_t *n);
/* The optimiser state area (n floats, 0 when the session has none). */
float *sngi_session_opt_state(const sng_session *s, size_t *n);
/* The slab: parameters, gradients and optimiser state as one array (n floats). */
float *sngi_session_slab(const sng_session *s, size_t *n);
/* Copies every parameter value of src into dst: both sessions must be of the same graph (a
 * training session into its inference twin). */
sng_status sngi_session_copy_params(sng_session *dst, const sng_session *src);

/* Tied instances run as one batch in this session (branch batching). */
int sngi_session_merged(const sng_session *s);
/* The BLIS kernel set in use (chosen once per process). */
const char *sngi_blis_arch(void);

/* One planned buffer, for `sngraph plan`: its node, kind ("value", "grad", "workspace",
 * "saved"), size, arena offset and the steps [first, last] it is live. Names are borrowed. */
typedef struct sngi_plan_buf {
    const char *node, *kind;
    size_t bytes, offset;
    int first, last;
} sngi_plan_buf;
int sngi_session_n_bufs(const sng_session *s);
void sngi_session_buf(const sng_session *s, int i, sngi_plan_buf *out);
/* Steps in all and in the forward pass. */
int sngi_session_n_steps(const sng_session *s, int *n_forward);

/* Starts accumulating per-step times (sngraph bench --profile). Returns 0 or -1 on OOM. */
int sngi_session_profile(sng_session *s);
/* Seconds accumulated since sngi_session_profile by the steps of `op` in `pass` (0 forward,
 * 1 backward); op NULL: every step. 0 when not profiling. */
double sngi_session_op_time(const sng_session *s, const struct sngi_op_def *op, int pass);

/* Kink freezing for the whole-model gradcheck (see ops/op.h): mode SNGI_KINK_RECORD makes the
 * following forwards record every branch decision, SNGI_KINK_REPLAY makes them reuse the
 * recorded ones, SNGI_KINK_OFF stops. Decision buffers are allocated on the first call and
 * owned by the session. */
sng_status sngi_session_kinks(sng_session *s, int mode);

#endif
