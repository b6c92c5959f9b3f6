/*
 * cmd_run.c — `sngraph run` and `sngraph eval`: the model's <data> settings become datasets,
 * class-disjoint splits, samplers and a prefetching loader, handed to the training loop as a
 * feed. Settings (all overridable with --set):
 *   data.source             one source for every split (split by classes), or per split:
 *   data.train.source, data.val.source, data.test.source
 *   data.train.classes, data.val.classes, data.test.classes   class names or fnmatch patterns
 *   data.split              "0.8,0.1,0.1" fractions when no class lists are given
 *   data.by_group           1: split whole alphabets
 *   data.depth, data.labels, data.strict, data.allow_partial, data.scale, data.mean, data.std, data.max_images
 *   data.pos_fraction, data.augment (0/1: Koch affine), data.flip (0/1)
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "app/ckpt.h"
#include "app/dist.h"
#include "app/train.h"
#include "loaders/loader.h"

#define MAX_SET 64

typedef struct run_data {
    sng_ctx *ctx;
    sng_graph *g;
    sngi_io io;
    sng_dataset *ds[3];      /* owned when own[i] */
    int own[3];
    sng_subset *sub[3];
    sng_sampler *train_s;    /* pairs or triplets over the train split */
    sng_sampler *eval_s[3];  /* pairs over val/test */
    sng_sampler *epi_s[3];   /* episodes over val/test (created on demand) */
    int epi_way, epi_shot;
    sng_loader *loader;
    int shard, n_shards;     /* data parallel: this rank takes slice `shard` of n_shards */
    uint64_t seed;
    int64_t img_numel;
    float *tmp_label;
} run_data;

static const char *split_name[3] = {"train", "val", "test"};

static void run_data_free(run_data *r) {
    sng_loader_free(r->loader);
    sng_sampler_free(r->train_s);
    for (int i = 0; i < 3; i++) {
        sng_sampler_free(r->eval_s[i]);
        sng_sampler_free(r->epi_s[i]);
        sng_subset_free(r->sub[i]);
    }
    for (int i = 0; i < 3; i++)
        if (r->own[i]) sng_dataset_free(r->ds[i]);
    free(r->tmp_label);
}

/* ---- feed callbacks --------------------------------------------------------------------------- */
static sng_status feed_train(void *user, float *const *inputs, int batch, int64_t step,
                             double *wait) {
    run_data *r = user;
    if (sng_loader_step(r->loader) != step) sng_loader_seek(r->loader, step);
    double w0 = sng_loader_wait_seconds(r->loader);
    float *bufs[3];
    const sngi_io *io = &r->io;
    if (sng_sampler_n_bufs(r->train_s) == 3 && io->label >= 0) { /* pairs: A, B, label */
        bufs[0] = inputs[0];
        bufs[1] = inputs[1];
        bufs[2] = inputs[2];
    } else {
        for (int i = 0; i < 3; i++) bufs[i] = inputs[i];
    }
    if (r->n_shards > 1) {
        /* The loader draws the global batch of n_shards * batch samples, exactly what one
         * process with that batch would draw (a batch is a function of seed, step and size);
         * this rank keeps samples [shard * batch, (shard + 1) * batch). */
        const float *const *all;
        sng_loader_borrow(r->loader, &all);
        for (int i = 0; i < sng_sampler_n_bufs(r->train_s); i++) {
            size_t per = (size_t)sng_sampler_buf_len(r->train_s, 1, i);
            memcpy(bufs[i], all[i] + (size_t)r->shard * (size_t)batch * per,
                   sizeof(float) * (size_t)batch * per);
        }
    } else {
        sng_loader_next(r->loader, bufs);
    }
    *wait += sng_loader_wait_seconds(r->loader) - w0;
    return SNG_OK;
}

static sng_status feed_pairs(void *user, int split, int64_t first, int b, float *a, float *bimg,
                             float *label, int *got) {
    run_data *r = user;
    if (!r->eval_s[split]) return sngi_fail(r->ctx, SNG_ERR_DATA, "no %s split", split_name[split]);
    float *bufs[3] = {a, bimg, label};
    /* Pair list of a split: a pure function of (seed, first): the same pairs every evaluation. */
    sng_sampler_fill(r->eval_s[split], b, r->seed + 1000003ULL * (uint64_t)(split + 1), first, bufs);
    *got = b;
    return SNG_OK;
}

