/*
 * weights.c — start a model from .npy weights made elsewhere (`train.init_from`): a directory
 * or an archive (zip, tar, a sngraph checkpoint) holding NAME.npy files, NAME being a parameter's
 * full name ("branch/block1_conv1/W", optionally under "params/"). Parameters found are loaded
 * (shape checked, naming both shapes); the others keep their initialisers. An entry that names
 * no parameter of the model is an error, so a misspelt file is not silently ignored.
 */
#include "config.h"

#include <string.h>

#include "app/ckpt.h"
#include "loaders/loader_int.h"
#include "app/weights.h"

typedef struct load_ctx {
    sng_ctx *ctx;
    sng_session *s;
    const char *src;
    char *loaded; /* per parameter: set once loaded */
    int n_loaded;
} load_ctx;

static sng_status on_file(void *ud, const char *path, const uint8_t *data, size_t n) {
    load_ctx *l = ud;
    size_t len = strlen(path);
    if (len < 5 || strcmp(path + len - 4, ".npy")) return SNG_OK; /* manifest, model.xml, END */
    const char *name = strncmp(path, "params/", 7) ? path : path + 7;
    if (!strncmp(path, "optim/", 6)) return SNG_OK;
    const sng_graph *g = sngi_session_graph(l->s);
    int id = -1;
    for (int i = 0; i < g->n_params && id < 0; i++)
        if (strlen(g->params[i].name) == (size_t)(path + len - 4 - name) &&
            !strncmp(g->params[i].name, name, (size_t)(path + len - 4 - name)))
            id = i;
    if (id < 0)
        return sngi_fail(l->ctx, SNG_ERR_DATA,
                         "%s:%s: the model has no parameter of that name (`sngraph check` lists "
                         "them)", l->src, path);
    const sngi_param *p = &g->params[id];
    char what[4200];
    snprintf(what, sizeof what, "%s:%s", l->src, path);
    int dims[SNG_MAX_DIMS + 2], nd;
    const float *v;
    sng_status st = sngi_npy_parse(l->ctx, what, data, n, dims, &nd, &v);
    if (st) return st;
    char want[64], got[64];
    if (!sngi_npy_shape_is(dims, nd, &p->shape, got, sizeof got))
        return sngi_fail(l->ctx, SNG_ERR_DATA, "%s: shape %s, but parameter '%s' is %s", what, got,
                         p->name, sngi_shape_str(&p->shape, want, sizeof want));
    memcpy(sngi_session_param(l->s, id), v, sizeof(float) * (size_t)sngi_shape_numel(&p->shape));
    if (!l->loaded[id]) l->n_loaded++;
    l->loaded[id] = 1;
    return SNG_OK;
}

static sng_status on_bad(void *ud, const char *path, const char *why, int fatal) {
    load_ctx *l = ud;
    (void)fatal;
    return sngi_fail(l->ctx, SNG_ERR_DATA, "%s%s%s: %s", l->src, path ? ":" : "",
                     path ? path : "", why);
}

sng_status sngi_weights_load(sng_ctx *ctx, sng_session *s, const char *src, int *n_loaded,
                             int *n_params) {
    load_ctx l = {ctx, s, src, calloc((size_t)sngi_session_graph(s)->n_params + 1, 1), 0};
    if (!l.loaded) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sngi_walk_cb cb = {.ud = &l, .file = on_file, .bad = on_bad};
    char kind[64];
    sng_status st = sngi_walk_path(ctx, src, &cb, kind, sizeof kind);
    if (!st && l.n_loaded == 0)
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no .npy file named after a parameter of the model",
                       src);
    free(l.loaded);
    *n_loaded = l.n_loaded;
    *n_params = sngi_session_graph(s)->n_params;
    return st;
}
