/*
 * api.c — the application as a C API (the verification, gallery and training calls of
 * sngraph.h), over the same app/ functions the sngraph program uses.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/dist.h"
#include "app/feed.h"
#include "app/train.h"
#include "app/verify.h"

/* Pairs scored per head pass when a gallery is identified: big enough to batch, small enough
 * that comparing one pair stays cheap. */
#define HEAD_BATCH 16

struct sng_verifier {
    sngi_model *m;
    float *img;  /* one preprocessed image */
};

struct sng_gallery {
    sng_ctx *ctx;
    sng_verifier *v;
    sngi_gallery *gal;
    char *path;
};

SNG_API sng_status sng_verifier_open(sng_ctx *ctx, const char *checkpoint, int threads,
                                     sng_verifier **out) {
    *out = NULL;
    if (!checkpoint || threads < 0)
        return sngi_fail(ctx, SNG_ERR_USAGE, "sng_verifier_open: no checkpoint or threads < 0");
    sng_verifier *v = calloc(1, sizeof *v);
    if (!v) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st = sngi_model_open(ctx, checkpoint, 1, HEAD_BATCH, threads, &v->m);
    if (!st && !(v->img = malloc(sizeof(float) * (size_t)v->m->img_numel)))
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    if (st) {
        sng_verifier_free(v);
        return st;
    }
    *out = v;
    return SNG_OK;
}

SNG_API void sng_verifier_free(sng_verifier *v) {
    if (!v) return;
    sngi_model_close(v->m);
    free(v->img);
    free(v);
}

SNG_API int sng_verifier_dim(const sng_verifier *v) { return (int)v->m->emb_numel; }
SNG_API double sng_verifier_threshold(const sng_verifier *v) { return v->m->threshold; }

static sng_status embed(sng_verifier *v, const char *label, const void *data, size_t n,
                        float *emb) {
    if (!data || !emb) return sngi_fail(v->m->ctx, SNG_ERR_USAGE, "%s: no image or no output", label);
    sng_status st = sngi_model_decode(v->m, label, data, n, 0, v->img);
    return st ? st : sngi_model_embed(v->m, v->img, 1, emb);
}

SNG_API sng_status sng_embed_image(sng_verifier *v, const void *data, size_t n, float *emb) {
    return embed(v, "image", data, n, emb);
}

SNG_API sng_status sng_embed_file(sng_verifier *v, const char *path, float *emb) {
    uint8_t *buf;
    size_t n = 0;
    sng_status st = sngi_read_image_file(v->m->ctx, path, &buf, &n);
    if (!st) st = embed(v, path, buf, n, emb);
    free(buf);
    return st;
}

/* Scores two embeddings with the model's head (or their distance) and decides. */
static sng_status decide(sng_verifier *v, const float *ea, const float *eb, double *score,
                         int *same) {
    float s;
    sng_status st = sngi_model_score(v->m, ea, eb, 0, 1, &s);
    if (st) return st;
    *score = s;
    *same = s >= v->m->threshold;
    return SNG_OK;
}

