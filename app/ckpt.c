/*
 * ckpt.c — checkpoints: one tar archive (libarchive) holding
 *   model.xml          the model as run, XIncludes expanded (self-contained)
 *   settings.txt       the settings given with --set, KEY=VALUE per line (ckpt_model.h)
 *   manifest.json      format version, step, seed, metrics, threshold, parameter list
 *   params/<name>.npy  every parameter as float32 NumPy (tied parameters stored once)
 *   optim/state.npy    the optimiser state, flat, in parameter order
 * Written through app/atomic.c (temporary file, fsync, rename, directory fsync), so a crash or a
 * full disk never leaves a broken checkpoint in place of a good one. Read back by ckpt_read.c.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/atomic.h"
#include "app/ckpt.h"
#include "app/ckpt_model.h"

#define CKPT_FORMAT 1

/* ---- writing ---------------------------------------------------------------------------------- */
static sng_status add_entry(sng_ctx *ctx, struct archive *a, const char *name, const void *d1,
                            size_t n1, const void *d2, size_t n2) {
    struct archive_entry *e = archive_entry_new();
    if (!e) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t)(n1 + n2));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    sng_status st = SNG_OK;
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (n1 && archive_write_data(a, d1, n1) != (la_ssize_t)n1) ||
        (n2 && archive_write_data(a, d2, n2) != (la_ssize_t)n2))
        st = sngi_fail(ctx, SNG_ERR_IO, "writing checkpoint entry '%s': %s", name,
                       archive_error_string(a) ? archive_error_string(a) : strerror(errno));
    archive_entry_free(e);
    return st;
}

static sng_status add_npy(sng_ctx *ctx, struct archive *a, const char *name, const float *v,
                          const int *dims, int nd) {
    char hdr[256];
    size_t hl = sngi_npy_header(hdr, sizeof hdr, dims, nd);
    if (!hl) return sngi_fail(ctx, SNG_ERR_INTERNAL, "%s: shape does not fit a .npy header", name);
    size_t count = 1;
    for (int i = 0; i < nd; i++) count *= (size_t)dims[i];
    return add_entry(ctx, a, name, hdr, hl, v, count * 4);
}

/* "params/<name>.npy" in a new buffer (the caller frees): never cut, so no two parameters can
 * share an entry whatever their names' length. */
static char *param_entry(const char *pname) {
    size_t n = strlen(pname) + sizeof "params/.npy";
    char *e = malloc(n);
    if (e) snprintf(e, n, "params/%s.npy", pname);
    return e;
}

