/*
 * error.c — status strings, context messages, fallible allocation and the internal abort.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sng_int.h"

const char *sng_status_str(sng_status s) {
    switch (s) {
    case SNG_OK: return "ok";
    case SNG_ERR_NOMEM: return "out of memory";
    case SNG_ERR_IO: return "input/output error";
    case SNG_ERR_XML: return "malformed model file";
    case SNG_ERR_MODEL: return "invalid model";
    case SNG_ERR_SHAPE: return "shape mismatch";
    case SNG_ERR_UNSUPPORTED: return "unsupported";
    case SNG_ERR_DATA: return "bad data";
    case SNG_ERR_BUDGET: return "memory budget exceeded";
    case SNG_ERR_USAGE: return "usage error";
    case SNG_ERR_INTERRUPTED: return "interrupted";
    case SNG_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void sngi_abort(const char *file, int line, const char *what) {
    fprintf(stderr, "sngraph: internal error: %s:%d: assertion failed: %s\n", file, line, what);
    abort();
}

sng_status sngi_vfail(sng_ctx *ctx, sng_status st, const char *fmt, va_list ap) {
    if (ctx) vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    return st;
}

sng_status sngi_fail(sng_ctx *ctx, sng_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sngi_vfail(ctx, st, fmt, ap);
    va_end(ap);
    return st;
}

sng_status sngi_fail_at(sng_ctx *ctx, sng_status st, const char *file, int line, const char *fmt,
                        ...) {
    if (!ctx) return st;
    /* Line 0 is a value from the command line (--set), which has no line. */
    int k = line > 0 ? snprintf(ctx->errmsg, sizeof ctx->errmsg, "%s:%d: error: ",
                                file ? file : "(model)", line)
                     : snprintf(ctx->errmsg, sizeof ctx->errmsg, "%s: error: ",
                                file ? file : "(model)");
    if (k < 0 || (size_t)k >= sizeof ctx->errmsg) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg + k, sizeof ctx->errmsg - (size_t)k, fmt, ap);
    va_end(ap);
    return st;
}

sng_status sngi_fail_node(sng_ctx *ctx, sng_status st, const sngi_node *n, const char *fmt, ...) {
    if (!ctx) return st;
    int k = snprintf(ctx->errmsg, sizeof ctx->errmsg, "%s:%d: error: <%s name=\"%s\">: ",
                     n->file ? n->file : "(model)", n->line, n->elem ? n->elem : "?",
                     n->name ? n->name : "?");
    if (k < 0 || (size_t)k >= sizeof ctx->errmsg) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg + k, sizeof ctx->errmsg - (size_t)k, fmt, ap);
    va_end(ap);
    return st;
}

/* ---- fallible allocation ---------------------------------------------------------------------- */
static long fail_after = -1;

void sngi_alloc_fail_after(long n) { fail_after = n; }

static int alloc_should_fail(void) {
    if (fail_after < 0) return 0;
    if (fail_after == 0) return 1;
    fail_after--;
    return 0;
}

void *sngi_malloc(size_t n) { return alloc_should_fail() ? NULL : malloc(n ? n : 1); }
void *sngi_calloc(size_t n, size_t sz) {
    return alloc_should_fail() ? NULL : calloc(n ? n : 1, sz ? sz : 1);
}
void *sngi_realloc(void *p, size_t n) { return alloc_should_fail() ? NULL : realloc(p, n ? n : 1); }
void *sngi_aligned_alloc(size_t align, size_t n) {
    return alloc_should_fail() ? NULL : aligned_alloc(align, n);
}
char *sngi_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = sngi_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ---- context ---------------------------------------------------------------------------------- */
sng_ctx *sng_ctx_new(void) { return calloc(1, sizeof(sng_ctx)); }

void sng_ctx_free(sng_ctx *ctx) {
    if (!ctx) return;
    for (int i = 0; i < ctx->n_model_dirs; i++) free(ctx->model_dirs[i]);
    free(ctx->model_dirs);
    free(ctx);
}

const char *sng_ctx_errmsg(const sng_ctx *ctx) { return ctx ? ctx->errmsg : ""; }

sng_status sng_ctx_add_model_dir(sng_ctx *ctx, const char *dir) {
    char **d = sngi_realloc(ctx->model_dirs, sizeof(char *) * (size_t)(ctx->n_model_dirs + 1));
    if (!d) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    ctx->model_dirs = d;
    if (!(d[ctx->n_model_dirs] = sngi_strdup(dir)))
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    ctx->n_model_dirs++;
    return SNG_OK;
}