static sng_status feed_episode(void *user, int split, int64_t index, int way, int shot,
                               float *query, float *support, int *answer) {
    run_data *r = user;
    if (!r->sub[split]) return sngi_fail(r->ctx, SNG_ERR_DATA, "no %s split", split_name[split]);
    if (!r->epi_s[split] || r->epi_way != way || r->epi_shot != shot) {
        sng_sampler_free(r->epi_s[split]);
        r->epi_s[split] = NULL;
        sng_sampler_opts so;
        sng_sampler_opts_init(&so);
        so.kind = SNG_SAMPLE_EPISODES;
        so.n_way = way;
        so.k_shot = shot;
        so.n_query = 1;
        if (sng_sampler_new(r->ctx, r->ds[split], r->sub[split], &so, &r->epi_s[split]))
            return SNG_ERR_DATA; /* too few classes for this many ways: reported by the caller */
        r->epi_way = way;
        r->epi_shot = shot;
    }
    float lab = 0;
    float *bufs[3] = {support, query, &lab};
    sng_sampler_fill(r->epi_s[split], 1, r->seed + 7777, index, bufs);
    *answer = (int)lab;
    return SNG_OK;
}

/* ---- set-up ---------------------------------------------------------------------------------- */
static sng_status cfg_str(sng_graph *g, const char *key, const char *def, const char **out) {
    const char *v = sngi_cfg_get(g, key);
    *out = v && *v ? v : def;
    return SNG_OK;
}

static sng_status load_ds(run_data *r, const char *source, const sng_data_opts *base,
                          sng_dataset **out) {
    sng_data_opts o = *base;
    o.source = source;
    return sng_dataset_load(r->ctx, &o, out);
}

