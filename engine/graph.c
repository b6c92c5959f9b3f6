/*
 * graph.c — building and compiling the static graph: nodes and aliases added by the XML reader
 * are resolved to ids, sorted topologically (cycles reported), op attributes parsed, shapes
 * inferred and parameters created (tied instances share them by scope-qualified name).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "sng_int.h"

#define ALIAS_MAX_DEPTH 64

sng_graph *sngi_graph_new(void) { return sngi_calloc(1, sizeof(sng_graph)); }

static void node_free(sngi_node *n) {
    free(n->name);
    free(n->elem);
    free(n->instance);
    free(n->scope);
    free(n->attr);
    for (int i = 0; i < n->n_kv; i++) {
        free(n->kv[i].key);
        free(n->kv[i].val);
    }
    free(n->kv);
    for (int i = 0; i < n->n_in; i++) free(n->in_ref[i]);
    free(n->in_ref);
    free(n->in);
    free(n->in_shape);
    free(n->param);
}

void sng_graph_free(sng_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++) node_free(&g->nodes[i]);
    free(g->nodes);
    for (int i = 0; i < g->n_params; i++) free(g->params[i].name);
    free(g->params);
    free(g->outputs);
    for (int i = 0; i < g->n_outputs; i++) free(g->out_ref[i]);
    free(g->out_ref);
    free(g->out_line);
    free(g->losses);
    free(g->inputs);
    for (int i = 0; i < g->cfg.n; i++) {
        free(g->cfg.kv[i].key);
        free(g->cfg.kv[i].val);
    }
    free(g->cfg.kv);
    free(g->cfg.files);
    for (int i = 0; i < g->n_strings; i++) free(g->strings[i]);
    free(g->strings);
    for (int i = 0; i < g->n_alias; i++) {
        free(g->alias_from[i]);
        free(g->alias_to[i]);
    }
    free(g->alias_from);
    free(g->alias_to);
    free(g->alias_file);
    free(g->alias_line);
    free(g->name);
    free(g->file);
    free(g->xml_text);
    free(g->xml_expanded);
    free(g);
}

/* Grows *arr (of elem bytes each) to hold at least need elements. Returns 0 or -1 on OOM. */
static int grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *p = sngi_realloc(*arr, (size_t)nc * elem);
    if (!p) return -1;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return 0;
}

char *sngi_graph_intern(sng_graph *g, const char *s) {
    for (int i = 0; i < g->n_strings; i++)
        if (strcmp(g->strings[i], s) == 0) return g->strings[i];
    char **p = sngi_realloc(g->strings, sizeof(char *) * (size_t)(g->n_strings + 1));
    if (!p) return NULL;
    g->strings = p;
    if (!(p[g->n_strings] = sngi_strdup(s))) return NULL;
    return p[g->n_strings++];
}

int sngi_graph_find(const sng_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return i;
    return -1;
}

sng_status sngi_graph_add_node(sng_ctx *ctx, sng_graph *g, const char *name, const char *elem,
                               const char *file, int line, int *out_id) {
    int prev = sngi_graph_find(g, name);
    if (prev >= 0)
        return sngi_fail_at(ctx, SNG_ERR_MODEL, file, line,
                            "<%s name=\"%s\">: duplicate name (first defined at %s:%d)", elem, name,
                            g->nodes[prev].file, g->nodes[prev].line);
    for (int i = 0; i < g->n_alias; i++)
        if (strcmp(g->alias_from[i], name) == 0)
            return sngi_fail_at(ctx, SNG_ERR_MODEL, file, line,
                                "<%s name=\"%s\">: duplicate name (an instance or subgraph input "
                                "has this name)",
                                elem, name);
    if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(sngi_node)))
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sngi_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = sngi_strdup(name);
    n->elem = sngi_strdup(elem);
    n->file = sngi_graph_intern(g, file ? file : "(model)");
    n->line = line;
    n->trainable = 1;
    n->batched = 1;
    n->loss_weight = 1.0f;
    if (!n->name || !n->elem || !n->file) {
        node_free(n);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    *out_id = g->n_nodes++;
    return SNG_OK;
}