/* manifest.json in a new buffer (the caller frees *out). */
static sng_status manifest(sng_ctx *ctx, sng_session *s, const sngi_ckpt_meta *meta, char **out,
                           size_t *len) {
    const sng_graph *g = sngi_session_graph(s);
    *out = NULL;
    FILE *mf = open_memstream(out, len);
    if (!mf) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    fprintf(mf, "{\"format\":%d,\"model\":", CKPT_FORMAT);
    sngi_json_str(mf, g->name);
    fprintf(mf, ",\"step\":%lld,\"seed\":%llu,", (long long)meta->step,
            (unsigned long long)meta->seed);
    /* The reader refuses a non-finite threshold; null keeps the JSON valid. */
    if (isfinite(meta->threshold)) fprintf(mf, "\"threshold\":%.9g", meta->threshold);
    else fprintf(mf, "\"threshold\":null");
    fprintf(mf, ",\"optimizer\":");
    sngi_json_str(mf, meta->optimizer ? meta->optimizer : "none");
    fprintf(mf, ",\"opt_slots\":%d", sngi_session_opts(s)->opt_slots);
    fprintf(mf, ",\"metrics\":%s,\"params\":[", meta->metrics_json ? meta->metrics_json : "{}");
    for (int i = 0; i < g->n_params; i++) {
        fprintf(mf, "%s{\"name\":", i ? "," : "");
        sngi_json_str(mf, g->params[i].name);
        fprintf(mf, ",\"shape\":[");
        for (int d = 0; d < g->params[i].shape.nd; d++)
            fprintf(mf, "%s%d", d ? "," : "", g->params[i].shape.d[d]);
        fprintf(mf, "],\"trainable\":%s}", g->params[i].trainable ? "true" : "false");
    }
    fprintf(mf, "]}\n");
    if (ferror(mf) | fclose(mf) || !*out) {
        free(*out);
        *out = NULL;
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    return SNG_OK;
}

sng_status sngi_ckpt_save(sng_ctx *ctx, sng_session *s, const char *path,
                          const sngi_ckpt_meta *meta) {
    const sng_graph *g = sngi_session_graph(s);
    sngi_atomic at;
    sng_status st = sngi_atomic_open(ctx, path, &at);
    if (st) goto fail_open;
    struct archive *a = archive_write_new();
    if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_FILE(a, at.f) != ARCHIVE_OK) {
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot write archive", at.tmp);
        goto fail;
    }
    if ((st = add_entry(ctx, a, "model.xml", g->xml_expanded, g->xml_expanded_len, NULL, 0)))
        goto fail;
    /* The settings given with --set: serving preprocesses images by the data settings. */
    char *sets;
    size_t sets_len;
    if ((st = sngi_settings_overrides(ctx, g, &sets, &sets_len))) goto fail;
    if (sets_len) st = add_entry(ctx, a, "settings.txt", sets, sets_len, NULL, 0);
    free(sets);
    if (st) goto fail;
    char *man;
    size_t man_len;
    if ((st = manifest(ctx, s, meta, &man, &man_len))) goto fail;
    st = add_entry(ctx, a, "manifest.json", man, man_len, NULL, 0);
    free(man);
    for (int i = 0; i < g->n_params && !st; i++) {
        char *name = param_entry(g->params[i].name);
        if (!name) {
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
            break;
        }
        st = add_npy(ctx, a, name, sngi_session_param(s, i), g->params[i].shape.d, g->params[i].shape.nd);
        free(name);
    }
    size_t opt_n;
    float *opt = sngi_session_opt_state(s, &opt_n);
    if (!st && opt_n) {
        if (opt_n > INT_MAX) {
            st = sngi_fail(ctx, SNG_ERR_UNSUPPORTED, "optimiser state of %zu floats is too large "
                                                     "for one .npy entry",
                           opt_n);
            goto fail;
        }
        int dims[1] = {(int)opt_n};
        st = add_npy(ctx, a, "optim/state.npy", opt, dims, 1);
    }
    /* Last entry: a file cut anywhere before it is recognised as truncated. */
    if (!st) st = add_entry(ctx, a, "END", "sngraph checkpoint end\n", 23, NULL, 0);
    if (st) goto fail;
    if (archive_write_close(a) != ARCHIVE_OK) {
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", at.tmp,
                       archive_error_string(a) ? archive_error_string(a) : "write failed");
        goto fail;
    }
    archive_write_free(a);
    a = NULL;
    if ((st = sngi_atomic_commit(ctx, &at))) goto fail_open;
    return SNG_OK;
fail:
    if (a) archive_write_free(a);
    sngi_atomic_abort(&at);
fail_open:;
    char why[1024];
    snprintf(why, sizeof why, "%s", sng_ctx_errmsg(ctx));
    return sngi_fail(ctx, st, "cannot write checkpoint %s (%s); the previous checkpoint is "
                              "unchanged",
                     path, why);
}

