/*
 * feed.c — data.* settings -> datasets, splits, samplers and a prefetching loader, served to
 * the training loop and evaluation as a feed (see feed.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "app/feed.h"
#include "app/preprocess.h"
#include "app/settings.h"
#include "loaders/loader.h"

struct sngi_data {
    sng_ctx *ctx;
    sngi_io io;
    sngi_dataset *ds[3];      /* owned when own[i] */
    int own[3];
    sngi_subset *sub[3];
    sngi_sampler *train_s;    /* pairs or triplets over the train split */
    sngi_sampler *eval_s[3];  /* pairs over val/test */
    sngi_sampler *epi_s[3];   /* episodes over val/test (created on demand) */
    int epi_way, epi_shot;
    sngi_loader *loader;
    int shard, n_shards;
    uint64_t seed;
    long eval_pairs;
};

static const char *split_name[3] = {"train", "val", "test"};

void sngi_data_free(sngi_data *r) {
    if (!r) return;
    sngi_loader_free(r->loader);
    sngi_sampler_free(r->train_s);
    for (int i = 0; i < 3; i++) {
        sngi_sampler_free(r->eval_s[i]);
        sngi_sampler_free(r->epi_s[i]);
        sngi_subset_free(r->sub[i]);
    }
    for (int i = 0; i < 3; i++)
        if (r->own[i]) sngi_dataset_free(r->ds[i]);
    free(r);
}

/* ---- feed callbacks --------------------------------------------------------------------------- */
static sng_status feed_train(void *user, float *const *bufs, int batch, int64_t step,
                             double *wait) {
    sngi_data *r = user;
    if (!r->loader) return sngi_fail(r->ctx, SNG_ERR_USAGE, "the data were opened without training");
    if (sngi_loader_step(r->loader) != step) sngi_loader_seek(r->loader, step);
    double w0 = sngi_loader_wait_seconds(r->loader);
    if (r->n_shards > 1) {
        /* The loader draws the global batch of n_shards * batch samples, exactly what one
         * process with that batch would draw (a batch is a function of seed, step and size);
         * this rank keeps samples [shard * batch, (shard + 1) * batch). */
        const float *const *all;
        sngi_loader_borrow(r->loader, &all);
        for (int i = 0; i < sngi_sampler_n_bufs(r->train_s); i++) {
            size_t per = (size_t)sngi_sampler_buf_len(r->train_s, 1, i);
            memcpy(bufs[i], all[i] + (size_t)r->shard * (size_t)batch * per,
                   sizeof(float) * (size_t)batch * per);
        }
    } else {
        sngi_loader_next(r->loader, bufs);
    }
    *wait += sngi_loader_wait_seconds(r->loader) - w0;
    return SNG_OK;
}

static sng_status feed_pairs(void *user, int split, int64_t first, int b, float *a, float *bimg,
                             float *label, int *got) {
    sngi_data *r = user;
    if (!r->eval_s[split]) return sngi_fail(r->ctx, SNG_ERR_DATA, "no %s split", split_name[split]);
    float *bufs[3] = {a, bimg, label};
    /* Pair list of a split: a pure function of (seed, first): the same pairs every evaluation. */
    sngi_sampler_fill(r->eval_s[split], b, r->seed + 1000003ULL * (uint64_t)(split + 1), first, bufs);
    *got = b;
    return SNG_OK;
}

static sng_status feed_episode(void *user, int split, int64_t index, int way, int shot,
                               float *query, float *support, int *answer) {
    sngi_data *r = user;
    if (!r->sub[split]) return sngi_fail(r->ctx, SNG_ERR_DATA, "no %s split", split_name[split]);
    if (!r->epi_s[split] || r->epi_way != way || r->epi_shot != shot) {
        sngi_sampler_free(r->epi_s[split]);
        r->epi_s[split] = NULL;
        sngi_sampler_opts so;
        sngi_sampler_opts_init(&so);
        so.kind = SNG_SAMPLE_EPISODES;
        so.n_way = way;
        so.k_shot = shot;
        so.n_query = 1;
        if (sngi_sampler_new(r->ctx, r->ds[split], r->sub[split], &so, &r->epi_s[split]))
            return SNG_ERR_DATA; /* too few classes for this many ways: reported by the caller */
        r->epi_way = way;
        r->epi_shot = shot;
    }
    float lab = 0;
    float *bufs[3] = {support, query, &lab};
    sngi_sampler_fill(r->epi_s[split], 1, r->seed + 7777, index, bufs);
    *answer = (int)lab;
    return SNG_OK;
}