sng_status sngi_graph_add_alias(sng_ctx *ctx, sng_graph *g, const char *from, const char *to,
                                const char *file, int line) {
    if (grow((void **)&g->alias_from, &g->cap_alias, g->n_alias + 1, sizeof(char *)))
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    /* The other arrays grow in step with alias_from. */
    char **t = sngi_realloc(g->alias_to, sizeof(char *) * (size_t)g->cap_alias);
    if (!t) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    g->alias_to = t;
    const char **f = sngi_realloc(g->alias_file, sizeof(char *) * (size_t)g->cap_alias);
    if (!f) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    g->alias_file = f;
    int *l = sngi_realloc(g->alias_line, sizeof(int) * (size_t)g->cap_alias);
    if (!l) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    g->alias_line = l;
    if (!(f[g->n_alias] = sngi_graph_intern(g, file ? file : "(model)")))
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    l[g->n_alias] = line;
    g->alias_from[g->n_alias] = sngi_strdup(from);
    g->alias_to[g->n_alias] = sngi_strdup(to);
    if (!g->alias_from[g->n_alias] || !g->alias_to[g->n_alias]) {
        free(g->alias_from[g->n_alias]);
        free(g->alias_to[g->n_alias]);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    g->n_alias++;
    return SNG_OK;
}

sng_status sngi_node_add_kv(sng_ctx *ctx, sng_graph *g, int id, const char *key, const char *val,
                            int line) {
    sngi_node *n = &g->nodes[id];
    sngi_kv *kv = sngi_realloc(n->kv, sizeof(sngi_kv) * (size_t)(n->n_kv + 1));
    if (!kv) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    n->kv = kv;
    kv[n->n_kv].key = sngi_strdup(key);
    kv[n->n_kv].val = sngi_strdup(val);
    kv[n->n_kv].line = line;
    kv[n->n_kv].used = 0;
    if (!kv[n->n_kv].key || !kv[n->n_kv].val) {
        free(kv[n->n_kv].key);
        free(kv[n->n_kv].val);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    n->n_kv++;
    return SNG_OK;
}

sng_status sngi_node_add_in(sng_ctx *ctx, sng_graph *g, int id, const char *ref) {
    sngi_node *n = &g->nodes[id];
    char **r = sngi_realloc(n->in_ref, sizeof(char *) * (size_t)(n->n_in + 1));
    if (!r) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    n->in_ref = r;
    if (!(r[n->n_in] = sngi_strdup(ref))) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    n->n_in++;
    return SNG_OK;
}

/* ---- parameters ------------------------------------------------------------------------------- */
static sng_status param_add(sng_ctx *ctx, sng_graph *g, int node_id, const char *full,
                            const sngi_shape *shape, sngi_init init, int fan_in, int fan_out,
                            int *out_id);

sng_status sngi_graph_param(sng_ctx *ctx, sng_graph *g, int node_id, const char *pname,
                            const sngi_shape *shape, sngi_init init, int fan_in, int fan_out,
                            int *out_id) {
    sngi_node *n = &g->nodes[node_id];
    /* The parameter's name: scope + the node's name local to its instance + pname. Two
     * instances with the same scope produce the same name, which is what ties them. */
    const char *local = n->name;
    if (n->instance) {
        size_t k = strlen(n->instance);
        if (strncmp(n->name, n->instance, k) == 0 && n->name[k] == '/') local = n->name + k + 1;
    }
    /* Sized to fit: a cut name would tie distinct parameters together. */
    const char *scope = n->scope && *n->scope ? n->scope : "";
    size_t len = strlen(scope) + strlen(local) + strlen(pname) + 3;
    char *full = sngi_malloc(len);
    if (!full) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    snprintf(full, len, "%s%s%s/%s", scope, *scope ? "/" : "", local, pname);
    sng_status st = param_add(ctx, g, node_id, full, shape, init, fan_in, fan_out, out_id);
    free(full);
    return st;
}

static sng_status param_add(sng_ctx *ctx, sng_graph *g, int node_id, const char *full,
                            const sngi_shape *shape, sngi_init init, int fan_in, int fan_out,
                            int *out_id) {
    sngi_node *n = &g->nodes[node_id];
    int id = -1;
    for (int i = 0; i < g->n_params; i++)
        if (strcmp(g->params[i].name, full) == 0) id = i;
    if (id >= 0) {
        sngi_param *p = &g->params[id];
        if (!sngi_shape_eq(&p->shape, shape)) {
            char a[64], b[64];
            const sngi_node *o = &g->nodes[p->first_node];
            return sngi_fail_node(ctx, SNG_ERR_SHAPE, n,
                                  "tied parameter '%s' has shape %s here but %s in node '%s' "
                                  "(%s:%d): tied instances must see the same input shapes",
                                  full, sngi_shape_str(shape, a, sizeof a),
                                  sngi_shape_str(&p->shape, b, sizeof b), o->name, o->file,
                                  o->line);
        }
        p->n_users++;
    } else {
        if (grow((void **)&g->params, &g->cap_params, g->n_params + 1, sizeof(sngi_param)))
            return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        id = g->n_params;
        sngi_param *p = &g->params[id];
        memset(p, 0, sizeof *p);
        if (!(p->name = sngi_strdup(full))) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        p->shape = *shape;
        p->init = init;
        p->fan_in = fan_in;
        p->fan_out = fan_out;
        p->trainable = 1;
        p->n_users = 1;
        p->first_node = node_id;
        g->n_params++;
    }
    int *pp = sngi_realloc(n->param, sizeof(int) * (size_t)(n->n_param + 1));
    if (!pp) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    n->param = pp;
    pp[n->n_param++] = id;
    *out_id = id;
    return SNG_OK;
}

/* ---- compile ---------------------------------------------------------------------------------- */
/* Resolves a reference through aliases to a node id; -1 if dangling. */
int sngi_graph_resolve(const sng_graph *g, const char *ref) {
    const char *cur = ref;
    for (int depth = 0; depth < ALIAS_MAX_DEPTH; depth++) {
        int id = sngi_graph_find(g, cur);
        if (id >= 0) return id;
        const char *next = NULL;
        for (int i = 0; i < g->n_alias; i++)
            if (strcmp(g->alias_from[i], cur) == 0) next = g->alias_to[i];
        if (!next) return -1;
        cur = next;
    }
    return -1;
}

/* ---- a name index for compiling: open addressing over node names and alias sources ---------
 * Large graphs (tens of thousands of nodes after instantiating subgraphs) made the linear
 * lookups of sngi_graph_resolve quadratic; compile resolves every reference through this. */
typedef struct name_index {
    int *slot; /* -1 empty; id >= 0 a node; -2-j alias j */
    size_t mask;
} name_index;

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static const char *index_key(const sng_graph *g, int v) {
    return v >= 0 ? g->nodes[v].name : g->alias_from[-2 - v];
}

/* Returns the slot holding name, or the empty slot where it would go. */
static size_t index_slot(const name_index *x, const sng_graph *g, const char *name) {
    size_t i = (size_t)name_hash(name) & x->mask;
    while (x->slot[i] != -1 && strcmp(index_key(g, x->slot[i]), name) != 0) i = (i + 1) & x->mask;
    return i;
}

/* Builds the index; nodes win over aliases of the same name, and a later alias of a name
 * replaces an earlier one (as in sngi_graph_resolve). Returns -1 on OOM. */
static int index_build(name_index *x, const sng_graph *g) {
    size_t cap = 16;
    while (cap < 2 * (size_t)(g->n_nodes + g->n_alias) + 2) cap *= 2;
    x->slot = sngi_malloc(cap * sizeof(int));
    if (!x->slot) return -1;
    x->mask = cap - 1;
    for (size_t i = 0; i < cap; i++) x->slot[i] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        size_t k = index_slot(x, g, g->nodes[i].name);
        if (x->slot[k] == -1) x->slot[k] = i;
    }
    for (int j = 0; j < g->n_alias; j++) {
        size_t k = index_slot(x, g, g->alias_from[j]);
        if (x->slot[k] == -1 || x->slot[k] < -1) x->slot[k] = -2 - j;
    }
    return 0;
}

/* *via: the last alias followed (-1: none), so a dangling alias is reported where it was made. */
static int index_resolve(const name_index *x, const sng_graph *g, const char *ref, int *via) {
    const char *cur = ref;
    *via = -1;
    for (int depth = 0; depth < ALIAS_MAX_DEPTH; depth++) {
        int v = x->slot[index_slot(x, g, cur)];
        if (v >= 0) return v;
        if (v == -1) return -1;
        *via = -2 - v;
        cur = g->alias_to[*via];
    }
    return -1;
}

static sng_status resolve_all(sng_ctx *ctx, sng_graph *g) {
    name_index x;
    if (index_build(&x, g)) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st = SNG_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        sngi_node *n = &g->nodes[i];
        n->in = sngi_calloc((size_t)n->n_in + 1, sizeof(int));
        if (!n->in) {
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
            break;
        }
        for (int k = 0; k < n->n_in && !st; k++) {
            int via, id = index_resolve(&x, g, n->in_ref[k], &via);
            if (id < 0 && via >= 0)
                st = sngi_fail_at(ctx, SNG_ERR_MODEL, g->alias_file[via], g->alias_line[via],
                                  "<instance>: in= reference '%s' (bound to '%s', used by <%s "
                                  "name=\"%s\"> at %s:%d) refers to no node, input or instance",
                                  g->alias_to[via], g->alias_from[via], n->elem, n->name, n->file,
                                  n->line);
            else if (id < 0)
                st = sngi_fail_node(ctx, SNG_ERR_MODEL, n,
                                    "input '%s' refers to no node, input or instance",
                                    n->in_ref[k]);
            else if (id == i)
                st = sngi_fail_node(ctx, SNG_ERR_MODEL, n, "node uses itself as input (cycle)");
            else
                n->in[k] = id;
        }
    }
    free(x.slot);
    return st;
}

