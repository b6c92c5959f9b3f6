/*
 * session.c — a compiled graph made runnable: autodiff, plan, arena and parameter slab, and the
 * executor that runs the step schedule. Kernels get pointers into the arena/slab through
 * sngi_exec; nothing is allocated per step.
 */
#include "config.h"

#include <blis.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

/* ---- BLIS kernel choice ----------------------------------------------------------------------- */
static pthread_once_t blis_once = PTHREAD_ONCE_INIT;

/* BLIS picks its kernels from the CPU, or from BLIS_ARCH_TYPE when the host program sets it
 * (the sngraph program does, see cli/main.c): the library changes no environment. */
static void blis_init_once(void) { bli_init(); }

void sngi_blis_init(void) { pthread_once(&blis_once, blis_init_once); }

const char *sngi_blis_arch(void) {
    sngi_blis_init();
    return bli_arch_string(bli_arch_query_id());
}

/* ---- session life cycle ------------------------------------------------------------------------ */
void sng_session_opts_init(sng_session_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->training = 1;
    o->seed = 1;
}

static int default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void sng_session_free(sng_session *s) {
    if (!s) return;
    if (s->o.unplanned)
        for (int b = 0; b < s->n_bufs; b++) free(s->bufs[b].ptr);
    free(s->arena);
    for (int i = 0; i < s->n_steps; i++) {
        free(s->steps[i].zero);
        free(s->steps[i].in);
    }
    free(s->steps);
    free(s->bufs);
    free(s->step_time);
    free(s->wave_start);
    free(s->time_of);
    free(s->unit_of);
    free(s->member);
    free(s->n_mem);
    free(s->val_buf);
    free(s->grad_buf);
    free(s->saved_buf);
    free(s->needs_grad);
    free(s->has_bwd);
    free(s->active);
    free(s->fed);
    free(s->is_out);
    free(s->slab);
    free(s->pval);
    free(s->pgrad);
    if (s->kinks)
        for (int i = 0; i < s->g->n_nodes; i++) free(s->kinks[i]);
    free(s->kinks);
    free(s);
}

static sng_status alloc_slab(sng_session *s) {
    const sng_graph *g = s->g;
    size_t nv = 0, ng = 0;
    for (int i = 0; i < g->n_params; i++) {
        size_t k = (size_t)sngi_shape_numel(&g->params[i].shape);
        k = (k + 15) / 16 * 16; /* 64-byte aligned tensors */
        nv += k;
        if (s->o.training && g->params[i].trainable) ng += k;
    }
    s->n_param_floats = nv;
    s->opt_floats = (size_t)s->o.opt_slots * ng;
    s->slab_floats = nv + ng + s->opt_floats;
    s->pval = sngi_calloc((size_t)g->n_params + 1, sizeof(float *));
    s->pgrad = sngi_calloc((size_t)g->n_params + 1, sizeof(float *));
    s->slab = sngi_aligned_alloc(64, (s->slab_floats * 4 + 63) / 64 * 64 + 64);
    if (!s->pval || !s->pgrad || !s->slab)
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory for %zu parameter bytes",
                         s->slab_floats * 4);
    memset(s->slab, 0, s->slab_floats * 4);
    size_t ov = 0, og = nv;
    for (int i = 0; i < g->n_params; i++) {
        size_t k = (size_t)sngi_shape_numel(&g->params[i].shape);
        s->pval[i] = s->slab + ov;
        sngi_param_init(&g->params[i], s->pval[i], s->o.seed);
        ov += (k + 15) / 16 * 16;
        if (s->o.training && g->params[i].trainable) {
            s->pgrad[i] = s->slab + og;
            og += (k + 15) / 16 * 16;
        }
    }
    s->opt_state = s->slab + nv + ng;
    return SNG_OK;
}

static sng_status alloc_arena(sng_session *s) {
    if (s->o.unplanned) {
        for (int b = 0; b < s->n_bufs; b++) {
            s->bufs[b].ptr = sngi_aligned_alloc(64, s->bufs[b].nbytes);
            if (!s->bufs[b].ptr) return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
            memset(s->bufs[b].ptr, 0, s->bufs[b].nbytes);
        }
        return SNG_OK;
    }
    s->arena = sngi_aligned_alloc(64, s->arena_bytes ? s->arena_bytes : 64);
    if (!s->arena)
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory for a %zu-byte arena",
                         s->arena_bytes);
    /* Touch the arena once so the first step does not pay the page faults. */
    memset(s->arena, 0, s->arena_bytes);
    for (int b = 0; b < s->n_bufs; b++) {
        /* The planner placed every buffer inside the arena it sized. */
        SNG_ASSERT(s->bufs[b].offset + s->bufs[b].nbytes <= s->arena_bytes);
        s->bufs[b].ptr = (char *)s->arena + s->bufs[b].offset;
    }
    return SNG_OK;
}