static int feed_classes(void *user, int split, int min_images) {
    sngi_data *r = user;
    if (split < 0 || split > 2 || !r->sub[split]) return 0;
    int n = 0;
    for (int i = 0; i < sngi_subset_n_classes(r->sub[split]); i++)
        n += sngi_subset_n_images(r->sub[split], i) >= min_images;
    return n;
}

/* ---- set-up ---------------------------------------------------------------------------------- */
static sng_status load_ds(sngi_data *r, const char *source, const sngi_dataset_opts *base,
                          sngi_dataset **out) {
    sngi_dataset_opts o = *base;
    o.source = source;
    return sngi_dataset_load(r->ctx, &o, out);
}

/* The loader options of g's data.* settings: image size and normalisation from the model. */
static sng_status base_opts(sng_ctx *ctx, sng_graph *g, const sngi_io *io, sngi_dataset_opts *base) {
    sngi_prep p;
    sng_status st = sngi_prep_from_graph(ctx, g, io->img[0], &p);
    if (st) return st;
    sngi_dataset_opts_init(base);
    base->channels = p.c;
    base->height = p.h;
    base->width = p.w;
    base->scale = p.scale;
    base->mean = p.mean;
    base->std = p.std;
    long v;
    if ((st = sngi_setting_int(ctx, g, "data.depth", &v))) return st;
    base->class_depth = (int)v;
    if ((st = sngi_setting_int(ctx, g, "data.strict", &v))) return st;
    base->strict = (int)v;
    if ((st = sngi_setting_int(ctx, g, "data.allow_partial", &v))) return st;
    base->allow_partial = (int)v;
    if ((st = sngi_setting_int(ctx, g, "data.max_images", &v))) return st;
    base->max_images = v;
    return sngi_setting_text(ctx, g, "data.labels", &base->idx_labels);
}

/* Splits: splits sharing a dataset are cut from it together (class-disjoint); a split with its
 * own dataset takes the classes its list names, or all of them. */
static sng_status make_splits(sngi_data *r, const sngi_split_opts *so, const char *const *lists) {
    sng_ctx *ctx = r->ctx;
    sng_status st;
    for (int i = 0; i < 3; i++) {
        if (!r->ds[i] || r->sub[i]) continue;
        int group[3] = {0}, n_group = 0;
        for (int j = 0; j < 3; j++)
            if (r->ds[j] == r->ds[i]) group[j] = 1, n_group++;
        sngi_split_opts o = *so;
        int any_list = 0;
        for (int j = 0; j < 3; j++) {
            o.lists[j] = group[j] ? lists[j] : NULL;
            any_list |= o.lists[j] != NULL;
        }
        if (n_group == 1 && !any_list) {
            if ((st = sngi_subset_all(ctx, r->ds[i], &r->sub[i]))) return st;
            continue;
        }
        sngi_subset *parts[3];
        if (n_group == 1) {
            /* Only this split uses the dataset: its list picks the classes. */
            o.lists[0] = NULL;
            o.lists[1] = lists[i];
            o.lists[2] = NULL;
            if ((st = sngi_split(ctx, r->ds[i], &o, parts))) return st;
            r->sub[i] = parts[1];
            sngi_subset_free(parts[0]);
            sngi_subset_free(parts[2]);
            continue;
        }
        for (int j = 0; j < 3; j++)
            if (!group[j]) o.frac[j] = 0;
        if ((st = sngi_split(ctx, r->ds[i], &o, parts))) return st;
        for (int j = 0; j < 3; j++) {
            if (group[j] && sngi_subset_n_classes(parts[j]) > 0)
                r->sub[j] = parts[j];
            else
                sngi_subset_free(parts[j]);
        }
    }
    return SNG_OK;
}

