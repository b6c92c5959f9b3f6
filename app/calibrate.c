/*
 * calibrate.c — scores the user's pairs with a checkpoint, picks the threshold for a target
 * false accept rate (or equal error) and writes it into the checkpoint's manifest.json.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/calibrate.h"
#include "app/ckpt.h"
#include "app/metrics.h"

/* Reads and decodes one image file into dst. */
static sng_status load(sng_ctx *ctx, const sngi_model *m, const char *path, float *dst) {
    uint8_t *buf;
    size_t n;
    sng_status st = sngi_read_image_file(ctx, path, &buf, &n);
    if (st) return st;
    st = sngi_model_decode(m, path, buf, n, 0, dst);
    free(buf);
    return st;
}

sng_status sngi_calibrate(sng_ctx *ctx, sngi_model *m, const sngi_calib_pairs *p,
                          double target_far, sngi_calib_result *r) {
    memset(r, 0, sizeof *r);
    r->target_far = target_far;
    r->n = p->n;
    for (int i = 0; i < p->n; i++) {
        if (p->label[i] > 0.5f) r->n_same++;
        else r->n_diff++;
    }
    if (!r->n_same || !r->n_diff)
        return sngi_fail(ctx, SNG_ERR_DATA, "all %d pairs are labelled %s: calibrating needs both "
                                            "same (1) and different (0) pairs",
                         p->n, r->n_same ? "same" : "different");
    float *img = malloc(sizeof(float) * (size_t)(2 * m->img_numel));
    float *emb = malloc(sizeof(float) * (size_t)(2 * m->emb_numel));
    float *score = malloc(sizeof(float) * (size_t)p->n);
    sng_status st = img && emb && score ? SNG_OK : sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->n && !st; i++) {
        if (!(st = load(ctx, m, p->a[i], img)) &&
            !(st = load(ctx, m, p->b[i], img + m->img_numel)) &&
            !(st = sngi_model_embed(m, img, 2, emb)))
            st = sngi_model_score(m, emb, emb + m->emb_numel, 1, 1, &score[i]);
    }
    if (!st) {
        sngi_verif v;
        sngi_verif_metrics(score, p->label, (size_t)p->n, &v);
        r->auc = v.auc;
        r->eer = v.eer;
        if (sngi_verif_pick(score, p->label, (size_t)p->n, target_far, &r->threshold))
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        sngi_verif_rates(score, p->label, (size_t)p->n, r->threshold, &r->far, &r->frr);
        r->tar_at_far = target_far < 0 ? v.tar_at_far3 : 1 - r->frr;
    }
    free(img);
    free(emb);
    free(score);
    return st;
}

/* text with the value of the first `"key":` replaced by val, or (absent) `"key":val,` inserted
 * before `"before":`. A new string (the caller frees), NULL when out of memory or neither key
 * is found. */
static char *set_key(const char *text, const char *key, const char *before, const char *val) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat), *rest;
    char *out = NULL;
    size_t n;
    FILE *f = open_memstream(&out, &n);
    if (!f) return NULL;
    if (p) {
        p += strlen(pat);
        rest = p;
        while (*rest && *rest != ',' && *rest != '}') rest++; /* a number or null */
        fprintf(f, "%.*s%s%s", (int)(p - text), text, val, rest);
    } else {
        char bp[64];
        snprintf(bp, sizeof bp, "\"%s\":", before);
        const char *b = strstr(text, bp);
        if (b) fprintf(f, "%.*s%s%s,%s", (int)(b - text), text, pat, val, b);
    }
    if (ferror(f) | fclose(f) || !out || !*out) {
        free(out);
        return NULL;
    }
    return out;
}

sng_status sngi_calib_write(sng_ctx *ctx, const char *in, const char *out,
                            const sngi_calib_result *r) {
    sngi_ckpt *c;
    sng_status st = sngi_ckpt_read(ctx, in, &c);
    if (st) return st;
    int mi = -1;
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->names[i], "manifest.json")) mi = i;
    char v[3][40];
    snprintf(v[0], sizeof v[0], "%.9g", r->threshold);
    snprintf(v[1], sizeof v[1], "%.6f", r->far);
    snprintf(v[2], sizeof v[2], "%.6f", r->frr);
    /* threshold_far/frr go before "metrics", so they are the first of their names: those of the
     * training run's metrics describe its own (validation) threshold. */
    char *m1 = set_key(c->data[mi], "threshold", "metrics", v[0]);
    char *m2 = m1 ? set_key(m1, "threshold_far", "metrics", v[1]) : NULL;
    char *m3 = m2 ? set_key(m2, "threshold_frr", "metrics", v[2]) : NULL;
    free(m1);
    free(m2);
    if (!m3) {
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: cannot edit manifest.json (no threshold or "
                                          "metrics key)",
                       in);
    } else {
        free(c->data[mi]);
        c->data[mi] = m3;
        c->sizes[mi] = strlen(m3);
        st = sngi_ckpt_write(ctx, c, out);
    }
    sngi_ckpt_free(c);
    return st;
}
