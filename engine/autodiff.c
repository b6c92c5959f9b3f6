/*
 * autodiff.c — reverse-mode differentiation of the static graph. Decides which node outputs get
 * a gradient buffer (those on a path from a trainable parameter — or a graph input when asked —
 * to a loss) and which nodes run a backward step. The backward steps themselves are the ops'
 * backward functions, scheduled in reverse topological order by the planner; they accumulate
 * into gradient buffers, so fan-out and tied parameters sum in a fixed order.
 */
#include "config.h"

#include <string.h>

#include "session.h"

static int has_trainable(const sng_session *s, const sngi_node *n) {
    for (int j = 0; j < n->n_param; j++)
        if (s->g->params[n->param[j]].trainable) return 1;
    return 0;
}

sng_status sngi_autodiff(sng_session *s) {
    const sng_graph *g = s->g;
    int n = g->n_nodes;
    char *src = sngi_calloc((size_t)n + 1, 1), *sink = sngi_calloc((size_t)n + 1, 1);
    if (!src || !sink) {
        free(src);
        free(sink);
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    }
    /* Active nodes: all in training; in inference those the outputs depend on (no losses). */
    if (s->o.training) {
        memset(s->active, 1, (size_t)n);
    } else {
        memset(s->active, 0, (size_t)n);
        for (int v = 0; v < n; v++) s->active[v] = s->is_out[v];
        for (int v = n - 1; v >= 0; v--)
            if (s->active[v] && !s->fed[v])
                for (int k = 0; k < g->nodes[v].n_in; k++) s->active[g->nodes[v].in[k]] = 1;
    }
    if (s->o.training) {
        /* Forward: does a gradient source reach v? */
        for (int v = 0; v < n; v++) {
            const sngi_node *nd = &g->nodes[v];
            if (nd->op->flags & SNG_OP_INPUT) {
                src[v] = s->o.grad_inputs != 0;
                continue;
            }
            if (nd->op->flags & SNG_OP_NO_GRAD) continue;
            src[v] = (char)has_trainable(s, nd);
            for (int k = 0; k < nd->n_in; k++) src[v] |= src[nd->in[k]];
        }
        /* Backward: does v reach a loss (or, with no loss, an output)? */
        for (int v = n - 1; v >= 0; v--) {
            const sngi_node *nd = &g->nodes[v];
            if (nd->is_loss || (g->n_losses == 0 && nd->is_output)) sink[v] = 1;
            if (!sink[v] || (nd->op->flags & SNG_OP_NO_GRAD)) continue;
            for (int k = 0; k < nd->n_in; k++) sink[nd->in[k]] = 1;
        }
        for (int v = 0; v < n; v++) s->needs_grad[v] = src[v] && sink[v];
        for (int v = 0; v < n; v++) {
            const sngi_node *nd = &g->nodes[v];
            if (!s->needs_grad[v] || (nd->op->flags & (SNG_OP_INPUT | SNG_OP_NO_GRAD))) continue;
            int any = has_trainable(s, nd);
            for (int k = 0; k < nd->n_in; k++) any |= s->needs_grad[nd->in[k]];
            s->has_bwd[v] = (char)any;
            if (any && !nd->op->backward) {
                free(src);
                free(sink);
                return sngi_fail_node(s->ctx, SNG_ERR_UNSUPPORTED, nd,
                                      "op '%s' has no backward, but a gradient must flow through "
                                      "it (use trainable=\"false\" upstream or stop_gradient)",
                                      nd->op->name);
            }
        }
    }
    free(src);
    free(sink);
    return SNG_OK;
}