static sng_status data_init(sngi_data *r, sng_graph *g, const sngi_data_opts *o) {
    sng_ctx *ctx = r->ctx;
    sng_status st = sngi_io_get(ctx, g, &r->io);
    if (!st) st = sngi_io_check_feedable(ctx, g, &r->io, o->need_train);
    if (st) return st;
    long v, batch;
    if ((st = sngi_setting_int(ctx, g, "train.seed", &v)) ||
        (st = sngi_setting_int(ctx, g, "eval.pairs", &r->eval_pairs)) ||
        (st = sngi_setting_int(ctx, g, "train.batch", &batch)))
        return st;
    r->seed = (uint64_t)v;
    sngi_dataset_opts base;
    if ((st = base_opts(ctx, g, &r->io, &base))) return st;

    const char *common, *src[3], *lists[3], *fr;
    if ((st = sngi_setting_text(ctx, g, "data.source", &common))) return st;
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "data.%s.source", split_name[i]);
        if ((st = sngi_setting_text(ctx, g, key, &src[i]))) return st;
        snprintf(key, sizeof key, "data.%s.classes", split_name[i]);
        if ((st = sngi_setting_text(ctx, g, key, &lists[i]))) return st;
        if (!src[i]) src[i] = common;
    }
    if (o->whole_test_source && src[2] && sngi_cfg_get(g, "data.test.source") && !lists[2])
        src[0] = src[1] = NULL;
    if (!src[0] && o->need_train)
        return sngi_fail(ctx, SNG_ERR_MODEL,
                         "%s: no training data: set data.source or data.train.source (e.g. "
                         "--set data.source=images.zip)",
                         g->file);
    sngi_split_opts so;
    sngi_split_opts_init(&so);
    so.seed = r->seed;
    if ((st = sngi_setting_text(ctx, g, "data.split", &fr))) return st;
    int end = -1;
    if (sscanf(fr, "%lf,%lf,%lf%n", &so.frac[0], &so.frac[1], &so.frac[2], &end) != 3 ||
        fr[end] || !(so.frac[0] >= 0 && so.frac[1] >= 0 && so.frac[2] >= 0) ||
        !(so.frac[0] + so.frac[1] + so.frac[2] > 0))
        return sngi_fail(ctx, SNG_ERR_MODEL, "data.split=\"%s\": expected three fractions like "
                                             "0.8,0.1,0.1",
                         fr);
    if ((st = sngi_setting_int(ctx, g, "data.by_group", &v))) return st;
    so.by_group = (int)v;
    if ((st = sngi_setting_int(ctx, g, "data.by_image", &v))) return st;
    so.by_image = (int)v;
    sngi_sampler_opts sm;
    sngi_sampler_opts_init(&sm);
    double d;
    if ((st = sngi_setting_double(ctx, g, "data.pos_fraction", &d))) return st;
    sm.pos_fraction = (float)d;
    if ((st = sngi_setting_int(ctx, g, "data.augment", &v))) return st;
    sm.aug.affine = (int)v;
    if ((st = sngi_setting_int(ctx, g, "data.flip", &v))) return st;
    sm.aug.flip = (int)v;
    /* Every key is known before any data are read: a typo is reported first. */
    if ((st = sngi_settings_check(ctx, g))) return st;

    /* Load each distinct source once. */
    for (int i = 0; i < 3; i++) {
        if (!src[i]) continue;
        for (int j = 0; j < i && !r->ds[i]; j++)
            if (src[j] && !strcmp(src[j], src[i])) r->ds[i] = r->ds[j];
        if (!r->ds[i]) {
            if ((st = load_ds(r, src[i], &base, &r->ds[i]))) return st;
            r->own[i] = 1;
        }
    }
    if ((st = make_splits(r, &so, lists))) return st;
    if (o->need_train) {
        if (!r->sub[0]) return sngi_fail(ctx, SNG_ERR_DATA, "the training split is empty");
        sm.kind = r->io.label >= 0 ? SNG_SAMPLE_PAIRS : SNG_SAMPLE_TRIPLETS;
        if ((st = sngi_sampler_new(ctx, r->ds[0], r->sub[0], &sm, &r->train_s))) return st;
        if (batch * r->n_shards > (1L << 20))
            return sngi_fail(ctx, SNG_ERR_USAGE, "%d ranks x train.batch=%ld is too large a "
                                                 "global batch",
                             r->n_shards, batch);
        if ((st = sngi_loader_new(ctx, r->train_s, (int)(batch * r->n_shards), r->seed, 2,
                                 &r->loader)))
            return st;
    }
    sm.aug.affine = sm.aug.flip = 0;
    sm.kind = SNG_SAMPLE_PAIRS;
    sm.pos_fraction = 0.5f;
    for (int i = 1; i < 3; i++)
        if (r->sub[i] && (st = sngi_sampler_new(ctx, r->ds[i], r->sub[i], &sm, &r->eval_s[i])))
            return st;
    return SNG_OK;
}