/* Called when Kahn's algorithm left nodes unsorted: every one of them has an unsorted input, so
 * following unsorted inputs from any of them must come back to a node already seen — that loop is
 * a cycle. Reports it at its member declared first, listed in data-flow order ("p -> q -> p").
 * `path` is scratch space of n ints. */
static sng_status report_cycle(sng_ctx *ctx, const sng_graph *g, const char *done, int *path) {
    int n = g->n_nodes, len = 0, cur = -1;
    for (int i = 0; i < n && cur < 0; i++)
        if (!done[i]) cur = i;
    int start = -1;
    while (cur >= 0 && len < n) {
        for (int j = 0; j < len; j++)
            if (path[j] == cur) start = j;
        if (start >= 0) break;
        path[len++] = cur;
        int next = -1;
        for (int e = 0; e < g->nodes[cur].n_in && next < 0; e++)
            if (!done[g->nodes[cur].in[e]]) next = g->nodes[cur].in[e];
        cur = next;
    }
    if (start < 0) /* cannot happen; keep a sane message */
        return sngi_fail(ctx, SNG_ERR_MODEL, "%s: the graph has a cycle", g->file);
    /* path[start..len) walks inputs backwards around the cycle; rotate to its first-declared
     * member (lowest id: ids are declaration order before sorting) and print it forwards. */
    int first = start;
    for (int j = start; j < len; j++)
        if (path[j] < path[first]) first = j;
    int m = len - start;
    char msg[1024] = "";
    size_t k = 0;
    for (int t = 0; t <= m && k < sizeof msg; t++) {
        int j = start + ((first - start) - t + m * 2) % m; /* backwards from first */
        k += (size_t)snprintf(msg + k, sizeof msg - k, "%s%s", t ? " -> " : "",
                              g->nodes[path[j]].name);
    }
    if (k >= sizeof msg) memcpy(msg + sizeof msg - 4, "...", 4); /* say that it was cut */
    return sngi_fail_node(ctx, SNG_ERR_MODEL, &g->nodes[path[first]], "is part of a cycle: %s",
                          msg);
}