/* ---- loading ---------------------------------------------------------------------------------- */
sng_status sngi_ckpt_load_params(sng_ctx *ctx, const sngi_ckpt *c, const char *path,
                                 sng_session *s, int with_optim) {
    const sng_graph *g = sngi_session_graph(s);
    /* A stored parameter that the model does not have would be silently dropped. */
    for (int k = 0; k < c->n; k++) {
        const char *e = c->names[k];
        size_t el = strlen(e);
        if (strncmp(e, "params/", 7) != 0 || el < 11) continue;
        int found = 0;
        for (int i = 0; i < g->n_params && !found; i++)
            found = strlen(g->params[i].name) == el - 11 &&
                    !strncmp(g->params[i].name, e + 7, el - 11);
        if (!found)
            return sngi_fail(ctx, SNG_ERR_DATA, "%s: entry '%s' is no parameter of the model "
                                                "(made for another model?)",
                             path, e);
    }
    for (int i = 0; i < g->n_params; i++) {
        const sngi_param *p = &g->params[i];
        char *name = param_entry(p->name);
        if (!name) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        size_t len;
        const void *d = sngi_ckpt_entry(c, name, &len);
        free(name);
        if (!d)
            return sngi_fail(ctx, SNG_ERR_DATA, "%s: the checkpoint has no parameter '%s' (made "
                                                "for another model?)",
                             path, p->name);
        int dims[SNG_MAX_DIMS + 2], nd;
        const float *v;
        /* The message names the parameter, so a long name is cut only in the text. */
        char what[1024];
        snprintf(what, sizeof what, "%s: params/%s.npy", path, p->name);
        sng_status st = sngi_npy_parse(ctx, what, d, len, dims, &nd, &v);
        if (st) return st;
        char b[64], w[64];
        if (!sngi_npy_shape_is(dims, nd, &p->shape, b, sizeof b))
            return sngi_fail(ctx, SNG_ERR_DATA,
                             "%s: parameter '%s' has shape %s in the checkpoint but %s in the model",
                             path, p->name, b, sngi_shape_str(&p->shape, w, sizeof w));
        memcpy(sngi_session_param(s, i), v, sizeof(float) * (size_t)sngi_shape_numel(&p->shape));
    }
    size_t opt_n;
    float *opt = sngi_session_opt_state(s, &opt_n);
    if (with_optim && opt_n) {
        size_t len;
        const void *d = sngi_ckpt_entry(c, "optim/state.npy", &len);
        if (!d) return sngi_fail(ctx, SNG_ERR_DATA, "%s: no optimiser state to resume from", path);
        int dims[SNG_MAX_DIMS + 2], nd;
        const float *v;
        char what[4200];
        snprintf(what, sizeof what, "%s: optim/state.npy", path);
        sng_status st = sngi_npy_parse(ctx, what, d, len, dims, &nd, &v);
        if (st) return st;
        if (nd != 1 || (size_t)dims[0] != opt_n)
            return sngi_fail(ctx, SNG_ERR_DATA, "%s: optimiser state has %d values, expected %zu "
                                                "(another optimiser?)",
                             path, nd == 1 ? dims[0] : -1, opt_n);
        memcpy(opt, v, opt_n * 4);
    }
    return SNG_OK;
}

/* ---- rewriting -------------------------------------------------------------------------------- */
sng_status sngi_ckpt_write(sng_ctx *ctx, const sngi_ckpt *c, const char *path) {
    sngi_atomic at;
    sng_status st = sngi_atomic_open(ctx, path, &at);
    if (st) return st;
    struct archive *a = archive_write_new();
    if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_FILE(a, at.f) != ARCHIVE_OK)
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot write archive", at.tmp);
    for (int i = 0; i < c->n && !st; i++)
        st = add_entry(ctx, a, c->names[i], c->data[i], c->sizes[i], NULL, 0);
    if (!st && archive_write_close(a) != ARCHIVE_OK)
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", at.tmp,
                       archive_error_string(a) ? archive_error_string(a) : "write failed");
    if (a) archive_write_free(a);
    if (st) {
        sngi_atomic_abort(&at);
        return st;
    }
    return sngi_atomic_commit(ctx, &at);
}