/* Gives every step pointer arrays sized to its node (no fixed limit on inputs: an add or a
 * concat of a thousand inputs works). One allocation per step, holding all four arrays. */
static sng_status alloc_step_io(sng_session *s) {
    for (int i = 0; i < s->n_steps; i++) {
        sngi_step *st = &s->steps[i];
        const sngi_node *nd = &s->g->nodes[st->node];
        size_t ni = (size_t)nd->n_in + 1, np = (size_t)nd->n_param + 1;
        void **blk = sngi_calloc(2 * ni + 2 * np, sizeof(void *));
        if (!blk) return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
        /* Separate typed arrays carved from one block of pointer-sized slots. */
        st->in = (const float **)blk;
        st->din = (float **)(blk + ni);
        st->p = (float **)(blk + 2 * ni);
        st->dp = (float **)(blk + 2 * ni + np);
    }
    return SNG_OK;
}

sng_status sng_session_new(sng_ctx *ctx, const sng_graph *g, const sng_session_opts *opts,
                           sng_session **out) {
    *out = NULL;
    if (!opts || opts->batch < 1 || opts->batch > (1 << 20))
        return sngi_fail(ctx, SNG_ERR_USAGE, "batch must be between 1 and %d", 1 << 20);
    if (opts->threads < 0 || opts->threads > SNG_MAX_THREADS)
        return sngi_fail(ctx, SNG_ERR_USAGE, "threads must be between 0 (every core) and %d, "
                         "got %d: more threads than that only oversubscribe the cores",
                         SNG_MAX_THREADS, opts->threads);
    sngi_blis_init();
    omp_set_max_active_levels(2); /* concurrent steps each run their own small team */
    sng_session *s = sngi_calloc(1, sizeof *s);
    if (!s) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    s->ctx = ctx;
    s->g = g;
    s->o = *opts;
    s->one = 1.0f;
    s->n_threads = opts->threads > 0 ? opts->threads : default_threads();
    int n = g->n_nodes + 1;
    s->unit_of = sngi_calloc((size_t)n, sizeof(int));
    s->member = sngi_calloc((size_t)n, sizeof(int));
    s->n_mem = sngi_calloc((size_t)n, sizeof(int));
    s->val_buf = sngi_calloc((size_t)n, sizeof(int));
    s->grad_buf = sngi_calloc((size_t)n, sizeof(int));
    s->saved_buf = sngi_calloc((size_t)n, sizeof(int));
    s->needs_grad = sngi_calloc((size_t)n, 1);
    s->has_bwd = sngi_calloc((size_t)n, 1);
    s->active = sngi_calloc((size_t)n, 1);
    s->fed = sngi_calloc((size_t)n, 1);
    s->is_out = sngi_calloc((size_t)n, 1);
    sng_status st = SNG_OK;
    if (!s->fed || !s->is_out) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < g->n_outputs; i++)
        if (!opts->outputs) s->is_out[g->outputs[i]] = 1;
    for (int i = 0; !st && opts->outputs && opts->outputs[i]; i++) {
        int v = sngi_graph_resolve(g, opts->outputs[i]);
        if (v < 0) st = sngi_fail(ctx, SNG_ERR_USAGE, "no node '%s' in the model", opts->outputs[i]);
        else s->is_out[v] = 1;
    }
    for (int i = 0; !st && opts->feeds && opts->feeds[i]; i++) {
        int v = sngi_graph_resolve(g, opts->feeds[i]);
        if (v < 0) st = sngi_fail(ctx, SNG_ERR_USAGE, "no node '%s' in the model", opts->feeds[i]);
        else s->fed[v] = 1;
    }
    if (!st && (opts->outputs || opts->feeds) && opts->training)
        st = sngi_fail(ctx, SNG_ERR_USAGE, "outputs/feeds are for inference sessions");
    if (!st && (!s->unit_of || !s->member || !s->n_mem || !s->val_buf || !s->grad_buf || !s->saved_buf || !s->needs_grad || !s->has_bwd ||
        !s->active))
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    if (!st) st = sngi_autodiff(s);
    if (!st) st = sngi_plan_units(s);
    if (!st) st = sngi_plan_build(s);
    if (!st && opts->max_memory > 0) {
        int64_t need = (int64_t)s->arena_bytes;
        for (int i = 0; i < g->n_params; i++) {
            int64_t k = sngi_shape_numel(&g->params[i].shape);
            need += k * 4 * (1 + (opts->training && g->params[i].trainable) * (1 + opts->opt_slots));
        }
        if (need > opts->max_memory) {
            /* Find the largest batch that fits (the arena grows about linearly in the batch). */
            int fit = 0;
            for (int b = opts->batch - 1; b >= 1 && !fit; b = b > 8 ? b * 3 / 4 : b - 1) {
                sng_session_opts o2 = *opts;
                o2.batch = b;
                o2.max_memory = 0;
                sng_session *t;
                if (sng_session_new(NULL, g, &o2, &t) == SNG_OK) {
                    sng_plan_stats ps;
                    sng_session_plan_stats(t, &ps);
                    if (ps.arena_bytes + ps.slab_bytes <= opts->max_memory) fit = b;
                    sng_session_free(t);
                }
            }
            st = sngi_fail(ctx, SNG_ERR_BUDGET,
                           "%lld bytes needed at batch %d but --max-memory is %lld; %s%d",
                           (long long)need, opts->batch, (long long)opts->max_memory,
                           fit ? "the largest batch that fits is " : "no batch fits, not even ",
                           fit ? fit : 1);
        }
    }
    if (!st) st = alloc_slab(s);
    if (!st) st = alloc_arena(s);
    if (!st) st = alloc_step_io(s);
    if (st) {
        sng_session_free(s);
        return st;
    }
    *out = s;
    return SNG_OK;
}

