/*
 * cfg.c — the <train>/<data> sections as dotted keys ("train.batch", "data.train.source"), with
 * command-line overrides and typed readers. Every key must be read by someone: a key nobody
 * read is a typo and is reported with where it was written.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sng_int.h"

static int find(const sng_graph *g, const char *key) {
    for (int i = 0; i < g->cfg.n; i++)
        if (strcmp(g->cfg.kv[i].key, key) == 0) return i;
    return -1;
}

sng_status sngi_cfg_add(sng_ctx *ctx, sng_graph *g, const char *key, const char *val,
                        const char *file, int line) {
    int i = find(g, key);
    if (i >= 0 && strcmp(g->cfg.files[i], "--set") != 0)
        return sngi_fail_at(ctx, SNG_ERR_MODEL, file, line, "setting '%s' given twice (also at %s:%d)",
                            key, g->cfg.files[i], g->cfg.kv[i].line);
    if (g->cfg.n == g->cfg.cap) {
        int nc = g->cfg.cap ? g->cfg.cap * 2 : 16;
        sngi_kv *kv = sngi_realloc(g->cfg.kv, sizeof(sngi_kv) * (size_t)nc);
        if (!kv) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        g->cfg.kv = kv;
        char **f = sngi_realloc(g->cfg.files, sizeof(char *) * (size_t)nc);
        if (!f) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        g->cfg.files = f;
        g->cfg.cap = nc;
    }
    sngi_kv *kv = &g->cfg.kv[g->cfg.n];
    kv->key = sngi_strdup(key);
    kv->val = sngi_strdup(val);
    kv->line = line;
    kv->used = 0;
    g->cfg.files[g->cfg.n] = sngi_graph_intern(g, file ? file : "(model)");
    if (!kv->key || !kv->val || !g->cfg.files[g->cfg.n]) {
        free(kv->key);
        free(kv->val);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    g->cfg.n++;
    return SNG_OK;
}

sng_status sngi_cfg_set(sng_ctx *ctx, sng_graph *g, const char *key, const char *val) {
    int i = find(g, key);
    if (i < 0) return sngi_cfg_add(ctx, g, key, val, "--set", 0);
    char *v = sngi_strdup(val);
    if (!v) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    free(g->cfg.kv[i].val);
    g->cfg.kv[i].val = v;
    g->cfg.files[i] = sngi_graph_intern(g, "--set");
    g->cfg.kv[i].line = 0;
    return SNG_OK;
}

const char *sngi_cfg_get(sng_graph *g, const char *key) {
    int i = find(g, key);
    if (i < 0) return NULL;
    g->cfg.kv[i].used = 1;
    return g->cfg.kv[i].val;
}

sng_status sngi_cfg_bad(sng_ctx *ctx, sng_graph *g, const char *key, const char *what) {
    int i = find(g, key);
    return sngi_fail_at(ctx, SNG_ERR_MODEL, g->cfg.files[i], g->cfg.kv[i].line,
                        "setting %s=\"%s\": %s", key, g->cfg.kv[i].val, what);
}

sng_status sngi_cfg_int(sng_ctx *ctx, sng_graph *g, const char *key, long def, long lo, long hi,
                        long *out) {
    const char *v = sngi_cfg_get(g, key);
    *out = def;
    if (!v) return SNG_OK;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno) return sngi_cfg_bad(ctx, g, key, "not an integer");
    if (x < lo || x > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "out of range [%ld, %ld]", lo, hi);
        return sngi_cfg_bad(ctx, g, key, msg);
    }
    *out = x;
    return SNG_OK;
}

sng_status sngi_cfg_double(sng_ctx *ctx, sng_graph *g, const char *key, double def, double lo,
                           double hi, double *out) {
    const char *v = sngi_cfg_get(g, key);
    *out = def;
    if (!v) return SNG_OK;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x)) return sngi_cfg_bad(ctx, g, key, "not a number");
    if (x < lo || x > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "out of range [%g, %g]", lo, hi);
        return sngi_cfg_bad(ctx, g, key, msg);
    }
    *out = x;
    return SNG_OK;
}

sng_status sngi_cfg_check_unused(sng_ctx *ctx, const sng_graph *g, const char *prefix) {
    size_t k = prefix ? strlen(prefix) : 0;
    for (int i = 0; i < g->cfg.n; i++)
        if (!g->cfg.kv[i].used && (!k || strncmp(g->cfg.kv[i].key, prefix, k) == 0))
            return sngi_fail_at(ctx, SNG_ERR_MODEL, g->cfg.files[i], g->cfg.kv[i].line,
                                "unknown setting '%s'", g->cfg.kv[i].key);
    return SNG_OK;
}
