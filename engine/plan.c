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
        sngi_buf *b = sngi_realloc(s->bufs, sizeof(sngi_buf) * (size_t)nc);
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
    int *z = sngi_realloc(st->zero, sizeof(int) * (size_t)(st->n_zero + 1));
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

/* The sort key carries what it compares, so the comparator needs no shared context: sessions
 * may be planned from several threads at once. */
typedef struct size_key {
    size_t nbytes;
    int first, id;
} size_key;

static int cmp_size_desc(const void *a, const void *b) {
    const size_key *x = a, *y = b;
    if (x->nbytes != y->nbytes) return x->nbytes > y->nbytes ? -1 : 1;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

size_t sngi_plan_offsets(sngi_buf *bufs, int n) {
    int *order = sngi_malloc(sizeof(int) * (size_t)(n + 1));
    char *placed = sngi_calloc((size_t)n + 1, 1);
    span *sp = sngi_malloc(sizeof(span) * (size_t)(n + 1));
    if (!order || !placed || !sp) {
        free(order);
        free(placed);
        free(sp);
        return (size_t)-1;
    }
    size_key *key = sngi_malloc(sizeof(size_key) * (size_t)(n + 1));
    if (!key) {
        free(order);
        free(placed);
        free(sp);
        return (size_t)-1;
    }
    for (int i = 0; i < n; i++) key[i] = (size_key){bufs[i].nbytes, bufs[i].first, i};
    qsort(key, (size_t)n, sizeof(size_key), cmp_size_desc);
    for (int i = 0; i < n; i++) order[i] = key[i].id;
    free(key);
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

/* ---- units: tied-branch batching ----------------------------------------------------------- */
/* The node's name local to its instance ("block1_conv1" for "left/block1_conv1"). */
static const char *local_name(const sngi_node *n) {
    if (!n->instance) return n->name;
    size_t k = strlen(n->instance);
    return strncmp(n->name, n->instance, k) == 0 && n->name[k] == '/' ? n->name + k + 1 : n->name;
}

static int same_attrs(const sngi_node *a, const sngi_node *b) {
    if (a->op != b->op || a->n_in != b->n_in || a->n_kv != b->n_kv || a->n_param != b->n_param ||
        !sngi_shape_eq(&a->shape, &b->shape))
        return 0;
    for (int i = 0; i < a->n_in; i++)
        if (!sngi_shape_eq(&a->in_shape[i], &b->in_shape[i])) return 0;
    for (int i = 0; i < a->n_param; i++)
        if (a->param[i] != b->param[i]) return 0; /* tied: the very same parameters */
    for (int i = 0; i < a->n_kv; i++)
        if (strcmp(a->kv[i].key, b->kv[i].key) || strcmp(a->kv[i].val, b->kv[i].val)) return 0;
    return 1;
}

#define MAX_K 8

/* Groups nodes of tied instances (same parameter scope, same local name, same op, attributes,
 * shapes and parameters) whose inputs are themselves groups in the same member order, or graph
 * inputs of equal shape (then grouped too, so they are stored back to back). Members are ordered
 * by their instance's first node. Anything that does not fit stays alone. */
sng_status sngi_plan_units(sng_session *s) {
    const sng_graph *g = s->g;
    int n = g->n_nodes;
    for (int v = 0; v < n; v++) {
        s->unit_of[v] = v;
        s->member[v] = 0;
        s->n_mem[v] = 1;
    }
    s->n_merged = 0;
    if (s->o.no_branch_batching) return SNG_OK;
    int *lead = sngi_malloc(sizeof(int) * (size_t)(n + 1)), *mem = sngi_malloc(sizeof(int) * (size_t)(n + 1));
    int *rank = sngi_malloc(sizeof(int) * (size_t)(n + 1));
    if (!lead || !mem || !rank) {
        free(lead), free(mem), free(rank);
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    }
    /* Instance rank: the first node id of each instance. */
    for (int v = 0; v < n; v++) {
        rank[v] = v;
        const char *inst = g->nodes[v].instance;
        if (!inst) continue;
        for (int u = 0; u < v; u++)
            if (g->nodes[u].instance && !strcmp(g->nodes[u].instance, inst)) {
                rank[v] = rank[u];
                break;
            }
    }
    for (int v = 0; v < n; v++) lead[v] = -1, mem[v] = 0;
    /* Candidate groups by (scope, local name). */
    for (int v = 0; v < n; v++) {
        const sngi_node *a = &g->nodes[v];
        if (lead[v] >= 0 || !a->instance || !a->batched || a->is_loss || s->fed[v] ||
            (a->op->flags & (SNG_OP_INPUT | SNG_OP_BATCH_COUPLED)))
            continue;
        int ids[MAX_K], k = 0;
        ids[k++] = v;
        for (int u = v + 1; u < n && k < MAX_K; u++) {
            const sngi_node *b = &g->nodes[u];
            if (lead[u] >= 0 || !b->instance || s->fed[u] || strcmp(b->scope, a->scope) ||
                strcmp(local_name(a), local_name(b)) || !strcmp(a->instance, b->instance) ||
                !same_attrs(a, b) || s->needs_grad[u] != s->needs_grad[v] ||
                s->has_bwd[u] != s->has_bwd[v] || s->active[u] != s->active[v])
                continue;
            ids[k++] = u;
        }
        if (k < 2) continue;
        /* Order members by instance rank (insertion sort). */
        for (int i = 1; i < k; i++)
            for (int j = i; j > 0 && rank[ids[j]] < rank[ids[j - 1]]; j--) {
                int t = ids[j];
                ids[j] = ids[j - 1];
                ids[j - 1] = t;
            }
        for (int i = 0; i < k; i++) lead[ids[i]] = ids[0], mem[ids[i]] = i;
    }
    /* Fixpoint: a group stays only if every input position is a group in member order, or K
     * distinct graph inputs of equal shape not claimed in another order. */
    int changed = 1;
    int *in_lead = sngi_malloc(sizeof(int) * (size_t)(n + 1)), *in_mem = sngi_malloc(sizeof(int) * (size_t)(n + 1));
    if (!in_lead || !in_mem) {
        free(lead), free(mem), free(rank), free(in_lead), free(in_mem);
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    }
    while (changed) {
        changed = 0;
        for (int v = 0; v < n; v++) in_lead[v] = -1, in_mem[v] = 0;
        for (int v = 0; v < n && !changed; v++) {
            if (lead[v] != v) continue;
            int ids[MAX_K], k = 0;
            for (int u = v; u < n; u++)
                if (lead[u] == v) ids[mem[u]] = u, k++;
            int ok = 1;
            for (int i = 0; i < g->nodes[v].n_in && ok; i++) {
                int s0 = g->nodes[ids[0]].in[i];
                int all_inputs = 1;
                for (int m = 0; m < k; m++) {
                    int src = g->nodes[ids[m]].in[i];
                    if (!(g->nodes[src].op->flags & SNG_OP_INPUT)) all_inputs = 0;
                }
                if (all_inputs) {
                    for (int m = 0; m < k && ok; m++) {
                        int src = g->nodes[ids[m]].in[i];
                        for (int q = 0; q < m; q++)
                            if (g->nodes[ids[q]].in[i] == src) ok = 0;
                        if (!sngi_shape_eq(&g->nodes[src].shape, &g->nodes[s0].shape)) ok = 0;
                        if (in_lead[src] >= 0 && (in_lead[src] != s0 || in_mem[src] != m)) ok = 0;
                        in_lead[src] = s0, in_mem[src] = m;
                    }
                    continue;
                }
                for (int m = 0; m < k && ok; m++) {
                    int src = g->nodes[ids[m]].in[i];
                    if (lead[src] < 0 || lead[src] != lead[s0] || mem[src] != m) ok = 0;
                }
            }
            if (!ok) {
                for (int m = 0; m < k; m++) lead[ids[m]] = -1, mem[ids[m]] = 0;
                changed = 1;
            }
        }
    }
    for (int v = 0; v < n; v++) {
        if (lead[v] >= 0) {
            s->unit_of[v] = lead[v];
            s->member[v] = mem[v];
            if (lead[v] == v) s->n_merged++;
        } else if (in_lead[v] >= 0) {
            s->unit_of[v] = in_lead[v];
            s->member[v] = in_mem[v];
        }
    }
    for (int v = 0; v < n; v++) s->n_mem[v] = 0;
    for (int v = 0; v < n; v++) s->n_mem[s->unit_of[v]]++;
    free(lead), free(mem), free(rank), free(in_lead), free(in_mem);
    return SNG_OK;
}

/* ---- waves: steps that may run at the same time ----------------------------------------------- */
/* Do forward steps a and b update a common state parameter (running statistics)? */
static int state_conflict(const sng_session *s, int a, int b) {
    const sngi_node *na = &s->g->nodes[a], *nb = &s->g->nodes[b];
    for (int i = 0; i < na->n_param; i++)
        for (int j = 0; j < nb->n_param; j++)
            if (na->param[i] == nb->param[j] && s->g->params[na->param[i]].is_state) return 1;
    return 0;
}

/* Does backward step a write a buffer (input gradient or parameter gradient) that b writes? */
static int bwd_conflict(const sng_session *s, int a, int b) {
    const sngi_node *na = &s->g->nodes[a], *nb = &s->g->nodes[b];
    for (int i = 0; i < na->n_in; i++)
        for (int j = 0; j < nb->n_in; j++)
            if (s->needs_grad[na->in[i]] && s->unit_of[na->in[i]] == s->unit_of[nb->in[j]]) return 1;
    for (int i = 0; i < na->n_param; i++)
        for (int j = 0; j < nb->n_param; j++)
            if (na->param[i] == nb->param[j]) return 1;
    return 0;
}

/* Assigns every step a wave: a forward step runs one wave after the latest step producing its
 * inputs; a backward step one wave after every backward step that writes its output gradient,
 * and never in the same wave as a step that writes the same gradient buffer (accumulation stays
 * serial and in a fixed order). Steps are then reordered by wave (stably), and s->wave_start
 * lists where each wave begins. fwd/bwd (step index per unit) are updated. */
static int assign_waves(sng_session *s, int *fwd, int *bwd) {
    const sng_graph *g = s->g;
    int n = g->n_nodes, ns = s->n_steps;
    int *wave = sngi_calloc((size_t)ns + 1, sizeof(int));
    sngi_step *sorted = sngi_malloc(sizeof(sngi_step) * (size_t)(ns + 1));
    if (!wave || !sorted) {
        free(wave), free(sorted);
        return -1;
    }
    /* Forward: a fixpoint, since a unit stands where its last member is and a consumer of an
     * earlier member may come before it in the step list. */
    int n_fwd_waves = 0;
    int *minw = sngi_calloc((size_t)ns + 1, sizeof(int));
    if (!minw) {
        free(wave), free(sorted);
        return -1;
    }
fixpoint:
    for (int changed = 1, rounds = 0; changed && rounds <= 2 * ns; rounds++) {
        changed = 0;
        for (int i = 0; i < s->n_fwd_steps; i++) {
            int u = s->steps[i].node, w = minw[i];
            for (int v = 0; v < n; v++) {
                if (s->unit_of[v] != u) continue;
                for (int k = 0; k < g->nodes[v].n_in; k++) {
                    int pu = s->unit_of[g->nodes[v].in[k]];
                    if (fwd[pu] >= 0 && wave[fwd[pu]] + 1 > w) w = wave[fwd[pu]] + 1;
                }
            }
            if (w != wave[i]) wave[i] = w, changed = 1;
        }
    }
    /* Forward steps that update the same running state (tied batchnorm statistics) never run
     * together: push the later one a wave on and settle the waves again. */
    for (int i = 0; i < s->n_fwd_steps; i++)
        for (int j = 0; j < i; j++)
            if (wave[i] == wave[j] && state_conflict(s, s->steps[i].node, s->steps[j].node)) {
                minw[i] = wave[i] + 1;
                goto fixpoint;
            }
    free(minw);
    for (int i = 0; i < s->n_fwd_steps; i++)
        if (wave[i] + 1 > n_fwd_waves) n_fwd_waves = wave[i] + 1;
    /* Backward steps in decreasing forward wave (stable): every step writing a unit's output
     * gradient (a consumer, hence a later forward wave) is then assigned before that unit. */
    int nb = ns - s->n_fwd_steps;
    int *bord = sngi_malloc(sizeof(int) * (size_t)(nb + 1));
    sngi_step *bsteps = sngi_malloc(sizeof(sngi_step) * (size_t)(nb + 1));
    if (!bord || !bsteps) {
        free(wave), free(sorted), free(bord), free(bsteps);
        return -1;
    }
    for (int j = 0; j < nb; j++) bord[j] = j;
    for (int j = 1; j < nb; j++) /* insertion sort, stable */
        for (int q = j; q > 0; q--) {
            int wa = wave[fwd[s->steps[s->n_fwd_steps + bord[q - 1]].node]];
            int wb = wave[fwd[s->steps[s->n_fwd_steps + bord[q]].node]];
            if (wa >= wb) break;
            int t = bord[q];
            bord[q] = bord[q - 1];
            bord[q - 1] = t;
        }
    for (int j = 0; j < nb; j++) bsteps[j] = s->steps[s->n_fwd_steps + bord[j]];
    memcpy(s->steps + s->n_fwd_steps, bsteps, sizeof(sngi_step) * (size_t)nb);
    free(bord);
    free(bsteps);
    for (int i = s->n_fwd_steps; i < ns; i++) bwd[s->steps[i].node] = i;
    for (int i = s->n_fwd_steps; i < ns; i++) {
        int u = s->steps[i].node, w = n_fwd_waves;
        for (int c = 0; c < n; c++) {
            int cu = s->unit_of[c];
            if (bwd[cu] < 0 || bwd[cu] >= i) continue;
            for (int k = 0; k < g->nodes[c].n_in; k++)
                if (s->unit_of[g->nodes[c].in[k]] == u && wave[bwd[cu]] + 1 > w)
                    w = wave[bwd[cu]] + 1;
        }
        for (int again = 1; again;) {
            again = 0;
            for (int j = s->n_fwd_steps; j < i; j++)
                if (wave[j] == w && bwd_conflict(s, u, s->steps[j].node)) {
                    w++;
                    again = 1;
                    break;
                }
        }
        wave[i] = w;
    }
    /* Stable reorder by wave (forward waves all precede backward ones). */
    int max_w = 0;
    for (int i = 0; i < ns; i++)
        if (wave[i] > max_w) max_w = wave[i];
    s->wave_start = sngi_calloc((size_t)max_w + 2, sizeof(int));
    s->time_of = sngi_calloc((size_t)ns + 1, sizeof(int));
    if (!s->wave_start || !s->time_of) {
        free(wave), free(sorted);
        return -1;
    }
    int k = 0;
    s->n_waves = 0;
    for (int w = 0; w <= max_w; w++) {
        int begin = k;
        for (int i = 0; i < ns; i++)
            if (wave[i] == w) {
                s->time_of[k] = s->n_waves;
                sorted[k++] = s->steps[i];
            }
        if (k > begin) s->wave_start[s->n_waves++] = begin;
        if (w + 1 == n_fwd_waves) s->n_fwd_waves = s->n_waves;
    }
    s->wave_start[s->n_waves] = ns;
    memcpy(s->steps, sorted, sizeof(sngi_step) * (size_t)ns);
    for (int i = 0; i < ns; i++) {
        if (s->steps[i].pass == SNGI_PASS_FWD)
            fwd[s->steps[i].node] = i;
        else
            bwd[s->steps[i].node] = i;
    }
    free(wave);
    free(sorted);
    return 0;
}

/* ---- the plan ----------------------------------------------------------------------------------- */
sng_status sngi_plan_build(sng_session *s) {
    const sng_graph *g = s->g;
    int n = g->n_nodes, batch = s->o.batch, cap = 0;
    int *fwd = sngi_malloc(sizeof(int) * (size_t)(n + 1)), *bwd = sngi_malloc(sizeof(int) * (size_t)(n + 1));
    int *last_mem = sngi_malloc(sizeof(int) * (size_t)(n + 1));
    s->steps = sngi_calloc((size_t)(2 * n + 1), sizeof(sngi_step));
    if (!fwd || !bwd || !last_mem || !s->steps) goto oom;
    for (int v = 0; v < n; v++) fwd[v] = bwd[v] = -1, last_mem[v] = -1;
    for (int v = 0; v < n; v++) last_mem[s->unit_of[v]] = v;
    /* A unit runs where its last member stands in topological order: every member's inputs are
     * ready by then. Indexed by leader. */
    for (int v = 0; v < n; v++) {
        int u = s->unit_of[v];
        if (last_mem[u] != v || !s->active[u] || (g->nodes[u].op->flags & SNG_OP_INPUT) ||
            s->fed[u])
            continue;
        s->steps[s->n_steps] = (sngi_step){.node = u, .pass = SNGI_PASS_FWD, .ws = -1};
        fwd[u] = s->n_steps++;
    }
    s->n_fwd_steps = s->n_steps;
    for (int i = s->n_fwd_steps - 1; i >= 0; i--) {
        int u = s->steps[i].node;
        if (!s->has_bwd[u]) continue;
        s->steps[s->n_steps] = (sngi_step){.node = u, .pass = SNGI_PASS_BWD, .ws = -1};
        bwd[u] = s->n_steps++;
    }
    if (s->n_steps && assign_waves(s, fwd, bwd)) goto oom;
    int end = s->n_steps ? s->n_steps - 1 : 0;
    for (int v = 0; v < n; v++) s->val_buf[v] = s->grad_buf[v] = s->saved_buf[v] = -1;

    /* Values, one buffer per unit of K * batch samples. */
    for (int u = 0; u < n; u++) {
        const sngi_node *nd = &g->nodes[u];
        if (s->unit_of[u] != u || !s->active[u]) continue;
        int K = s->n_mem[u];
        size_t bytes =
            nd->batched ? (size_t)K * batch * (size_t)sngi_shape_numel(&nd->shape) * 4 : 4;
        int first = fwd[u] >= 0 ? fwd[u] : 0, last = first, pinned = 0;
        for (int v = 0; v < n; v++) {
            if (s->unit_of[v] != u) continue;
            const sngi_node *mv = &g->nodes[v];
            pinned |= (mv->op->flags & SNG_OP_INPUT) || s->is_out[v] || mv->is_loss || s->fed[v];
            for (int c = v + 1; c < n; c++) {
                const sngi_node *cn = &g->nodes[c];
                int cu = s->unit_of[c];
                if (!s->active[c]) continue;
                for (int k = 0; k < cn->n_in; k++) {
                    if (cn->in[k] != v) continue;
                    if (fwd[cu] > last) last = fwd[cu];
                    if (bwd[cu] > last && (cn->op->flags & SNG_OP_BWD_NEEDS_IN)) last = bwd[cu];
                }
            }
        }
        if (bwd[u] > last && (nd->op->flags & SNG_OP_BWD_NEEDS_OUT)) last = bwd[u];
        if (pinned) first = 0, last = end;
        if ((s->val_buf[u] = add_buf(s, &cap, SNGI_BUF_VALUE, u, bytes, first, last)) < 0) goto oom;
    }
    /* Output gradients: live from their first writer (a consumer's backward) to the unit's own
     * backward; zeroed right before the first writer runs. */
    for (int u = 0; u < n; u++) {
        const sngi_node *nd = &g->nodes[u];
        if (s->unit_of[u] != u || !s->needs_grad[u] || nd->is_loss) continue;
        size_t bytes = (size_t)s->n_mem[u] * batch * (size_t)sngi_shape_numel(&nd->shape) * 4;
        int first = -1, caller_seeded = 0, is_input = 0;
        for (int v = 0; v < n; v++) {
            if (s->unit_of[v] != u) continue;
            caller_seeded |= g->n_losses == 0 && g->nodes[v].is_output;
            is_input |= (g->nodes[v].op->flags & SNG_OP_INPUT) != 0;
            for (int c = v + 1; c < n; c++) {
                const sngi_node *cn = &g->nodes[c];
                int cu = s->unit_of[c];
                if (!s->has_bwd[cu]) continue;
                for (int k = 0; k < cn->n_in; k++)
                    if (cn->in[k] == v && (first < 0 || bwd[cu] < first)) first = bwd[cu];
            }
        }
        int last = bwd[u] >= 0 ? bwd[u] : end;
        if (is_input || caller_seeded) last = end;
        if (caller_seeded) first = s->n_fwd_steps;
        if (first < 0) first = last;
        int b = add_buf(s, &cap, SNGI_BUF_GRAD, u, bytes, first < last ? first : last, last);
        if (b < 0) goto oom;
        s->grad_buf[u] = b;
        if (!caller_seeded && first < s->n_steps && add_zero(&s->steps[first], b)) goto oom;
    }
    /* Saved state and workspaces, sized for the unit's K * batch. */
    for (int i = 0; i < s->n_steps; i++) {
        sngi_step *st = &s->steps[i];
        const sngi_node *nd = &g->nodes[st->node];
        int nb = s->n_mem[st->node] * batch;
        if (st->pass == SNGI_PASS_FWD && nd->op->saved) {
            size_t bytes = nd->op->saved(nd, nb);
            if (bytes) {
                int last = bwd[st->node] >= 0 ? bwd[st->node] : i;
                if ((s->saved_buf[st->node] =
                         add_buf(s, &cap, SNGI_BUF_SAVED, st->node, bytes, i, last)) < 0)
                    goto oom;
            }
        }
        if (nd->op->workspace) {
            size_t bytes = nd->op->workspace(nd, nb, st->pass);
            if (bytes && (st->ws = add_buf(s, &cap, SNGI_BUF_WS, st->node, bytes, i, i)) < 0)
                goto oom;
        }
    }
    /* Lifetimes in waves, not steps: buffers of steps that run at the same time never share
     * memory. */
    for (int b = 0; b < s->n_bufs && s->n_steps; b++) {
        s->bufs[b].first = s->time_of[s->bufs[b].first];
        s->bufs[b].last = s->time_of[s->bufs[b].last];
    }
    /* Lower bound and naive size. */
    s->naive_bytes = 0;
    for (int b = 0; b < s->n_bufs; b++) s->naive_bytes += (int64_t)s->bufs[b].nbytes;
    s->lower_bound = 0;
    for (int t = 0; t < (s->n_waves ? s->n_waves : 1); t++) {
        int64_t live = 0;
        for (int b = 0; b < s->n_bufs; b++)
            if (s->bufs[b].first <= t && t <= s->bufs[b].last) live += (int64_t)s->bufs[b].nbytes;
        if (live > s->lower_bound) s->lower_bound = live;
    }
    free(fwd);
    free(bwd);
    free(last_mem);
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
    free(last_mem);
    return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory while planning");
}