/* Kahn's algorithm; on success nodes are permuted into topological order (stable: among ready
 * nodes the one declared first goes first, so the order is deterministic). */
static sng_status topo_sort(sng_ctx *ctx, sng_graph *g) {
    int n = g->n_nodes;
    int *indeg = sngi_calloc((size_t)n + 1, sizeof(int));
    int *order = sngi_calloc((size_t)n + 1, sizeof(int));
    int *pos = sngi_calloc((size_t)n + 1, sizeof(int));
    char *done = sngi_calloc((size_t)n + 1, 1);
    sngi_node *sorted = sngi_calloc((size_t)n + 1, sizeof(sngi_node));
    sng_status st = SNG_OK;
    if (!indeg || !order || !pos || !done || !sorted) {
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* Consumers of each node (CSR), so releasing a node costs its out-degree. A min-heap of
     * ready ids keeps the order stable: among ready nodes the one declared first goes first. */
    int64_t n_edges = 0;
    for (int i = 0; i < n; i++) n_edges += g->nodes[i].n_in;
    int *start = sngi_calloc((size_t)n + 2, sizeof(int));
    int *cons = sngi_calloc((size_t)n_edges + 1, sizeof(int));
    int *heap = sngi_calloc((size_t)n + 1, sizeof(int));
    if (!start || !cons || !heap) {
        free(start);
        free(cons);
        free(heap);
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < n; j++)
        for (int e = 0; e < g->nodes[j].n_in; e++) start[g->nodes[j].in[e] + 1]++;
    for (int i = 0; i < n; i++) start[i + 1] += start[i];
    for (int i = 0; i < n; i++) pos[i] = start[i]; /* pos: fill cursor, free until below */
    for (int j = 0; j < n; j++)
        for (int e = 0; e < g->nodes[j].n_in; e++) cons[pos[g->nodes[j].in[e]]++] = j;
    for (int i = 0; i < n; i++) indeg[i] = g->nodes[i].n_in;
    int hn = 0, k = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0) heap[hn++] = i; /* ascending: already a heap */
    while (hn > 0) {
        int pick = heap[0];
        heap[0] = heap[--hn];
        for (int i = 0;;) { /* sift down */
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < hn && heap[l] < heap[m]) m = l;
            if (r < hn && heap[r] < heap[m]) m = r;
            if (m == i) break;
            int t = heap[i];
            heap[i] = heap[m];
            heap[m] = t;
            i = m;
        }
        done[pick] = 1;
        order[k++] = pick;
        for (int c = start[pick]; c < start[pick + 1]; c++) {
            int j = cons[c];
            if (--indeg[j] == 0) { /* push and sift up */
                int i = hn++;
                heap[i] = j;
                while (i > 0 && heap[(i - 1) / 2] > heap[i]) {
                    int t = heap[i];
                    heap[i] = heap[(i - 1) / 2];
                    heap[(i - 1) / 2] = t;
                    i = (i - 1) / 2;
                }
            }
        }
    }
    free(start);
    free(cons);
    free(heap);
    if (k < n) {
        st = report_cycle(ctx, g, done, order);
        goto out;
    }
    for (int i = 0; i < n; i++) pos[order[i]] = i;
    for (int i = 0; i < n; i++) {
        sorted[i] = g->nodes[order[i]];
        for (int e = 0; e < sorted[i].n_in; e++) sorted[i].in[e] = pos[sorted[i].in[e]];
        sorted[i].order = i;
    }
    if (n) memcpy(g->nodes, sorted, sizeof(sngi_node) * (size_t)n); /* NULL when n == 0 */
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = pos[g->outputs[i]];
out:
    free(indeg);
    free(order);
    free(pos);
    free(done);
    free(sorted);
    return st;
}