SNG_API sng_status sng_compare_images(sng_verifier *v, const void *a, size_t na, const void *b,
                                      size_t nb, double *score, int *same) {
    size_t d = (size_t)v->m->emb_numel;
    float *e = malloc(sizeof(float) * 2 * d);
    if (!e) return sngi_fail(v->m->ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st = embed(v, "image A", a, na, e);
    if (!st) st = embed(v, "image B", b, nb, e + d);
    if (!st) st = decide(v, e, e + d, score, same);
    free(e);
    return st;
}

SNG_API sng_status sng_compare_files(sng_verifier *v, const char *a, const char *b,
                                     double *score, int *same) {
    size_t d = (size_t)v->m->emb_numel;
    float *e = malloc(sizeof(float) * 2 * d);
    if (!e) return sngi_fail(v->m->ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st = sng_embed_file(v, a, e);
    if (!st) st = sng_embed_file(v, b, e + d);
    if (!st) st = decide(v, e, e + d, score, same);
    free(e);
    return st;
}

/* ---- gallery ---------------------------------------------------------------------------------- */
SNG_API sng_status sng_gallery_open(sng_ctx *ctx, const char *path, sng_verifier *v,
                                    sng_gallery **out) {
    *out = NULL;
    if (!path || !v) return sngi_fail(ctx, SNG_ERR_USAGE, "sng_gallery_open: no path or verifier");
    sng_gallery *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    g->ctx = ctx;
    g->v = v;
    sng_status st = sngi_gallery_load(ctx, path, 1, &g->gal);
    if (!st) st = sngi_gallery_bind(ctx, g->gal, v->m, path);
    if (st) {
        sng_gallery_close(g);
        return st;
    }
    *out = g;
    return SNG_OK;
}

SNG_API void sng_gallery_close(sng_gallery *g) {
    if (!g) return;
    sngi_gallery_free(g->gal);
    free(g->path);
    free(g);
}

SNG_API int sng_gallery_size(const sng_gallery *g) { return g->gal->n; }

SNG_API const char *sng_gallery_name(const sng_gallery *g, int i) {
    return i >= 0 && i < g->gal->n ? g->gal->names[i] : NULL;
}

/* Edits of the gallery file, under its lock on the gallery as re-read (gallery.h). */
typedef struct edit {
    sng_gallery *g;
    const char *name;
    const float *emb;  /* enrol; NULL: remove */
} edit;

static sng_status apply_edit(sng_ctx *ctx, sngi_gallery *gal, void *arg) {
    edit *e = arg;
    if (!e->emb) return sngi_gallery_remove(ctx, gal, e->name);
    sng_status st = sngi_gallery_bind(ctx, gal, e->g->v->m, e->g->path);
    return st ? st : sngi_gallery_add(ctx, gal, e->name, e->emb);
}

/* Runs one edit on the file and then reloads it, so this handle also sees what other writers
 * did; the file is the truth and memory follows it. */
static sng_status update(sng_gallery *g, edit *e) {
    sng_status st = sngi_gallery_update(g->ctx, g->path, 1, apply_edit, e);
    if (st) return st;
    sngi_gallery *fresh;
    if ((st = sngi_gallery_load(g->ctx, g->path, 1, &fresh))) return st;
    sngi_gallery_free(g->gal);
    g->gal = fresh;
    return SNG_OK;
}

SNG_API sng_status sng_gallery_enrol(sng_gallery *g, const char *name, const void *image,
                                     size_t n) {
    if (!name || !*name) return sngi_fail(g->ctx, SNG_ERR_USAGE, "an identity needs a name");
    float *emb = malloc(sizeof(float) * (size_t)g->v->m->emb_numel);
    if (!emb) return sngi_fail(g->ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st = embed(g->v, name, image, n, emb);
    edit e = {g, name, emb};
    if (!st) st = update(g, &e);
    free(emb);
    return st;
}

SNG_API sng_status sng_gallery_remove(sng_gallery *g, const char *name) {
    if (!name) return sngi_fail(g->ctx, SNG_ERR_USAGE, "no name");
    edit e = {g, name, NULL};
    return update(g, &e);
}

SNG_API sng_status sng_gallery_identify(sng_gallery *g, const void *image, size_t n, int top,
                                        sng_match *matches, int *n_matches) {
    *n_matches = 0;
    if (top < 1 || !matches) return sngi_fail(g->ctx, SNG_ERR_USAGE, "identify: top must be >= 1");
    if (g->gal->n == 0) return SNG_OK;
    size_t d = (size_t)g->v->m->emb_numel, N = (size_t)g->gal->n;
    float *q = malloc(sizeof(float) * d), *score = malloc(sizeof(float) * N);
    int *order = malloc(sizeof(int) * N), k = 0;
    sng_status st = !q || !score || !order ? sngi_fail(g->ctx, SNG_ERR_NOMEM, "out of memory")
                                           : embed(g->v, "query image", image, n, q);
    if (!st) st = sngi_identify(g->v->m, g->gal, q, top, score, order, &k);
    for (int i = 0; !st && i < k; i++) {
        matches[i].name = g->gal->names[order[i]];
        matches[i].score = score[order[i]];
        matches[i].match = score[order[i]] >= g->v->m->threshold;
    }
    if (!st) *n_matches = k;
    free(q);
    free(score);
    free(order);
    return st;
}

/* ---- training ------------------------------------------------------------------------------- */
typedef struct progress_box {
    sng_progress_fn fn;
    void *user;
} progress_box;

static int relay(void *user, int64_t step, int64_t steps, double loss) {
    progress_box *b = user;
    return b->fn(b->user, step, steps, loss);
}

SNG_API sng_status sng_train(sng_ctx *ctx, const char *model, const sng_setting *settings,
                             int n_settings, const char *run_dir, int threads,
                             sng_progress_fn progress, void *user) {
    if (!model || !run_dir || threads < 0 || n_settings < 0)
        return sngi_fail(ctx, SNG_ERR_USAGE, "sng_train: model, run_dir and threads >= 0 needed");
    sng_graph *g = NULL;
    sngi_data *data = NULL;
    sng_status st = sng_graph_load(ctx, model, settings, n_settings, &g);
    if (!st) st = sngi_train_check(ctx, g);
    sngi_data_opts dop = {1, 0, 0, 1};
    if (!st) st = sngi_data_open(ctx, g, &dop, &data);
    if (!st) {
        sngi_feed feed;
        sngi_data_feed(data, &feed);
        progress_box box = {progress, user};
        sngi_train_opts to = {run_dir, NULL, threads, 1, 0, NULL, NULL, 0,
                              progress ? relay : NULL, &box};
        st = sngi_train_run(ctx, g, &feed, &to);
    }
    sngi_data_free(data);
    sng_graph_free(g);
    return st;
}