void sng_session_plan_stats(const sng_session *s, sng_plan_stats *out) {
    memset(out, 0, sizeof *out);
    out->naive_bytes = s->naive_bytes;
    out->lower_bound = s->lower_bound;
    out->arena_bytes = (int64_t)s->arena_bytes;
    out->slab_bytes = (int64_t)s->slab_floats * 4;
    out->n_buffers = s->n_bufs;
    out->n_steps = s->n_steps;
}

/* ---- lookup ------------------------------------------------------------------------------------- */
static int64_t node_numel(const sng_session *s, int v) {
    const sngi_node *nd = &s->g->nodes[v];
    return nd->batched ? (int64_t)s->o.batch * sngi_shape_numel(&nd->shape) : 1;
}

float *sngi_node_ptr(const sng_session *s, int v, int grad) {
    int u = s->unit_of[v];
    int b = grad ? s->grad_buf[u] : s->val_buf[u];
    if (b < 0) return NULL;
    return (float *)s->bufs[b].ptr + (size_t)s->member[v] * (size_t)node_numel(s, v);
}

float *sng_session_value(sng_session *s, const char *node, int64_t *n_out) {
    int v = sngi_graph_resolve(s->g, node);
    float *p = v >= 0 ? sngi_node_ptr(s, v, 0) : NULL;
    if (p && n_out) *n_out = node_numel(s, v);
    return p;
}

float *sng_session_grad(sng_session *s, const char *node, int64_t *n_out) {
    int v = sngi_graph_resolve(s->g, node);
    float *p = v >= 0 && s->needs_grad[v] ? sngi_node_ptr(s, v, 1) : NULL;
    if (p && n_out) *n_out = node_numel(s, v);
    return p;
}

static int find_param(const sng_session *s, const char *name) {
    for (int i = 0; i < s->g->n_params; i++)
        if (strcmp(s->g->params[i].name, name) == 0) return i;
    return -1;
}

float *sng_session_param(sng_session *s, const char *name, int64_t *n_out) {
    int i = find_param(s, name);
    if (i < 0) return NULL;
    if (n_out) *n_out = sngi_shape_numel(&s->g->params[i].shape);
    return s->pval[i];
}

float *sng_session_param_grad(sng_session *s, const char *name, int64_t *n_out) {
    int i = find_param(s, name);
    if (i < 0 || !s->pgrad[i]) return NULL;
    if (n_out) *n_out = sngi_shape_numel(&s->g->params[i].shape);
    return s->pgrad[i];
}

void sng_session_set_step(sng_session *s, int64_t step) { s->step = step; }

