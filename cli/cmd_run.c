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
#include "args.h"
#include "app/ckpt_model.h"
#include "app/dist.h"
#include "app/feed.h"
#include "app/settings.h"
#include "app/rundir.h"
#include "app/train.h"

static const char *split_name[3] = {"train", "val", "test"};

/* ---- commands --------------------------------------------------------------------------------- */

int sngi_cmd_run(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph run [--set KEY=VALUE]... [--threads T] [--run-dir DIR]\n"
        "                   [--resume RUN_DIR] [--quiet] MODEL\n"
        "Trains MODEL as its <train> and <data> sections say, evaluates on held-out classes and\n"
        "writes runs/<model>-<time>/ (or --run-dir): checkpoint.tar, metrics.jsonl, report.txt\n"
        "and report.svg. Ctrl-C or SIGTERM writes a checkpoint and exits 0; --resume continues\n"
        "from a run directory exactly where it stopped. Settings: train.batch, train.steps,\n"
        "train.lr, train.optimizer (sgd|adam|adamw), train.schedule (constant|step|cosine), ...,\n"
        "data.source (or data.train/val/test.source), data.*.classes; `sngraph settings`\n"
        "lists every key with its type, default and range.\n"
        "Under `mpirun -np P` (built with --with-mpi) the P ranks train one model on P x\n"
        "train.batch pairs per step; threads per rank default to the node's cores / its ranks.\n"
        "See doc/mpi.md.\n";
    sngi_sets sets = {.n = 0};
    int quiet = 0;
    long threads = 0;
    const char *model = NULL, *run_dir = NULL, *resume = NULL;
    const sngi_arg opts[] = {
        SNGI_ARG_SET(&sets),
        SNGI_ARG_THREADS(&threads),
        {"--run-dir", NULL, SNGI_ARG_TEXT, &run_dir, 0, 0, NULL, "DIR",
         "write the run here instead of runs/<model>-<time>/", NULL},
        {"--resume", NULL, SNGI_ARG_TEXT, &resume, 0, 0, NULL, "RUN_DIR",
         "continue the run in RUN_DIR from its checkpoint", NULL},
        {"--quiet", "-q", SNGI_ARG_FLAG, &quiet, 0, 0, NULL, NULL, "no progress lines", NULL},
        SNGI_ARG_END,
    };
    int rc0 = sngi_args_parse(argc, argv, opts, &model, 0, 1, NULL, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (!model) return sngi_args_usage(err, "run", help, opts, "missing MODEL");
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
    st = sng_graph_load(ctx, model, sets.set, sets.n, &g);
    if (!st && !resume && !run_dir) {
        char stamp[32];
        time_t t = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        char base[512];
        snprintf(base, sizeof base, "%s-%s", g->name, stamp);
        /* Created here, exclusively, so two runs started in the same second never share it. */
        if (root) st = sngi_rundir_create(ctx, "runs", base, dir, sizeof dir);
        else snprintf(dir, sizeof dir, "runs/%s", base);
    }
    if (!st) st = sngi_train_check(ctx, g);
    sngi_data *rd = NULL;
    sngi_data_opts dop = {1, 0, sngi_dist_rank(), P};
    if (!st) st = sngi_data_open(ctx, g, &dop, &rd);
    if (!st) {
        sngi_feed feed;
        sngi_data_feed(rd, &feed);
        sngi_train_opts to = {dir, resume ? ckpt : NULL, sngi_dist_threads((int)threads), quiet,
                              0, out, err, 1, NULL, NULL};
        if (!quiet) fprintf(err, "sngraph run: %s -> %s\n", g->name, dir);
        st = sngi_train_run(ctx, g, &feed, &to);
        if (!quiet)
            fprintf(err, "sngraph run: data loading waited %.1f s (producer busy %.1f s)\n",
                    sngi_data_wait_seconds(rd), sngi_data_fill_seconds(rd));
    } else {
        /* A rank that fails before training (e.g. its host lacks the data) still meets the
         * others' first agreement, so they stop too and rank 0 reports it. */
        st = sngi_dist_agree(ctx, st, NULL);
    }
    sngi_data_free(rd);
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
    sngi_sets sets = {.n = 0};
    int json = 0, pairs_given = 0;
    long way = 0, shot = 0, episodes = 0, pairs = 0, threads = 0;
    int way_given = 0, shot_given = 0, episodes_given = 0;
    const char *ckpt = NULL;
    const sngi_arg opts[] = {
        {"--ckpt", NULL, SNGI_ARG_TEXT, &ckpt, 0, 0, NULL, "CHECKPOINT",
         "the checkpoint to evaluate (required)", NULL},
        SNGI_ARG_SET(&sets),
        {"--way", NULL, SNGI_ARG_INT, &way, 2, 1000, &way_given, "N",
         "N of the N-way K-shot episodes (eval.way)", NULL},
        {"--shot", NULL, SNGI_ARG_INT, &shot, 1, 100, &shot_given, "K",
         "K of the N-way K-shot episodes (eval.shot)", NULL},
        {"--episodes", NULL, SNGI_ARG_INT, &episodes, 0, 1 << 20, &episodes_given, "E",
         "one-shot episodes (eval.episodes)", NULL},
        {"--pairs", NULL, SNGI_ARG_INT, &pairs, 2, 1 << 30, &pairs_given, "P",
         "verification pairs (eval.pairs)", NULL},
        SNGI_ARG_THREADS(&threads),
        SNGI_ARG_JSON(&json),
        SNGI_ARG_END,
    };
    int rc0 = sngi_args_parse(argc, argv, opts, NULL, 0, 0, NULL, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (!ckpt) return sngi_args_usage(err, "eval", help, opts, "missing --ckpt");
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_ckpt *c = NULL;
    sng_graph *g = NULL;
    sng_session *s = NULL;
    sngi_data *rd = NULL;
    sng_status st = sngi_ckpt_read(ctx, ckpt, &c);
    if (!st) st = sngi_ckpt_graph(ctx, c, ckpt, &g);
    for (int i = 0; !st && i < sets.n; i++) st = sngi_cfg_set(ctx, g, sets.set[i].key, sets.set[i].value);
    if (!st) st = sngi_settings_check(ctx, g);
    /* The options are the eval.* settings, so both have one default and one range. */
    const struct { const char *key; long v; int given; } ov[] = {
        {"eval.pairs", pairs, pairs_given}, {"eval.way", way, way_given},
        {"eval.shot", shot, shot_given}, {"eval.episodes", episodes, episodes_given}};
    for (size_t i = 0; !st && i < sizeof ov / sizeof ov[0]; i++)
        if (ov[i].given) {
            char v[32];
            snprintf(v, sizeof v, "%ld", ov[i].v);
            st = sngi_cfg_set(ctx, g, ov[i].key, v);
        }
    if (!st) st = sngi_setting_int(ctx, g, "eval.way", &way);
    if (!st) st = sngi_setting_int(ctx, g, "eval.shot", &shot);
    if (!st) st = sngi_setting_int(ctx, g, "eval.episodes", &episodes);
    /* Evaluating on another source: that source is the test split, whole. */
    sngi_data_opts dop = {0, 1, 0, 1};
    if (!st) st = sngi_data_open(ctx, g, &dop, &rd);
    int has_test = rd && sngi_data_has_split(rd, SNGI_SPLIT_TEST);
    if (!st && !has_test && !sngi_data_has_split(rd, SNGI_SPLIT_VAL))
        st = sngi_fail(ctx, SNG_ERR_DATA, "nothing to evaluate: set data.test.source=PATH");
    if (!st) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.training = 0;
        /* Episodes are scored in chunks of the batch: it need not hold a whole way x shot. */
        long eb = 64;
        st = sngi_setting_int(ctx, g, "eval.batch", &eb);
        o.batch = (int)eb;
        o.threads = (int)threads;
        if (!st) st = sng_session_new(ctx, g, &o, &s);
    }
    if (!st) st = sngi_ckpt_load_params(ctx, c, ckpt, s, 0);
    sngi_eval_result ev;
    double thr = c ? sngi_ckpt_num(c, "threshold", 0.5) : 0.5;
    int split = has_test ? SNGI_SPLIT_TEST : SNGI_SPLIT_VAL;
    if (!st) {
        sngi_feed feed;
        sngi_data_feed(rd, &feed);
        pairs = feed.n_pairs[split];
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
    sngi_data_free(rd);
    sng_session_free(s);
    sngi_ckpt_free(c);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return rc;
}
