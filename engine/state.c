/*
 * state.c — the narrow view of a session for the layers above (see state.h).
 */
#include "config.h"

#include <string.h>

#include "session.h"
#include "state.h"

const sng_graph *sngi_session_graph(const sng_session *s) { return s->g; }
const sng_session_opts *sngi_session_opts(const sng_session *s) { return &s->o; }
int sngi_session_threads(const sng_session *s) { return s->n_threads; }
float *sngi_session_param(const sng_session *s, int i) { return s->pval[i]; }
float *sngi_session_param_grad(const sng_session *s, int i) { return s->pgrad[i]; }

float *sngi_session_grads(const sng_session *s, size_t *n) {
    *n = s->slab_floats - s->n_param_floats - s->opt_floats;
    return s->slab + s->n_param_floats;
}

float *sngi_session_opt_state(const sng_session *s, size_t *n) {
    *n = s->opt_floats;
    return s->opt_state;
}

float *sngi_session_slab(const sng_session *s, size_t *n) {
    *n = s->slab_floats;
    return s->slab;
}

sng_status sngi_session_copy_params(sng_session *dst, const sng_session *src) {
    if (dst->g != src->g || dst->n_param_floats != src->n_param_floats)
        return sngi_fail(dst->ctx, SNG_ERR_USAGE, "copying parameters between sessions of "
                                                  "different graphs");
    /* Both lay parameters out identically at the start of their slabs. */
    memcpy(dst->slab, src->slab, sizeof(float) * src->n_param_floats);
    return SNG_OK;
}

int sngi_session_merged(const sng_session *s) { return s->n_merged > 0; }

int sngi_session_n_bufs(const sng_session *s) { return s->n_bufs; }

void sngi_session_buf(const sng_session *s, int i, sngi_plan_buf *out) {
    static const char *kinds[] = {"value", "grad", "workspace", "saved"};
    const sngi_buf *u = &s->bufs[i];
    out->node = s->g->nodes[u->node].name;
    out->kind = (unsigned)u->kind < sizeof kinds / sizeof *kinds ? kinds[u->kind] : "?";
    out->bytes = u->nbytes;
    out->offset = u->offset;
    out->first = u->first;
    out->last = u->last;
}

int sngi_session_n_steps(const sng_session *s, int *n_forward) {
    if (n_forward) *n_forward = s->n_fwd_steps;
    return s->n_steps;
}

double sngi_session_op_time(const sng_session *s, const struct sngi_op_def *op, int pass) {
    double sum = 0;
    for (int i = 0; s->step_time && i < s->n_steps; i++)
        if (!op || (s->g->nodes[s->steps[i].node].op == op && s->steps[i].pass == pass))
            sum += s->step_time[i];
    return sum;
}