/* Builds datasets, splits and samplers from the model's <data> settings. */
static sng_status run_data_init(run_data *r, sng_ctx *ctx, sng_graph *g, int need_train,
                                int64_t eval_pairs) {
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->g = g;
    sng_status st = sngi_io_get(ctx, g, &r->io);
    if (st) return st;
    long v;
    if ((st = sngi_cfg_int(ctx, g, "train.seed", 1, 0, 1L << 62, &v))) return st;
    r->seed = (uint64_t)v;
    const sngi_node *img = &g->nodes[r->io.img[0]];
    if (img->shape.nd != 3)
        return sngi_fail(ctx, SNG_ERR_MODEL, "%s: image input '%s' must be (C,H,W)", g->file,
                         img->name);
    r->img_numel = sngi_shape_numel(&img->shape);
    sng_data_opts base;
    sng_data_opts_init(&base);
    base.channels = img->shape.d[0];
    base.height = img->shape.d[1];
    base.width = img->shape.d[2];
    double d;
    if ((st = sngi_cfg_int(ctx, g, "data.depth", 0, 0, 16, &v))) return st;
    base.class_depth = (int)v;
    if ((st = sngi_cfg_int(ctx, g, "data.strict", 0, 0, 1, &v))) return st;
    base.strict = (int)v;
    if ((st = sngi_cfg_int(ctx, g, "data.allow_partial", 0, 0, 1, &v))) return st;
    base.allow_partial = (int)v;
    if ((st = sngi_cfg_int(ctx, g, "data.max_images", 0, 0, 1L << 40, &v))) return st;
    base.max_images = v;
    if ((st = sngi_cfg_double(ctx, g, "data.scale", base.scale, -1e6, 1e6, &d))) return st;
    base.scale = (float)d;
    if ((st = sngi_cfg_double(ctx, g, "data.mean", base.mean, -1e6, 1e6, &d))) return st;
    base.mean = (float)d;
    if ((st = sngi_cfg_double(ctx, g, "data.std", base.std, 1e-9, 1e6, &d))) return st;
    base.std = (float)d;
    cfg_str(g, "data.labels", NULL, &base.idx_labels);

    const char *common, *src[3], *lists[3], *fr;
    cfg_str(g, "data.source", NULL, &common);
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "data.%s.source", split_name[i]);
        cfg_str(g, key, common, &src[i]);
        snprintf(key, sizeof key, "data.%s.classes", split_name[i]);
        cfg_str(g, key, NULL, &lists[i]);
    }
    if (!src[0] && need_train)
        return sngi_fail(ctx, SNG_ERR_MODEL,
                         "%s: no training data: set data.source or data.train.source (e.g. "
                         "--set data.source=images.zip)",
                         g->file);
    sng_split_opts so;
    sng_split_opts_init(&so);
    so.seed = r->seed;
    cfg_str(g, "data.split", NULL, &fr);
    if (fr && sscanf(fr, "%lf,%lf,%lf", &so.frac[0], &so.frac[1], &so.frac[2]) != 3)
        return sngi_fail(ctx, SNG_ERR_MODEL, "data.split=\"%s\": expected three fractions like "
                                             "0.8,0.1,0.1",
                         fr);
    if ((st = sngi_cfg_int(ctx, g, "data.by_group", 0, 0, 1, &v))) return st;
    so.by_group = (int)v;
    if ((st = sngi_cfg_int(ctx, g, "data.by_image", 0, 0, 1, &v))) return st;
    so.by_image = (int)v;

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
    /* Splits: splits sharing a dataset are cut from it together (class-disjoint); a split
     * with its own dataset takes the classes its list names, or all of them. */
    for (int i = 0; i < 3; i++) {
        if (!r->ds[i] || r->sub[i]) continue;
        int group[3] = {0}, n_group = 0;
        for (int j = 0; j < 3; j++)
            if (r->ds[j] == r->ds[i]) group[j] = 1, n_group++;
        sng_split_opts o = so;
        int any_list = 0;
        for (int j = 0; j < 3; j++) {
            o.lists[j] = group[j] ? lists[j] : NULL;
            any_list |= o.lists[j] != NULL;
        }
        if (n_group == 1 && !any_list) {
            if ((st = sng_subset_all(ctx, r->ds[i], &r->sub[i]))) return st;
            continue;
        }
        if (n_group == 1) {
            /* Only this split uses the dataset: its list picks the classes. */
            o.lists[0] = NULL;
            o.lists[1] = lists[i];
            o.lists[2] = NULL;
            sng_subset *parts[3];
            if ((st = sng_split(ctx, r->ds[i], &o, parts))) return st;
            r->sub[i] = parts[1];
            sng_subset_free(parts[0]);
            sng_subset_free(parts[2]);
            continue;
        }
        for (int j = 0; j < 3; j++)
            if (!group[j]) o.frac[j] = 0;
        sng_subset *parts[3];
        if ((st = sng_split(ctx, r->ds[i], &o, parts))) return st;
        for (int j = 0; j < 3; j++) {
            if (group[j] && sng_subset_n_classes(parts[j]) > 0)
                r->sub[j] = parts[j];
            else
                sng_subset_free(parts[j]);
        }
    }
    /* Samplers. */
    sng_sampler_opts sm;
    sng_sampler_opts_init(&sm);
    if ((st = sngi_cfg_double(ctx, g, "data.pos_fraction", 0.5, 0, 1, &d))) return st;
    sm.pos_fraction = (float)d;
    if ((st = sngi_cfg_int(ctx, g, "data.augment", 0, 0, 1, &v))) return st;
    sm.aug.affine = (int)v;
    if ((st = sngi_cfg_int(ctx, g, "data.flip", 0, 0, 1, &v))) return st;
    sm.aug.flip = (int)v;
    if (need_train) {
        if (!r->sub[0])
            return sngi_fail(ctx, SNG_ERR_DATA, "the training split is empty");
        sm.kind = r->io.label >= 0 ? SNG_SAMPLE_PAIRS : SNG_SAMPLE_TRIPLETS;
        if (r->io.label < 0 && r->io.n_img < 3)
            return sngi_fail(ctx, SNG_ERR_MODEL, "%s: a model without a label input needs three "
                                                 "image inputs (triplets)",
                             g->file);
        if ((st = sng_sampler_new(ctx, r->ds[0], r->sub[0], &sm, &r->train_s))) return st;
    }
    sm.aug.affine = sm.aug.flip = 0;
    sm.kind = SNG_SAMPLE_PAIRS;
    sm.pos_fraction = 0.5f;
    for (int i = 1; i < 3; i++)
        if (r->sub[i] && (st = sng_sampler_new(ctx, r->ds[i], r->sub[i], &sm, &r->eval_s[i])))
            return st;
    (void)eval_pairs;
    return SNG_OK;
}