/* ---- execution ---------------------------------------------------------------------------------- */
static void run_step(sng_session *s, const sngi_step *st, int n_threads) {
    const sngi_node *nd = &s->g->nodes[st->node];
    SNG_ASSERT(st->in); /* alloc_step_io gave every step its arrays */
    const float **in = st->in;
    float **din = st->din, **p = st->p, **dp = st->dp;
    /* A unit's leader reads member 0 of each input unit: the K slices follow contiguously. */
    for (int k = 0; k < nd->n_in; k++) {
        int u = nd->in[k];
        in[k] = sngi_node_ptr(s, u, 0);
        din[k] = s->needs_grad[u] ? sngi_node_ptr(s, u, 1) : NULL;
    }
    for (int j = 0; j < nd->n_param; j++) {
        p[j] = s->pval[nd->param[j]];
        dp[j] = s->pgrad[nd->param[j]];
    }
    sngi_exec x = {
        .n = s->o.batch * s->n_mem[st->node],
        .training = s->o.training,
        .in = in,
        .din = din,
        .out = sngi_node_ptr(s, st->node, 0),
        .dout = nd->is_loss ? &s->one : sngi_node_ptr(s, st->node, 1),
        .p = p,
        .dp = dp,
        .ws = st->ws >= 0 ? s->bufs[st->ws].ptr : NULL,
        .saved = s->saved_buf[st->node] >= 0 ? s->bufs[s->saved_buf[st->node]].ptr : NULL,
        .n_threads = n_threads,
        .seed = s->o.seed,
        .step = s->step,
        .kinks = s->kinks && s->kink_mode ? s->kinks[st->node] : NULL,
        .kink_mode = s->kink_mode,
    };
    double t0 = s->step_time ? omp_get_wtime() : 0;
    for (int z = 0; z < st->n_zero; z++) memset(s->bufs[st->zero[z]].ptr, 0, s->bufs[st->zero[z]].nbytes);
    if (st->pass == SNGI_PASS_FWD)
        nd->op->forward(nd, &x);
    else
        nd->op->backward(nd, &x);
    if (s->step_time) s->step_time[st - s->steps] += omp_get_wtime() - t0;
}

sng_status sngi_session_kinks(sng_session *s, int mode) {
    const sng_graph *g = s->g;
    if (mode != SNGI_KINK_OFF && !s->kinks) {
        if (!(s->kinks = sngi_calloc((size_t)g->n_nodes, sizeof *s->kinks)))
            return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
        for (int v = 0; v < g->n_nodes; v++) {
            const sngi_node *nd = &g->nodes[v];
            if (!s->active[v] || s->unit_of[v] != v || !(nd->op->flags & SNG_OP_KINKS)) continue;
            int64_t cnt = (int64_t)s->o.batch * s->n_mem[v] * sngi_shape_numel(&nd->shape);
            if (!(s->kinks[v] = sngi_calloc((size_t)cnt, sizeof(int32_t))))
                return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory for kink freezing");
        }
    }
    s->kink_mode = mode;
    return SNG_OK;
}

int sngi_session_profile(sng_session *s) {
    if (!s->step_time) s->step_time = sngi_calloc((size_t)s->n_steps + 1, sizeof(double));
    return s->step_time ? 0 : -1;
}

/* Runs waves [w0, w1): a wave of one step gets every thread; the steps of a wider wave run
 * side by side, each with its share of the threads (BLIS through a per-call rntm, OpenMP loops
 * through the nested team size), so cores are never oversubscribed. */
static void run_waves(sng_session *s, int w0, int w1) {
    for (int w = w0; w < w1; w++) {
        int a = s->wave_start[w], b = s->wave_start[w + 1], k = b - a;
        if (k == 1 || s->n_threads == 1) {
            for (int i = a; i < b; i++) run_step(s, &s->steps[i], s->n_threads);
            continue;
        }
        int team = k < s->n_threads ? k : s->n_threads;
        int share = s->n_threads / team;
#pragma omp parallel for num_threads(team) schedule(dynamic, 1)
        for (int i = a; i < b; i++) {
            omp_set_num_threads(share);
            run_step(s, &s->steps[i], share);
        }
    }
}

sng_status sng_session_forward(sng_session *s, double *loss) {
    omp_set_num_threads(s->n_threads);
    run_waves(s, 0, s->n_fwd_waves);
    double total = 0;
    for (int i = 0; i < s->g->n_losses; i++) {
        int v = s->g->losses[i];
        if (!s->active[v]) continue;
        total += (double)s->g->nodes[v].loss_weight * *sngi_node_ptr(s, v, 0);
    }
    if (loss) *loss = total;
    s->forward_done = 1;
    if (!isfinite(total))
        return sngi_fail(s->ctx, SNG_ERR_DATA, "the loss is not finite (%g): diverged", total);
    return SNG_OK;
}

sng_status sng_session_backward(sng_session *s) {
    if (!s->o.training) return sngi_fail(s->ctx, SNG_ERR_USAGE, "backward in an inference session");
    if (!s->forward_done) return sngi_fail(s->ctx, SNG_ERR_USAGE, "backward before forward");
    omp_set_num_threads(s->n_threads);
    /* Parameter gradients are overwritten each step: clear them (one contiguous region). */
    size_t ng = s->slab_floats - s->n_param_floats - s->opt_floats;
    memset(s->slab + s->n_param_floats, 0, ng * 4);
    run_waves(s, s->n_fwd_waves, s->n_waves);
    s->forward_done = 0;
    return SNG_OK;
}
