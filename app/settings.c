/*
 * settings.c — the run settings table and its typed readers (see settings.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/settings.h"

#define BIG 1099511627776.0 /* 2^40: step counts and sizes no run reaches */

static const sngi_setting_def table[] = {
    {"train.optimizer", SNGI_SET_CHOICE, "sgd", 0, 0, "sgd|adam|adamw", "the optimiser"},
    {"train.lr", SNGI_SET_REAL, NULL, 0, 10, NULL,
     "base learning rate (default 0.01 for sgd, 1e-3 for adam and adamw)"},
    {"train.momentum", SNGI_SET_REAL, "0.9", 0, 0.999999, NULL, "SGD momentum"},
    {"train.nesterov", SNGI_SET_INT, "0", 0, 1, NULL, "1: Nesterov momentum (SGD)"},
    {"train.beta1", SNGI_SET_REAL, "0.9", 0, 0.999999, NULL, "Adam first-moment decay"},
    {"train.beta2", SNGI_SET_REAL, "0.999", 0, 0.99999999, NULL, "Adam second-moment decay"},
    {"train.eps", SNGI_SET_REAL, "1e-8", 1e-12, 1, NULL, "Adam epsilon"},
    {"train.weight_decay", SNGI_SET_REAL, NULL, 0, 1, NULL,
     "L2 weight decay, decoupled for adamw (default 0, 0.01 for adamw)"},
    {"train.schedule", SNGI_SET_CHOICE, "constant", 0, 0, "constant|step|cosine",
     "learning-rate schedule"},
    {"train.step_every", SNGI_SET_INT, "1000", 1, BIG, NULL, "step schedule: steps per decay"},
    {"train.gamma", SNGI_SET_REAL, "0.1", 0, 1, NULL, "step schedule: decay factor"},
    {"train.min_lr", SNGI_SET_REAL, "0", 0, 10, NULL, "cosine schedule: final learning rate"},
    {"train.warmup", SNGI_SET_INT, "0", 0, BIG, NULL, "linear warm-up steps"},
    {"train.clip_norm", SNGI_SET_REAL, "0", 0, 1e9, NULL,
     "clip the global gradient norm (0: off)"},
    {"train.batch", SNGI_SET_INT, "32", 1, 65536, NULL, "pairs (or triplets) per step"},
    {"train.steps", SNGI_SET_INT, "1000", 1, BIG, NULL, "training steps"},
    {"train.epochs", SNGI_SET_INT, "0", 0, 1073741824, NULL,
     "when > 0, replaces train.steps: epochs x ceil(training images / (ranks x batch))"},
    {"train.seed", SNGI_SET_INT, "1", 0, 4611686018427387904.0, NULL,
     "seed of initialisation, sampling and dropout"},
    {"train.init_from", SNGI_SET_TEXT, NULL, 0, 0, NULL,
     "directory, archive or checkpoint of NAME.npy parameters to start from"},
    {"train.log_every", SNGI_SET_INT, "10", 1, BIG, NULL, "steps between log lines"},
    {"train.eval_every", SNGI_SET_INT, "0", 0, BIG, NULL,
     "steps between validations (0: at the end only)"},
    {"train.checkpoint_every", SNGI_SET_INT, "0", 0, BIG, NULL,
     "steps between checkpoints (0: at the end only)"},
    {"train.patience", SNGI_SET_INT, "0", 0, 1048576, NULL,
     "early stop after this many validations without a better AUC (0: off)"},
    {"data.source", SNGI_SET_TEXT, NULL, 0, 0, NULL,
     "one directory or archive for every split (split by classes)"},
    {"data.train.source", SNGI_SET_TEXT, NULL, 0, 0, NULL, "the training split's source"},
    {"data.val.source", SNGI_SET_TEXT, NULL, 0, 0, NULL, "the validation split's source"},
    {"data.test.source", SNGI_SET_TEXT, NULL, 0, 0, NULL, "the test split's source"},
    {"data.train.classes", SNGI_SET_TEXT, NULL, 0, 0, NULL,
     "training classes: names or fnmatch patterns"},
    {"data.val.classes", SNGI_SET_TEXT, NULL, 0, 0, NULL, "validation classes"},
    {"data.test.classes", SNGI_SET_TEXT, NULL, 0, 0, NULL, "test classes"},
    {"data.split", SNGI_SET_TEXT, "0.8,0.1,0.1", 0, 0, NULL,
     "train,val,test class fractions when no class lists are given"},
    {"data.by_group", SNGI_SET_INT, "0", 0, 1, NULL, "1: split whole groups (alphabets)"},
    {"data.by_image", SNGI_SET_INT, "0", 0, 1, NULL, "1: split images instead of classes"},
    {"data.depth", SNGI_SET_INT, "0", 0, 16, NULL,
     "directory level that names the class (0: the image's folder)"},
    {"data.labels", SNGI_SET_TEXT, NULL, 0, 0, NULL, "IDX label file for an IDX image file"},
    {"data.strict", SNGI_SET_INT, "0", 0, 1, NULL, "1: an undecodable image is an error"},
    {"data.allow_partial", SNGI_SET_INT, "0", 0, 1, NULL,
     "1: a truncated or corrupt archive keeps what was read before the break, with a warning"},
    {"data.max_images", SNGI_SET_INT, "0", 0, BIG, NULL, "read at most this many (0: all)"},
    {"data.scale", SNGI_SET_REAL, "0.00392156862745098", -1e6, 1e6, NULL,
     "pixel factor: x' = (x * scale - mean) / std (default 1/255)"},
    {"data.mean", SNGI_SET_REAL, "0", -1e6, 1e6, NULL, "pixel mean subtracted after scaling"},
    {"data.std", SNGI_SET_REAL, "1", 1e-9, 1e6, NULL, "pixel divisor after the mean"},
    {"data.pos_fraction", SNGI_SET_REAL, "0.5", 0, 1, NULL,
     "fraction of same-class training pairs"},
    {"data.augment", SNGI_SET_INT, "0", 0, 1, NULL, "1: random affine distortions (Koch et al.)"},
    {"data.flip", SNGI_SET_INT, "0", 0, 1, NULL, "1: random horizontal flips"},
    {"eval.pairs", SNGI_SET_INT, "1000", 2, 1073741824, NULL, "verification pairs per split"},
    {"eval.batch", SNGI_SET_INT, "64", 1, 65536, NULL, "inference batch of evaluation"},
    {"eval.way", SNGI_SET_INT, "20", 2, 1000, NULL, "N of the N-way K-shot episodes"},
    {"eval.shot", SNGI_SET_INT, "1", 1, 100, NULL, "K of the N-way K-shot episodes"},
    {"eval.episodes", SNGI_SET_INT, "400", 0, 1048576, NULL, "one-shot episodes on the test split"},
};