static sng_status add_id(sng_ctx *ctx, int **arr, int *n, int id) {
    int *p = sngi_realloc(*arr, sizeof(int) * (size_t)(*n + 1));
    if (!p) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    p[(*n)++] = id;
    *arr = p;
    return SNG_OK;
}

/* An op's parse stopped at a missing required attribute ('units', recorded in c->missing):
 * when an attribute nobody read is a near miss of that name ('unitz'), the typo is the real
 * error and is reported instead. */
static sng_status misspelt_required(sng_ctx *ctx, const sngi_op_ctx *c, sng_status st) {
    const sngi_node *n = c->node;
    const char *want = c->missing;
    if (!want) return st;
    for (int i = 0; i < n->n_kv; i++)
        if (!n->kv[i].used && sngi_edit_distance(n->kv[i].key, want) <= 2)
            return sngi_fail_at(ctx, SNG_ERR_MODEL, n->file, n->kv[i].line,
                                "<%s name=\"%s\">: unknown attribute '%s' for op '%s' (did you "
                                "mean '%s'?)",
                                n->elem, n->name, n->kv[i].key, n->op->name, want);
    return st;
}

/* Reads the attributes every node may have, then the op's own, then rejects unread ones. */
static sng_status parse_node(sng_ctx *ctx, sng_graph *g, int id) {
    sngi_node *n = &g->nodes[id];
    sngi_op_ctx c = {ctx, g, id, n, NULL};
    sng_status st;
    const char *doc;
    sngi_attr_raw(&c, "doc", &doc); /* free text for people, allowed on every node */
    if ((st = sngi_attr_bool(&c, "trainable", 1, &n->trainable))) return st;
    if (n->op->flags & SNG_OP_LOSS) {
        n->is_loss = 1;
        n->batched = 0;
        if ((st = sngi_attr_float(&c, "weight", 1.0f, 0.0f, 1e6f, &n->loss_weight))) return st;
    }
    if (n->op->n_inputs >= 0 && n->n_in != n->op->n_inputs)
        return sngi_fail_node(ctx, SNG_ERR_MODEL, n, "op '%s' takes %d input%s, got %d (in=\"...\")",
                              n->op->name, n->op->n_inputs, n->op->n_inputs == 1 ? "" : "s",
                              n->n_in);
    if (n->op->n_inputs < 0 && n->n_in < 1)
        return sngi_fail_node(ctx, SNG_ERR_MODEL, n, "op '%s' needs at least one input (in=\"...\")",
                              n->op->name);
    if (n->op->attr_size) {
        n->attr = sngi_calloc(1, n->op->attr_size);
        if (!n->attr) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    if (n->op->parse && (st = n->op->parse(&c, n->attr))) return misspelt_required(ctx, &c, st);
    for (int i = 0; i < n->n_kv; i++)
        if (!n->kv[i].used) {
            char known[1024] = "";
            return sngi_fail_at(ctx, SNG_ERR_MODEL, n->file, n->kv[i].line,
                                "<%s name=\"%s\">: unknown attribute '%s' for op '%s'%s", n->elem,
                                n->name, n->kv[i].key, n->op->name, known);
        }
    return SNG_OK;
}

static sng_status infer_node(sng_ctx *ctx, sng_graph *g, int id) {
    sngi_node *n = &g->nodes[id];
    n->in_shape = sngi_calloc((size_t)n->n_in + 1, sizeof(sngi_shape));
    if (!n->in_shape) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n->n_in; k++) {
        const sngi_node *src = &g->nodes[n->in[k]];
        if (!src->batched)
            return sngi_fail_node(ctx, SNG_ERR_SHAPE, n,
                                  "input '%s' is a per-batch value (a loss) and cannot feed a node",
                                  src->name);
        n->in_shape[k] = src->shape;
    }
    sngi_op_ctx c = {ctx, g, id, n, NULL};
    sng_status st = n->op->infer(&c, n->attr);
    if (st) return st;
    if (n->is_loss) n->shape.nd = 0;
    return SNG_OK;
}

