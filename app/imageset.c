/*
 * imageset.c — images from files, directories and archives, embedded in batches (imageset.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/imageset.h"
#include "app/atomic.h"
#include "app/npy.h"
#include "loaders/loader_int.h"


void sngi_imageset_free(sngi_imageset *s) {
    for (int i = 0; i < s->n; i++) free(s->names[i]), free(s->stems[i]);
    free(s->names);
    free(s->stems);
    free(s->emb);
    free(s->pix);
}

/* Embeds the decoded images still pending (the last `pending` of the n). */
sng_status sngi_imageset_flush(sngi_imageset *s) {
    if (!s->pending) return SNG_OK;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sng_status st = sngi_model_embed(s->m, s->pix, s->pending,
                                     s->emb + (size_t)(s->n - s->pending) * (size_t)s->m->emb_numel);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->embed_s += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    s->pending = 0;
    return st;
}

/* Drops a path's extension in place: "people/alice.png" -> "people/alice". */
static void strip_ext(char *path) {
    char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && dot != path && (!slash || dot > slash + 1)) *dot = 0;
}

static sng_status set_push(sngi_imageset *s, const char *name, const char *stem, const uint8_t *buf,
                           size_t n) {
    const sngi_model *m = s->m;
    if (!s->pix && !(s->pix = malloc(sizeof(float) * (size_t)m->batch * (size_t)m->img_numel)))
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        char **nn = realloc(s->names, sizeof *nn * (size_t)cap);
        if (nn) s->names = nn;
        char **ns = realloc(s->stems, sizeof *ns * (size_t)cap);
        if (ns) s->stems = ns;
        float *ne = realloc(s->emb, sizeof(float) * (size_t)cap * (size_t)m->emb_numel);
        if (ne) s->emb = ne;
        if (!nn || !ns || !ne) return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
        s->cap = cap;
    }
    sng_status st = sngi_model_decode(m, name, buf, n, s->no_resize,
                                s->pix + (size_t)s->pending * (size_t)m->img_numel);
    if (st) return st;
    s->names[s->n] = strdup(name);
    s->stems[s->n] = strdup(stem);
    if (!s->names[s->n] || !s->stems[s->n]) {
        free(s->names[s->n]), free(s->stems[s->n]);
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    }
    s->n++;
    return ++s->pending == m->batch ? sngi_imageset_flush(s) : SNG_OK;
}

static sng_status set_entry(void *ud, const char *path, const uint8_t *data, size_t n) {
    sngi_imageset *s = ud;
    if (!sngi_image_sniff(data, n)) {
        s->skipped++;
        return SNG_OK;
    }
    /* Built to any length: an entry name is never cut. */
    char *name = NULL, *stem = strdup(path);
    if (asprintf(&name, "%s:%s", s->src, path) < 0) name = NULL;
    sng_status st = name && stem ? (strip_ext(stem), set_push(s, name, stem, data, n))
                                 : sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    free(name);
    free(stem);
    return st;
}

static sng_status set_bad(void *ud, const char *path, const char *why, int fatal) {
    sngi_imageset *s = ud;
    (void)fatal;
    return sngi_fail(s->ctx, SNG_ERR_DATA, "%s%s%s: %s", s->src, path ? ":" : "", path ? path : "",
                     why);
}

sng_status sngi_imageset_add(sngi_imageset *s, const char *src) {
    struct stat st;
    sngi_walk_cb cb = {.ud = s, .file = set_entry, .bad = set_bad};
    char kind[64];
    s->src = src;
    if (stat(src, &st) == 0 && S_ISDIR(st.st_mode))
        return sngi_walk_path(s->ctx, src, &cb, kind, sizeof kind);
    uint8_t *buf;
    size_t n;
    sng_status r = sngi_read_image_file(s->ctx, src, &buf, &n);
    if (r) return r;
    if (sngi_image_sniff(buf, n)) {
        const char *base = strrchr(src, '/');
        char *stem = strdup(base ? base + 1 : src);
        r = stem ? (strip_ext(stem), set_push(s, src, stem, buf, n))
                 : sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
        free(stem);
    } else {
        r = sngi_walk_memory(s->ctx, src, buf, n, &cb, kind, sizeof kind);
    }
    free(buf);
    return r;
}


sng_status sngi_imageset_save(const sngi_imageset *s, const char *path) {
    sng_ctx *ctx = s->ctx;
    for (int i = 0; i < s->n; i++)
        if (strchr(s->names[i], '\n'))
            return sngi_fail(ctx, SNG_ERR_DATA, "image name '%s' holds a newline: the index "
                                                "%s.txt has one name per line", s->names[i], path);
    size_t len = strlen(path);
    char *idx = malloc(len + 5);
    if (!idx) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    memcpy(idx, path, len);
    memcpy(idx + len, ".txt", 5);
    int lock = -1;
    sngi_atomic npy = {0}, txt = {0};
    int have_npy = 0, have_txt = 0;
    sng_status st = sngi_lock(ctx, path, &lock);
    if (!st && !(st = sngi_atomic_open(ctx, path, &npy))) have_npy = 1;
    if (!st && !(st = sngi_atomic_open(ctx, idx, &txt))) have_txt = 1;
    if (!st) {
        int dims[2] = {s->n, (int)s->m->emb_numel};
        st = sngi_npy_write(ctx, npy.f, path, s->emb, dims, 2);
    }
    for (int i = 0; !st && i < s->n; i++)
        if (fputs(s->names[i], txt.f) == EOF || fputc('\n', txt.f) == EOF)
            st = sngi_fail(ctx, SNG_ERR_IO, "%s: write failed: %s", idx, strerror(errno));
    /* The index goes first: its names match the embeddings about to follow. */
    if (!st) st = sngi_atomic_commit(ctx, &txt), have_txt = 0;
    if (!st) st = sngi_atomic_commit(ctx, &npy), have_npy = 0;
    if (have_txt) sngi_atomic_abort(&txt);
    if (have_npy) sngi_atomic_abort(&npy);
    if (lock >= 0) sngi_unlock(lock);
    free(idx);
    return st;
}