static void make_feed(run_data *r, sngi_feed *f, int64_t eval_pairs) {
    memset(f, 0, sizeof *f);
    f->user = r;
    f->train_batch = feed_train;
    f->pairs = feed_pairs;
    f->episode = feed_episode;
    f->n_train_images = r->sub[0] ? sng_subset_total_images(r->sub[0]) : 0;
    for (int i = 1; i < 3; i++) {
        f->has_split[i] = r->eval_s[i] != NULL;
        f->n_pairs[i] = r->eval_s[i] ? eval_pairs : 0;
    }
}

/* ---- commands --------------------------------------------------------------------------------- */
static int usage_err(FILE *err, const char *cmd, const char *msg, const char *help) {
    fprintf(err, "sngraph %s: %s\n%s", cmd, msg, help);
    return SNG_EXIT_USAGE;
}

int sngi_cmd_run(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph run [--set KEY=VALUE]... [--threads T] [--run-dir DIR]\n"
        "                   [--resume RUN_DIR] [--quiet] MODEL\n"
        "Trains MODEL as its <train> and <data> sections say, evaluates on held-out classes and\n"
        "writes runs/<model>-<time>/ (or --run-dir): checkpoint.tar, metrics.jsonl, report.txt\n"
        "and report.svg. Ctrl-C or SIGTERM writes a checkpoint and exits 0; --resume continues\n"
        "from a run directory exactly where it stopped. Settings: train.batch, train.steps,\n"
        "train.lr, train.optimizer (sgd|adam|adamw), train.schedule (constant|step|cosine), ...,\n"
        "data.source (or data.train/val/test.source), data.*.classes; see sngraph(1).\n"
        "Under `mpirun -np P` (built with --with-mpi) the P ranks train one model on P x\n"
        "train.batch pairs per step; threads per rank default to the node's cores / its ranks.\n"
        "See doc/mpi.md.\n";
    sng_setting set[MAX_SET];
    int n_set = 0, quiet = 0;
    long threads = 0;
    const char *model = NULL, *run_dir = NULL, *resume = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *nx = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, out);
            return SNG_EXIT_OK;
        } else if (!strcmp(a, "--set")) {
            if (sngi_cli_take_set(argc, argv, &i, set, &n_set, MAX_SET, err)) return SNG_EXIT_USAGE;
        } else if (!strcmp(a, "--threads")) {
            char *end;
            threads = nx ? strtol(nx, &end, 10) : -1;
            if (!nx || *end || threads < 0 || threads > 1024)
                return usage_err(err, "run", "--threads expects 0..1024", help);
            i++;
        } else if (!strcmp(a, "--run-dir") || !strcmp(a, "--resume")) {
            if (!nx) return usage_err(err, "run", "missing directory", help);
            if (!strcmp(a, "--resume")) resume = nx; else run_dir = nx;
            i++;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (a[0] == '-') {
            fprintf(err, "sngraph run: unknown option '%s'\n%s", a, help);
            return SNG_EXIT_USAGE;
        } else if (!model) {
            model = a;
        } else {
            return usage_err(err, "run", "one model only", help);
        }
    }
    if (!model) return usage_err(err, "run", "missing MODEL", help);
    sng_ctx *ctx = sngi_cli_ctx();
    sng_graph *g = NULL;
    char dir[4096], ckpt[4200];
    if (resume) {
        snprintf(dir, sizeof dir, "%s", resume);
        snprintf(ckpt, sizeof ckpt, "%s/checkpoint.tar", resume);
    } else if (run_dir) {
        snprintf(dir, sizeof dir, "%s", run_dir);
    }
    /* Under mpirun every rank runs this; rank 0 alone writes and reports (engine/dist.h). */
    sng_status st = sngi_dist_init(ctx, &sngi_stop_requested);
    if (st) {
        int rc = sngi_cli_report(err, "run", ctx, st);
        sng_ctx_free(ctx);
        return rc;
    }
    int root = sngi_dist_rank() == 0, P = sngi_dist_size();
    if (!root) quiet = 1;
    st = sng_graph_load(ctx, model, set, n_set, &g);
    if (!st && !resume && !run_dir) {
        char stamp[32];
        time_t t = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        if (root) mkdir("runs", 0755);
        snprintf(dir, sizeof dir, "runs/%s-%s", g->name, stamp);
    }
    long eval_pairs = 1000;
    if (!st) st = sngi_train_check(ctx, g);
    if (!st) st = sngi_cfg_int(ctx, g, "eval.pairs", 1000, 2, 1L << 30, &eval_pairs);
    run_data rd;
    memset(&rd, 0, sizeof rd);
    if (!st) st = run_data_init(&rd, ctx, g, 1, eval_pairs);
    if (!st) {
        long batch;
        st = sngi_cfg_int(ctx, g, "train.batch", 32, 1, 1 << 16, &batch);
        rd.shard = sngi_dist_rank();
        rd.n_shards = P;
        if (!st && batch * P > (1L << 20))
            st = sngi_fail(ctx, SNG_ERR_USAGE, "%d ranks x train.batch=%ld is too large a global "
                                               "batch", P, batch);
        if (!st)
            st = sng_loader_new(ctx, rd.train_s, (int)(batch * P), rd.seed, 2, &rd.loader);
    }
    if (!st) st = sngi_cfg_check_unused(ctx, g, "data.");
    if (!st) {
        sngi_feed feed;
        make_feed(&rd, &feed, eval_pairs);
        sngi_train_opts to = {dir, resume ? ckpt : NULL, sngi_dist_threads((int)threads), quiet,
                              0, out, err};
        if (!quiet) fprintf(err, "sngraph run: %s -> %s\n", g->name, dir);
        st = sngi_train_run(ctx, g, &feed, &to);
        if (!quiet && rd.loader)
            fprintf(err, "sngraph run: data loading waited %.1f s (producer busy %.1f s)\n",
                    sng_loader_wait_seconds(rd.loader), sng_loader_fill_seconds(rd.loader));
    } else {
        /* A rank that fails before training (e.g. its host lacks the data) still meets the
         * others' first agreement, so they stop too and rank 0 reports it. */
        st = sngi_dist_agree(ctx, st, NULL);
    }
    run_data_free(&rd);
    int rc = st == SNG_ERR_INTERRUPTED ? SNG_EXIT_OK
             : !st                     ? SNG_EXIT_OK
             : root                    ? sngi_cli_report(err, "run", ctx, st)
                                       : sngi_cli_exit(st);
    sngi_dist_finalize();
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return rc;
}

