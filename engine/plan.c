/*
 * plan.c — the memory planner. Builds the step schedule (forward steps in topological order,
 * then backward steps in reverse), gives every activation, gradient, workspace and saved state a
 * buffer with a lifetime [first, last] over the steps, and assigns offsets in one arena: greedy
 * by size, each buffer placed in the best-fitting gap among the buffers whose lifetimes overlap
 * its own. Parameters, gradients and optimiser state live in the separate slab (session.c).
 */
#include "config.h"

#include <string.h>

#include "session.h"

#define ALIGN 64

static size_t round_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

static int add_buf(sng_session *s, int *cap, sngi_buf_kind kind, int node, size_t nbytes,
                   int first, int last) {
    if (s->n_bufs == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        sngi_buf *b = realloc(s->bufs, sizeof(sngi_buf) * (size_t)nc);
        if (!b) return -1;
        s->bufs = b;
        *cap = nc;
    }
    sngi_buf *b = &s->bufs[s->n_bufs];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->node = node;
    b->nbytes = round_up(nbytes ? nbytes : 1);
    b->first = first;
    b->last = last;
    return s->n_bufs++;
}

static int add_zero(sngi_step *st, int buf) {
    int *z = realloc(st->zero, sizeof(int) * (size_t)(st->n_zero + 1));
    if (!z) return -1;
    z[st->n_zero++] = buf;
    st->zero = z;
    return 0;
}