const sngi_setting_def *sngi_settings(int *n) {
    *n = (int)(sizeof table / sizeof table[0]);
    return table;
}

const sngi_setting_def *sngi_setting_find(const char *key) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].key, key)) return &table[i];
    return NULL;
}

static sng_status lookup(sng_ctx *ctx, const char *key, sngi_set_type t,
                         const sngi_setting_def **d) {
    *d = sngi_setting_find(key);
    if (!*d || (*d)->type != t)
        return sngi_fail(ctx, SNG_ERR_INTERNAL, "setting '%s' read as a type the table does not "
                                                "give it",
                         key);
    return SNG_OK;
}

sng_status sngi_setting_int(sng_ctx *ctx, sng_graph *g, const char *key, long *out) {
    const sngi_setting_def *d;
    sng_status st = lookup(ctx, key, SNGI_SET_INT, &d);
    if (st) return st;
    return sngi_cfg_int(ctx, g, key, strtol(d->def, NULL, 10), (long)d->lo, (long)d->hi, out);
}

sng_status sngi_setting_double_or(sng_ctx *ctx, sng_graph *g, const char *key, double def,
                                  double *out) {
    const sngi_setting_def *d;
    sng_status st = lookup(ctx, key, SNGI_SET_REAL, &d);
    if (st) return st;
    return sngi_cfg_double(ctx, g, key, def, d->lo, d->hi, out);
}

sng_status sngi_setting_double(sng_ctx *ctx, sng_graph *g, const char *key, double *out) {
    const sngi_setting_def *d;
    sng_status st = lookup(ctx, key, SNGI_SET_REAL, &d);
    if (st) return st;
    if (!d->def)
        return sngi_fail(ctx, SNG_ERR_INTERNAL, "setting '%s' has no fixed default", key);
    return sngi_cfg_double(ctx, g, key, strtod(d->def, NULL), d->lo, d->hi, out);
}

sng_status sngi_setting_text(sng_ctx *ctx, sng_graph *g, const char *key, const char **out) {
    const sngi_setting_def *d;
    sng_status st = lookup(ctx, key, SNGI_SET_TEXT, &d);
    if (st) return st;
    const char *v = sngi_cfg_get(g, key);
    *out = v && *v ? v : d->def;
    return SNG_OK;
}

sng_status sngi_setting_choice(sng_ctx *ctx, sng_graph *g, const char *key, int *out) {
    const sngi_setting_def *d;
    sng_status st = lookup(ctx, key, SNGI_SET_CHOICE, &d);
    if (st) return st;
    const char *v = sngi_cfg_get(g, key);
    if (!v || !*v) v = d->def;
    size_t lv = strlen(v);
    int idx = 0;
    for (const char *p = d->choices;; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == lv && !strncmp(p, v, len)) {
            *out = idx;
            return SNG_OK;
        }
        if (!bar) break;
        p = bar + 1;
    }
    char want[128];
    snprintf(want, sizeof want, "one of %s", d->choices);
    for (char *q = want; *q; q++)
        if (*q == '|') *q = ',';
    return sngi_cfg_bad(ctx, g, key, want);
}

sng_status sngi_settings_check(sng_ctx *ctx, const sng_graph *g) {
    /* Every key, whatever its namespace: `trian.steps` is as much a typo as `train.stpes`. */
    for (int i = 0; i < g->cfg.n; i++) {
        const char *k = g->cfg.kv[i].key;
        if (sngi_setting_find(k)) continue;
        const char *best = NULL;
        int bd = 3;
        for (size_t t = 0; t < sizeof table / sizeof table[0]; t++) {
            int dd = sngi_edit_distance(k, table[t].key);
            if (dd < bd) bd = dd, best = table[t].key;
        }
        if (best)
            return sngi_fail_at(ctx, SNG_ERR_MODEL, g->cfg.files[i], g->cfg.kv[i].line,
                                "unknown setting '%s' (did you mean '%s'?)", k, best);
        return sngi_fail_at(ctx, SNG_ERR_MODEL, g->cfg.files[i], g->cfg.kv[i].line,
                            "unknown setting '%s' (`sngraph settings` lists them)", k);
    }
    return SNG_OK;
}