sng_status sngi_data_train_source(sng_ctx *ctx, sng_graph *g, sngi_dataset_opts *o) {
    sngi_io io;
    sng_status st = sngi_io_get(ctx, g, &io);
    if (!st) st = base_opts(ctx, g, &io, o);
    const char *src = NULL;
    if (!st) st = sngi_setting_text(ctx, g, "data.train.source", &src);
    if (!st && !src) st = sngi_setting_text(ctx, g, "data.source", &src);
    if (!st && !src)
        st = sngi_fail(ctx, SNG_ERR_MODEL, "%s names no data source (data.source or "
                                           "data.train.source)",
                       g->file);
    if (!st) o->source = src;
    return st;
}

sng_status sngi_data_describe_source(sng_ctx *ctx, const sngi_dataset_opts *o, FILE *out,
                                     int json, int *n_skipped) {
    sngi_dataset *d = NULL;
    *n_skipped = 0;
    sng_status st = sngi_dataset_load(ctx, o, &d);
    if (st) return st;
    sngi_data_describe(d, out, json);
    *n_skipped = sngi_dataset_n_skipped(d);
    sngi_dataset_free(d);
    return SNG_OK;
}

sng_status sngi_data_open(sng_ctx *ctx, sng_graph *g, const sngi_data_opts *o, sngi_data **out) {
    *out = NULL;
    sngi_data *r = calloc(1, sizeof *r);
    if (!r) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    r->ctx = ctx;
    r->shard = o->n_shards > 1 ? o->shard : 0;
    r->n_shards = o->n_shards > 1 ? o->n_shards : 1;
    sng_status st = data_init(r, g, o);
    if (st) {
        sngi_data_free(r);
        return st;
    }
    *out = r;
    return SNG_OK;
}

void sngi_data_feed(sngi_data *r, sngi_feed *f) {
    memset(f, 0, sizeof *f);
    f->user = r;
    f->train_batch = feed_train;
    f->pairs = feed_pairs;
    f->episode = feed_episode;
    f->classes = feed_classes;
    f->n_train_images = r->sub[0] ? sngi_subset_total_images(r->sub[0]) : 0;
    for (int i = 1; i < 3; i++) {
        f->has_split[i] = r->eval_s[i] != NULL;
        f->n_pairs[i] = r->eval_s[i] ? r->eval_pairs : 0;
    }
}

int sngi_data_has_split(const sngi_data *r, int split) {
    return split >= 0 && split < 3 && r->eval_s[split] != NULL;
}

double sngi_data_wait_seconds(const sngi_data *r) {
    return r->loader ? sngi_loader_wait_seconds(r->loader) : 0;
}

double sngi_data_fill_seconds(const sngi_data *r) {
    return r->loader ? sngi_loader_fill_seconds(r->loader) : 0;
}