int sngi_cmd_eval(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph eval --ckpt CHECKPOINT [--set KEY=VALUE]... [--way N] [--shot K]\n"
        "                    [--episodes E] [--pairs P] [--threads T] [--json]\n"
        "Evaluates a checkpoint on the test split of its model's data settings, or on any\n"
        "source (--set data.test.source=PATH, all its classes): ROC AUC, EER, TAR at FAR 1e-3,\n"
        "accuracy at the checkpoint's calibrated threshold, and N-way K-shot accuracy over E\n"
        "episodes (default 20-way 1-shot, 400 episodes).\n";
    sng_setting set[MAX_SET];
    int n_set = 0, json = 0;
    long way = 20, shot = 1, episodes = 400, pairs = 1000, threads = 0;
    const char *ckpt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *nx = i + 1 < argc ? argv[i + 1] : NULL;
        long *dst = !strcmp(a, "--way") ? &way : !strcmp(a, "--shot") ? &shot
                  : !strcmp(a, "--episodes") ? &episodes : !strcmp(a, "--pairs") ? &pairs
                  : !strcmp(a, "--threads") ? &threads : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, out);
            return SNG_EXIT_OK;
        } else if (dst) {
            char *end;
            long v = nx ? strtol(nx, &end, 10) : -1;
            if (!nx || *end || v < 0 || v > (1L << 30)) return usage_err(err, "eval", "bad number", help);
            *dst = v, i++;
        } else if (!strcmp(a, "--ckpt")) {
            if (!nx) return usage_err(err, "eval", "--ckpt needs a file", help);
            ckpt = nx, i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--set")) {
            if (sngi_cli_take_set(argc, argv, &i, set, &n_set, MAX_SET, err)) return SNG_EXIT_USAGE;
        } else {
            fprintf(err, "sngraph eval: unknown argument '%s'\n%s", a, help);
            return SNG_EXIT_USAGE;
        }
    }
    if (!ckpt) return usage_err(err, "eval", "missing --ckpt", help);
    if (way < 2 || shot < 1 || pairs < 2) return usage_err(err, "eval", "need way >= 2, shot >= 1, pairs >= 2", help);
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_ckpt *c = NULL;
    sng_graph *g = NULL;
    sng_session *s = NULL;
    run_data rd;
    memset(&rd, 0, sizeof rd);
    sng_status st = sngi_ckpt_read(ctx, ckpt, &c);
    if (!st) {
        size_t len;
        const char *xml = sngi_ckpt_entry(c, "model.xml", &len);
        char name[4200];
        snprintf(name, sizeof name, "%s:model.xml", ckpt);
        st = sng_graph_load_string(ctx, xml, len, name, NULL, &g);
    }
    for (int i = 0; !st && i < n_set; i++) st = sngi_cfg_set(ctx, g, set[i].key, set[i].value);
    /* Evaluating on another source: that source is the test split, whole. */
    if (!st && sngi_cfg_get(g, "data.test.source") && !sngi_cfg_get(g, "data.test.classes")) {
        sngi_cfg_set(ctx, g, "data.source", "");
        sngi_cfg_set(ctx, g, "data.train.source", "");
        sngi_cfg_set(ctx, g, "data.val.source", "");
    }
    if (!st) st = run_data_init(&rd, ctx, g, 0, pairs);
    if (!st && !rd.eval_s[SNGI_SPLIT_TEST] && !rd.eval_s[SNGI_SPLIT_VAL])
        st = sngi_fail(ctx, SNG_ERR_DATA, "nothing to evaluate: set data.test.source=PATH");
    if (!st) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.training = 0;
        o.batch = (int)(way * shot > 64 ? way * shot : 64);
        o.threads = (int)threads;
        st = sng_session_new(ctx, g, &o, &s);
    }
    if (!st) st = sngi_ckpt_load_params(ctx, c, ckpt, s, 0);
    sngi_eval_result ev;
    double thr = c ? sngi_ckpt_num(c, "threshold", 0.5) : 0.5;
    int split = rd.eval_s[SNGI_SPLIT_TEST] ? SNGI_SPLIT_TEST : SNGI_SPLIT_VAL;
    if (!st) {
        sngi_feed feed;
        make_feed(&rd, &feed, pairs);
        st = sngi_evaluate(ctx, s, &feed, split, pairs, (int)episodes, (int)way, (int)shot, thr,
                           &ev, NULL, NULL);
    }
    if (!st) {
        if (json)
            fprintf(out, "{\"split\":\"%s\",\"pairs\":%lld,\"auc\":%.6f,\"eer\":%.6f,"
                         "\"tar_at_far_1e-3\":%.6f,\"threshold\":%.6g,\"accuracy\":%.6f,"
                         "\"best_accuracy\":%.6f,\"way\":%ld,\"shot\":%ld,\"episodes\":%d,"
                         "\"oneshot_accuracy\":%.6f}\n",
                    split_name[split], (long long)ev.n_pairs, ev.verif.auc, ev.verif.eer,
                    ev.verif.tar_at_far3, thr, ev.acc_at_thr, ev.verif.best_acc, way, shot,
                    ev.episodes, ev.oneshot_acc);
        else {
            fprintf(out, "%s split, %lld pairs: ROC AUC %.4f, EER %.4f, TAR@FAR=1e-3 %.4f\n",
                    split_name[split], (long long)ev.n_pairs, ev.verif.auc, ev.verif.eer,
                    ev.verif.tar_at_far3);
            fprintf(out, "verification accuracy at the calibrated threshold %.4g: %.4f (best "
                         "possible on these pairs %.4f)\n",
                    thr, ev.acc_at_thr, ev.verif.best_acc);
            if (ev.oneshot_acc >= 0)
                fprintf(out, "%ld-way %ld-shot accuracy over %d episodes: %.4f\n", way, shot,
                        ev.episodes, ev.oneshot_acc);
            else if (episodes)
                fprintf(out, "%ld-way %ld-shot episodes: not enough classes with %ld+1 images\n",
                        way, shot, shot);
        }
    }
    int rc = st ? sngi_cli_report(err, "eval", ctx, st) : SNG_EXIT_OK;
    run_data_free(&rd);
    sng_session_free(s);
    sngi_ckpt_free(c);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return rc;
}