sng_status sngi_graph_compile(sng_ctx *ctx, sng_graph *g) {
    sng_status st;
    /* Ops first: an unknown element is reported before any reference error. */
    for (int i = 0; i < g->n_nodes; i++) {
        sngi_node *n = &g->nodes[i];
        n->op = sngi_op_find(n->elem);
        if (!n->op) {
            return sngi_fail_at(ctx, SNG_ERR_MODEL, n->file, n->line,
                                "<%s name=\"%s\">: unknown element or op '%s' (see `sngraph ops`)",
                                n->elem, n->name, n->elem);
        }
    }
    if ((st = resolve_all(ctx, g))) return st;
    if ((st = topo_sort(ctx, g))) return st;
    for (int i = 0; i < g->n_nodes; i++)
        if ((st = parse_node(ctx, g, i))) return st;
    for (int i = 0; i < g->n_nodes; i++)
        if ((st = infer_node(ctx, g, i))) return st;
    for (int i = 0; i < g->n_nodes; i++) {
        sngi_node *n = &g->nodes[i];
        if (n->op->flags & SNG_OP_INPUT && (st = add_id(ctx, &g->inputs, &g->n_inputs, i)))
            return st;
        if (n->is_loss && (st = add_id(ctx, &g->losses, &g->n_losses, i))) return st;
        for (int k = 0; k < n->n_param; k++) {
            const sngi_param *p = &g->params[n->param[k]];
            if (p->trainable) g->untied_trainable += sngi_shape_numel(&p->shape);
        }
    }
    for (int i = 0; i < g->n_outputs; i++) g->nodes[g->outputs[i]].is_output = 1;
    if (g->n_outputs == 0 && g->n_losses == 0)
        return sngi_fail_at(ctx, SNG_ERR_MODEL, g->file, g->line > 0 ? g->line : 1,
                            "<model name=\"%s\">: the model has no <output> and no loss",
                            g->name ? g->name : "model");
    return SNG_OK;
}

void sng_graph_stats_get(const sng_graph *g, sng_graph_stats *out) {
    memset(out, 0, sizeof *out);
    out->n_nodes = g->n_nodes;
    out->n_params = g->n_params;
    for (int i = 0; i < g->n_params; i++) {
        int64_t k = sngi_shape_numel(&g->params[i].shape);
        if (g->params[i].trainable)
            out->trainable += k;
        else
            out->non_trainable += k;
    }
    out->untied_trainable = g->untied_trainable;
    for (int i = 0; i < g->n_nodes; i++) {
        const sngi_node *n = &g->nodes[i];
        out->flops_per_sample += n->flops;
        if (n->batched && !(n->op->flags & SNG_OP_INPUT))
            out->activation_bytes += sngi_shape_numel(&n->shape) * (int64_t)sizeof(float);
    }
}