typedef struct span {
    size_t off, end;
} span;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static const sngi_buf *sort_base;
static int cmp_size_desc(const void *a, const void *b) {
    const sngi_buf *x = &sort_base[*(const int *)a], *y = &sort_base[*(const int *)b];
    if (x->nbytes != y->nbytes) return x->nbytes > y->nbytes ? -1 : 1;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

size_t sngi_plan_offsets(sngi_buf *bufs, int n) {
    int *order = malloc(sizeof(int) * (size_t)(n + 1));
    char *placed = calloc((size_t)n + 1, 1);
    span *sp = malloc(sizeof(span) * (size_t)(n + 1));
    if (!order || !placed || !sp) {
        free(order);
        free(placed);
        free(sp);
        return (size_t)-1;
    }
    for (int i = 0; i < n; i++) order[i] = i;
    sort_base = bufs;
    qsort(order, (size_t)n, sizeof(int), cmp_size_desc);
    size_t total = 0;
    for (int oi = 0; oi < n; oi++) {
        sngi_buf *b = &bufs[order[oi]];
        int k = 0;
        for (int j = 0; j < n; j++) {
            if (!placed[j]) continue;
            const sngi_buf *o = &bufs[j];
            if (o->last < b->first || o->first > b->last) continue;
            sp[k].off = o->offset;
            sp[k].end = o->offset + o->nbytes;
            k++;
        }
        qsort(sp, (size_t)k, sizeof(span), cmp_span);
        /* Best fit: the smallest gap that holds b; else after the last conflicting buffer. */
        size_t best = (size_t)-1, best_gap = (size_t)-1, cur = 0;
        for (int j = 0; j < k; j++) {
            if (sp[j].off > cur) {
                size_t gap = sp[j].off - cur;
                if (gap >= b->nbytes && gap < best_gap) {
                    best_gap = gap;
                    best = cur;
                }
            }
            if (sp[j].end > cur) cur = sp[j].end;
        }
        b->offset = best != (size_t)-1 ? best : cur;
        placed[order[oi]] = 1;
        if (b->offset + b->nbytes > total) total = b->offset + b->nbytes;
    }
    free(order);
    free(placed);
    free(sp);
    return total;
}

sng_status sngi_plan_build(sng_session *s) {
    const sng_graph *g = s->g;
    int n = g->n_nodes, batch = s->o.batch, cap = 0;
    int *fwd = malloc(sizeof(int) * (size_t)(n + 1)), *bwd = malloc(sizeof(int) * (size_t)(n + 1));
    s->steps = calloc((size_t)(2 * n + 1), sizeof(sngi_step));
    if (!fwd || !bwd || !s->steps) goto oom;
    for (int v = 0; v < n; v++) fwd[v] = bwd[v] = -1;
    for (int v = 0; v < n; v++)
        if (s->active[v] && !(g->nodes[v].op->flags & SNG_OP_INPUT)) {
            s->steps[s->n_steps] = (sngi_step){v, SNGI_PASS_FWD, -1, NULL, 0};
            fwd[v] = s->n_steps++;
        }
    s->n_fwd_steps = s->n_steps;
    for (int v = n - 1; v >= 0; v--)
        if (s->has_bwd[v]) {
            s->steps[s->n_steps] = (sngi_step){v, SNGI_PASS_BWD, -1, NULL, 0};
            bwd[v] = s->n_steps++;
        }
    int end = s->n_steps ? s->n_steps - 1 : 0;

    /* Values. */
    for (int v = 0; v < n; v++) {
        const sngi_node *nd = &g->nodes[v];
        s->val_buf[v] = s->grad_buf[v] = s->saved_buf[v] = -1;
        if (!s->active[v]) continue;
        size_t bytes = nd->batched ? (size_t)batch * (size_t)sngi_shape_numel(&nd->shape) * 4 : 4;
        int first = fwd[v] >= 0 ? fwd[v] : 0, last = first;
        int pinned = (nd->op->flags & SNG_OP_INPUT) || nd->is_output || nd->is_loss;
        for (int c = v + 1; c < n; c++) {
            const sngi_node *cn = &g->nodes[c];
            if (!s->active[c]) continue;
            for (int k = 0; k < cn->n_in; k++) {
                if (cn->in[k] != v) continue;
                if (fwd[c] > last) last = fwd[c];
                if (bwd[c] > last && (cn->op->flags & SNG_OP_BWD_NEEDS_IN)) last = bwd[c];
            }
        }
        if (bwd[v] > last && (nd->op->flags & SNG_OP_BWD_NEEDS_OUT)) last = bwd[v];
        if (pinned) first = 0, last = end;
        if ((s->val_buf[v] = add_buf(s, &cap, SNGI_BUF_VALUE, v, bytes, first, last)) < 0) goto oom;
    }
    /* Output gradients: live from their first writer (a consumer's backward) to this node's
     * backward; zeroed right before the first writer runs. */
    for (int v = 0; v < n; v++) {
        const sngi_node *nd = &g->nodes[v];
        if (!s->needs_grad[v] || nd->is_loss) continue;
        size_t bytes = (size_t)batch * (size_t)sngi_shape_numel(&nd->shape) * 4;
        int first = -1;
        for (int c = v + 1; c < n; c++) {
            const sngi_node *cn = &g->nodes[c];
            if (!s->has_bwd[c]) continue;
            for (int k = 0; k < cn->n_in; k++)
                if (cn->in[k] == v && (first < 0 || bwd[c] < first)) first = bwd[c];
        }
        int caller_seeded = g->n_losses == 0 && nd->is_output;
        int last = bwd[v] >= 0 ? bwd[v] : end;
        if ((nd->op->flags & SNG_OP_INPUT) || caller_seeded) last = end;
        if (caller_seeded) first = s->n_fwd_steps;
        if (first < 0) first = last;
        int b = add_buf(s, &cap, SNGI_BUF_GRAD, v, bytes, first < last ? first : last, last);
        if (b < 0) goto oom;
        s->grad_buf[v] = b;
        if (!caller_seeded && first >= 0 && first < s->n_steps && add_zero(&s->steps[first], b))
            goto oom;
    }
    /* Saved state and workspaces. */
    for (int i = 0; i < s->n_steps; i++) {
        sngi_step *st = &s->steps[i];
        const sngi_node *nd = &g->nodes[st->node];
        if (st->pass == SNGI_PASS_FWD && nd->op->saved) {
            size_t bytes = nd->op->saved(nd, batch);
            if (bytes) {
                int last = bwd[st->node] >= 0 ? bwd[st->node] : i;
                if ((s->saved_buf[st->node] =
                         add_buf(s, &cap, SNGI_BUF_SAVED, st->node, bytes, i, last)) < 0)
                    goto oom;
            }
        }
        if (nd->op->workspace) {
            size_t bytes = nd->op->workspace(nd, batch, st->pass);
            if (bytes && (st->ws = add_buf(s, &cap, SNGI_BUF_WS, st->node, bytes, i, i)) < 0)
                goto oom;
        }
    }
    /* Lower bound and naive size. */
    s->naive_bytes = 0;
    for (int b = 0; b < s->n_bufs; b++) s->naive_bytes += (int64_t)s->bufs[b].nbytes;
    s->lower_bound = 0;
    for (int t = 0; t < (s->n_steps ? s->n_steps : 1); t++) {
        int64_t live = 0;
        for (int b = 0; b < s->n_bufs; b++)
            if (s->bufs[b].first <= t && t <= s->bufs[b].last) live += (int64_t)s->bufs[b].nbytes;
        if (live > s->lower_bound) s->lower_bound = live;
    }
    free(fwd);
    free(bwd);
    if (s->o.unplanned) {
        s->arena_bytes = (size_t)s->naive_bytes;
        return SNG_OK;
    }
    size_t total = sngi_plan_offsets(s->bufs, s->n_bufs);
    if (total == (size_t)-1) return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    s->arena_bytes = total;
    return SNG_OK;
oom:
    free(fwd);
    free(bwd);
    return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory while planning");
}
