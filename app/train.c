/*
 * train.c — the training loop (`sngraph run`): step = feed the
 * inputs, forward, backward, optimiser update; periodic validation (verification metrics and
 * a calibrated threshold), atomic checkpoints, a JSON-lines metrics log, a final test
 * evaluation with N-way K-shot episodes, and a report with SVG curves.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/ckpt.h"
#include "app/dist.h"
#include "app/report.h"
#include "app/settings.h"
#include "app/train.h"
#include "app/weights.h"

volatile int sngi_stop_requested;

/* Messages go to the caller's streams; a library caller may pass none. */
#define SAY(f, ...)                          \
    do {                                     \
        if (f) fprintf((f), __VA_ARGS__);    \
    } while (0)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- the loop --------------------------------------------------------------------------------- */
/* In an MPI job, mpirun answers a dead rank with SIGTERM to the others and SIGKILL a second
 * later, maybe before rank 0 reaches a point where it could report. So rank 0's handler writes
 * a line prepared in advance (write(2) is async-signal-safe); it is rewritten after every
 * checkpoint with the signals blocked, so the handler never sees it half-written. */
static char sig_msg[4608];
static volatile sig_atomic_t sig_len, sig_said;

static void set_sig_msg(const char *ckpt_path, int64_t ckpt_step) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int n;
    if (ckpt_step >= 0)
        n = snprintf(sig_msg, sizeof sig_msg,
                     "sngraph run: rank 0: stopping on a signal from the MPI launcher (a rank "
                     "died, or the job was interrupted); the last good checkpoint is %s "
                     "(step %lld)\n",
                     ckpt_path, (long long)ckpt_step);
    else
        n = snprintf(sig_msg, sizeof sig_msg,
                     "sngraph run: rank 0: stopping on a signal from the MPI launcher (a rank "
                     "died, or the job was interrupted); no checkpoint was written yet\n");
    sig_len = n > 0 && (size_t)n < sizeof sig_msg ? n : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void on_signal(int sig) {
    (void)sig;
    sngi_stop_requested = 1;
    if (sig_len > 0 && !sig_said) {
        sig_said = 1;
        ssize_t w = write(STDERR_FILENO, sig_msg, (size_t)sig_len);
        (void)w;
    }
}

/* Saves a checkpoint; a failure names the step. ckpt.c writes a temporary file and renames it
 * only when complete, so the previous checkpoint survives any failure. */
/* A number for metrics.jsonl; null when not finite (JSON has no NaN). */
static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

/* Validation metrics per evaluation; the arrays are owned (freed by the run). A point that
 * does not fit in memory is left out of the report only. */
typedef struct sngi_val_hist {
    int64_t *step;
    double *auc, *eer;
    int n;
} sngi_val_hist;

static void val_push(sngi_val_hist *h, int64_t step, double auc, double eer) {
    int64_t *s = realloc(h->step, sizeof *s * (size_t)(h->n + 1));
    if (s) h->step = s;
    double *a = realloc(h->auc, sizeof *a * (size_t)(h->n + 1));
    if (a) h->auc = a;
    double *e = realloc(h->eer, sizeof *e * (size_t)(h->n + 1));
    if (e) h->eer = e;
    if (!s || !a || !e) return;
    h->step[h->n] = step, h->auc[h->n] = auc, h->eer[h->n] = eer;
    h->n++;
}

/* Flushes a log or report and says whether every write to it so far went through (a full disk
 * shows at fflush or as the stream's error flag). */
static sng_status out_check(sng_ctx *ctx, FILE *f, const char *path) {
    if (fflush(f) != 0 || ferror(f))
        return sngi_fail(ctx, SNG_ERR_IO, "%s: write failed: %s", path,
                         strerror(errno ? errno : EIO));
    return SNG_OK;
}

static sng_status save_ckpt(sng_ctx *ctx, sng_session *s, const char *path,
                            const sngi_ckpt_meta *meta) {
    sng_status st = sngi_ckpt_save(ctx, s, path, meta);
    if (st) {
        char why[sizeof ctx->errmsg];
        snprintf(why, sizeof why, "%s", sng_ctx_errmsg(ctx));
        sngi_fail(ctx, st, "checkpoint at step %lld: %s", (long long)meta->step, why);
    }
    return st;
}

/* Flags agreed between ranks (sngi_dist_agree). */
enum { STOP_SIGNAL = 1, STOP_EARLY = 2 };

typedef struct train_cfg {
    long batch, steps, seed, eval_every, ckpt_every, log_every, patience, eval_pairs, episodes,
        way, shot, eval_batch, epochs;
    const char *init_from; /* .npy weights to start from (weights.c), or NULL */
} train_cfg;

/* Reads every train.* and eval.* setting; an unknown one is an error naming its line. */
static sng_status read_cfg(sng_ctx *ctx, sng_graph *g, train_cfg *c, sngi_optim *opt) {
    sng_status st;
    long batch, steps, seed, eval_every, ckpt_every, log_every, patience, eval_pairs, episodes,
        way, shot, eval_batch;
    if ((st = sngi_setting_int(ctx, g, "train.batch", &batch)) ||
        (st = sngi_setting_int(ctx, g, "train.steps", &steps)) ||
        (st = sngi_setting_int(ctx, g, "train.seed", &seed)) ||
        (st = sngi_setting_int(ctx, g, "train.eval_every", &eval_every)) ||
        (st = sngi_setting_int(ctx, g, "train.checkpoint_every", &ckpt_every)) ||
        (st = sngi_setting_int(ctx, g, "train.log_every", &log_every)) ||
        (st = sngi_setting_int(ctx, g, "train.patience", &patience)) ||
        (st = sngi_setting_int(ctx, g, "eval.pairs", &eval_pairs)) ||
        (st = sngi_setting_int(ctx, g, "eval.episodes", &episodes)) ||
        (st = sngi_setting_int(ctx, g, "eval.way", &way)) ||
        (st = sngi_setting_int(ctx, g, "eval.shot", &shot)) ||
        (st = sngi_setting_int(ctx, g, "eval.batch", &eval_batch)) ||
        (st = sngi_setting_int(ctx, g, "train.epochs", &c->epochs)))
        return st;
    if ((st = sngi_setting_text(ctx, g, "train.init_from", &c->init_from))) return st;
    if ((st = sngi_optim_config(ctx, g, opt))) return st;
    opt->total_steps = steps;
    if ((st = sngi_settings_check(ctx, g))) return st;
    *c = (train_cfg){batch,      steps,      seed,     eval_every, ckpt_every, log_every,
                     patience,   eval_pairs, episodes, way,        shot,       eval_batch,
                     c->epochs,  c->init_from};
    return SNG_OK;
}

sng_status sngi_train_check(sng_ctx *ctx, sng_graph *g) {
    train_cfg c;
    sngi_optim opt;
    return read_cfg(ctx, g, &c, &opt);
}

sng_status sngi_train_run(sng_ctx *ctx, sng_graph *g, const sngi_feed *feed,
                          const sngi_train_opts *o) {
    sng_status st;
    train_cfg c;
    sngi_optim opt;
    if ((st = read_cfg(ctx, g, &c, &opt))) return st;
    long batch = c.batch, steps = c.steps, seed = c.seed, eval_every = c.eval_every,
         ckpt_every = c.ckpt_every, log_every = c.log_every, patience = c.patience,
         eval_pairs = c.eval_pairs, episodes = c.episodes, way = c.way, shot = c.shot,
         eval_batch = c.eval_batch;
    sngi_io io;
    if ((st = sngi_io_get(ctx, g, &io)) || (st = sngi_io_check_feedable(ctx, g, &io, 1)))
        return st;
    /* Data parallel (engine/dist.c): every rank trains on its shard of batch pairs (the feed
     * slices them out of the global batch of P*batch), gradients are averaged, and rank 0 alone
     * evaluates and writes. With one process these are all no-ops. */
    int P = sngi_dist_size(), root = sngi_dist_rank() == 0;
    /* An epoch: each training image anchors one pair on average (P ranks share a step). */
    if (c.epochs) {
        int64_t per = (feed->n_train_images + (int64_t)P * batch - 1) / ((int64_t)P * batch);
        steps = c.epochs * (per > 0 ? per : 1);
        opt.total_steps = steps;
    }
    sngi_dist_stats dstats;
    memset(&dstats, 0, sizeof dstats);

    sng_session_opts so;
    sng_session_opts_init(&so);
    so.batch = (int)batch;
    so.training = 1;
    so.threads = o->threads;
    so.seed = (uint64_t)seed;
    so.opt_slots = sngi_optim_slots(&opt);
    sng_session *s = NULL, *inf = NULL;
    FILE *log = NULL;
    sng_status log_st = SNG_OK, rep_st = SNG_OK; /* write errors on metrics.jsonl, the reports */
    /* Collectives must match across ranks: after a local failure a rank goes straight to the
     * final agreement, which meets the others' next agreement; after an agreed failure
     * (synced) nobody agrees again. */
    int synced = 0;
    if ((st = sng_session_new(ctx, g, &so, &s))) goto agree_out;
    sng_session_opts io_opts = so;
    io_opts.training = 0;
    io_opts.batch = (int)(eval_batch > way * shot ? eval_batch : way * shot);
    io_opts.opt_slots = 0;
    /* Only rank 0 evaluates: the others need no inference session. */
    if (root && (st = sng_session_new(ctx, g, &io_opts, &inf))) goto agree_out;
    if (root && mkdir(o->run_dir, 0755) && errno != EEXIST)
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot create run directory: %s", o->run_dir,
                       strerror(errno));
    char ckpt_path[4096], log_path[4096], rep_path[4096], svg_path[4096];
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoint.tar", o->run_dir);
    snprintf(log_path, sizeof log_path, "%s/metrics.jsonl", o->run_dir);
    snprintf(rep_path, sizeof rep_path, "%s/report.txt", o->run_dir);
    snprintf(svg_path, sizeof svg_path, "%s/report.svg", o->run_dir);

    /* Resuming: rank 0 reads the checkpoint (only it needs the run directory) and every rank
     * starts from its slab, step and threshold. */
    struct {
        int64_t start;
        double threshold;
    } at = {0, 0.5};
    if (!st && o->resume_ckpt && root) {
        sngi_ckpt *ck;
        if (!(st = sngi_ckpt_read(ctx, o->resume_ckpt, &ck))) {
            st = sngi_ckpt_load_params(ctx, ck, o->resume_ckpt, s, 1);
            at.start = (int64_t)sngi_ckpt_num(ck, "step", 0);
            at.threshold = sngi_ckpt_num(ck, "threshold", 0.5);
            sngi_ckpt_free(ck);
        }
        if (!st)
            SAY(o->err, "sngraph run: resuming %s at step %lld of %ld\n", o->resume_ckpt,
                    (long long)at.start, steps);
    }
    if (!st && !o->resume_ckpt && root && c.init_from) {
        int got, all;
        if ((st = sngi_weights_load(ctx, s, c.init_from, &got, &all))) {
            char why[1024];
            snprintf(why, sizeof why, "%s", sng_ctx_errmsg(ctx));
            st = sngi_fail(ctx, st, "train.init_from: %s", why);
        } else if (!o->quiet) {
            SAY(o->err, "sngraph run: %d of %d parameter tensors from %s%s\n", got, all,
                    c.init_from, got < all ? ", the others from their initialisers" : "");
        }
    }
    if (!st && root && !(log = fopen(log_path, at.start ? "a" : "w")))
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", log_path, strerror(errno));
    if (P > 1) {
        synced = (st = sngi_dist_agree(ctx, st, NULL)) != SNG_OK;
        if (!st && !(st = sngi_dist_bcast_slab(ctx, s))) st = sngi_dist_bcast(ctx, &at, sizeof at);
        size_t ng;
        sngi_session_grads(s, &ng);
        if (!st && root && !o->quiet)
            SAY(o->err, "sngraph run: %d ranks x batch %ld = %ld pairs per step, %d threads "
                            "per rank, %.1f MB of gradients averaged per step\n",
                    P, batch, P * batch, sngi_session_threads(s), (double)ng * 4 / 1e6);
    }
    if (st) goto out;
    int64_t start = at.start;
    double threshold = at.threshold;
    if (P > 1 && root) set_sig_msg(ckpt_path, o->resume_ckpt ? start : -1);
    /* Signal handlers are process-wide: installed only when the caller asks (the CLI). */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    if (o->handle_signals) {
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    sngi_stop_requested = 0;
    sig_said = 0;

    /* The feed fills inputs by role, whatever order the model declares them in. */
    float *inputs[3];
    for (int k = 0; k < io.n_img; k++) inputs[k] = sng_session_value(s, g->nodes[io.img[k]].name, NULL);
    if (io.label >= 0) inputs[2] = sng_session_value(s, g->nodes[io.label].name, NULL);
    double *losses = calloc((size_t)(steps - start + 1), sizeof(double));
    /* The losses averaged over ranks: the total, then each loss node (P > 1 only). */
    double *lmean = calloc((size_t)g->n_losses + 1, sizeof(double));
    if (!lmean) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    int tty = root && o->err && isatty(fileno(o->err)) && !o->quiet;
    double t0 = now(), wait = 0, best_val = -1;
    int bad_evals = 0, interrupted = 0;
    int64_t step = start, n_loss = 0;
    char mj[1024];
    sngi_eval_result ev;
    sngi_val_hist vh = {0}; /* validation metrics over time, for the SVG report */
    for (; step < steps && !st; step++) {
        if (P == 1 && sngi_stop_requested) {
            interrupted = 1;
            break;
        }
        double w = 0, loss = 0;
        if (!(st = feed->train_batch(feed->user, inputs, (int)batch, step, &w))) {
            wait += w;
            sng_session_set_step(s, step);
            if (!(st = sng_session_forward(s, &loss))) st = sng_session_backward(s);
        }
        if (P > 1) {
            /* One rank's failure (bad data, divergence) or stop request stops every rank
             * before the gradients are exchanged. */
            int flags = sngi_stop_requested ? STOP_SIGNAL : 0;
            synced = (st = sngi_dist_agree(ctx, st, &flags)) != SNG_OK;
            if (st) break;
            if (flags & STOP_SIGNAL) {
                interrupted = 1;
                break;
            }
            lmean[0] = loss;
            for (int i = 0; i < g->n_losses; i++)
                lmean[i + 1] = *sng_session_value(s, g->nodes[g->losses[i]].name, NULL);
            if ((st = sngi_dist_grad_mean(ctx, s, &dstats)) ||
                (st = sngi_dist_mean(ctx, lmean, g->n_losses + 1)))
                break;
            loss = lmean[0];
        }
        if (st) break;
        double gnorm = sngi_optim_step(&opt, s, step);
        if (losses) losses[n_loss++] = loss;
        /* A caller's request to stop is handled as a signal is: at the next step. */
        if (o->progress && o->progress(o->progress_user, step + 1, steps, loss))
            sngi_stop_requested = 1;
        double el = now() - t0;
        double pps = (double)(step - start + 1) * batch * P / (el > 0 ? el : 1e-9);
        if (log && ((step + 1) % log_every == 0 || step + 1 == steps)) {
            fprintf(log, "{\"step\":%lld,\"loss\":", (long long)step + 1);
            json_num(log, loss);
            /* Each loss under its node name, in an object of its own: a loss named "step" or
             * "lr" cannot duplicate a key of the line. */
            fprintf(log, ",\"losses\":{");
            for (int i = 0; i < g->n_losses; i++) {
                fprintf(log, i ? "," : "");
                sngi_json_str(log, g->nodes[g->losses[i]].name);
                fputc(':', log);
                json_num(log, P > 1 ? lmean[i + 1]
                                    : *sng_session_value(s, g->nodes[g->losses[i]].name, NULL));
            }
            fprintf(log, "},\"lr\":%.6g,\"grad_norm\":", sngi_optim_lr(&opt, step));
            json_num(log, gnorm);
            fprintf(log, ",\"pairs_per_s\":%.3f,\"data_wait_s\":%.3f,\"elapsed_s\":%.2f", pps,
                    wait, el);
            if (P > 1)
                fprintf(log, ",\"ranks\":%d,\"allreduce_s\":%.3f,\"allreduce_bytes\":%.0f", P,
                        dstats.seconds, dstats.bytes_per_step);
            fprintf(log, "}\n");
            /* One process stops at once; ranks stop together at their next agreement. */
            if (!log_st && (log_st = out_check(ctx, log, log_path)) && P == 1) st = log_st;
            if (!o->quiet && !tty)
                SAY(o->err, "step %lld/%ld loss %.4f lr %.3g %.1f pairs/s data-wait %.1fs\n",
                        (long long)step + 1, steps, loss, sngi_optim_lr(&opt, step), pps, wait);
        }
        if (tty) {
            double eta = (double)(steps - step - 1) * batch * P / (pps > 0 ? pps : 1);
            SAY(o->err, "\rstep %lld/%ld  loss %.4f  %.1f pairs/s  ETA %02d:%02d   ",
                    (long long)step + 1, steps, loss, pps, (int)(eta / 60), (int)eta % 60);
            if (o->err) fflush(o->err);
        }
        int last = step + 1 == steps, early = 0;
        /* Evaluation and checkpoints happen at the same steps on every rank; rank 0 does them
         * and the others wait for its verdict (failure or early stop) below. */
        int do_eval = eval_every && (step + 1) % eval_every == 0 && !last &&
                      feed->has_split[SNGI_SPLIT_VAL];
        int do_ckpt = ckpt_every && (step + 1) % ckpt_every == 0 && !last;
        if (do_eval && root) {
            if (!(st = sngi_session_copy_params(inf, s)) &&
                !(st = sngi_evaluate(ctx, inf, feed, SNGI_SPLIT_VAL, eval_pairs, 0, way, shot,
                                     threshold, &ev, NULL, NULL))) {
                threshold = ev.verif.best_thr;
                sngi_metrics_json(mj, sizeof mj, &ev, threshold);
                fprintf(log, "{\"step\":%lld,\"val\":%s}\n", (long long)step + 1, mj);
                val_push(&vh, step + 1, ev.verif.auc, ev.verif.eer);
                if (!log_st && (log_st = out_check(ctx, log, log_path)) && P == 1) st = log_st;
                if (ev.verif.auc > best_val) {
                    best_val = ev.verif.auc;
                    bad_evals = 0;
                } else if (patience && ++bad_evals >= patience) {
                    early = STOP_EARLY;
                }
            }
        }
        if (do_ckpt && root && !st && !early) {
            sngi_ckpt_meta meta = {step + 1, (uint64_t)seed, threshold,
                                   opt.kind == SNGI_OPT_SGD ? "sgd" : "adam", NULL};
            st = save_ckpt(ctx, s, ckpt_path, &meta);
            if (!st && P > 1) set_sig_msg(ckpt_path, step + 1);
        }
        if (P > 1 && (do_eval || do_ckpt)) {
            if (!st && log_st) st = log_st;
            synced = (st = sngi_dist_agree(ctx, st, &early)) != SNG_OK;
        }
        if (st) break;
        if (early) {
            if (root)
                SAY(o->err, "\nsngraph run: early stop at step %lld (validation AUC did not "
                                "improve for %ld evaluations)\n",
                        (long long)step + 1, patience);
            step++;
            break;
        }
    }
    if (tty) fputc('\n', o->err);
    if (o->handle_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    sig_len = 0;
    if (!st && root) {
        /* Final evaluation: calibrate the threshold on validation, report on test. */
        st = sngi_session_copy_params(inf, s);
        mj[0] = 0;
        float *sc = NULL, *lb = NULL;
        double far[64], tar[64];
        size_t n_roc = 0;
        if (!interrupted) {
            sc = malloc(sizeof(float) * (size_t)eval_pairs);
            lb = malloc(sizeof(float) * (size_t)eval_pairs);
            if (!sc || !lb) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
            /* The threshold's error rates on the split that chose it, for users to trust it. */
            double cal_far = NAN, cal_frr = NAN;
            if (!st && feed->has_split[SNGI_SPLIT_VAL] &&
                !(st = sngi_evaluate(ctx, inf, feed, SNGI_SPLIT_VAL, eval_pairs, 0, way, shot, 0.5,
                                     &ev, sc, lb))) {
                threshold = ev.verif.best_thr;
                sngi_verif_rates(sc, lb, (size_t)ev.n_pairs, threshold, &cal_far, &cal_frr);
            }
            int split = feed->has_split[SNGI_SPLIT_TEST] ? SNGI_SPLIT_TEST : SNGI_SPLIT_VAL;
            if (!st && feed->has_split[split] &&
                !(st = sngi_evaluate(ctx, inf, feed, split, eval_pairs, (int)episodes, (int)way,
                                     (int)shot, threshold, &ev, sc, lb))) {
                ev.cal_far = cal_far;
                ev.cal_frr = cal_frr;
                sngi_metrics_json(mj, sizeof mj, &ev, threshold);
                fprintf(log, "{\"step\":%lld,\"test\":%s}\n", (long long)step, mj);
                n_roc = sngi_verif_roc(sc, lb, (size_t)ev.n_pairs, far, tar, 64);
                FILE *r = fopen(rep_path, "w");
                if (!r) rep_st = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", rep_path, strerror(errno));
                if (r) {
                    fprintf(r, "model: %s\nsteps: %lld  batch: %ld  seed: %ld\n"
                               "training time: %.1f s (%.2f pairs/s, data wait %.1f s)\n"
                               "final training loss: %.5f\n"
                               "%s split, %lld pairs: ROC AUC %.4f  EER %.4f  TAR@FAR=1e-3 %.4f\n"
                               "verification accuracy at the validation threshold %.4g: %.4f\n",
                            g->name, (long long)step, batch * P, seed, now() - t0,
                            (double)(step - start) * batch * P / (now() - t0 + 1e-9), wait,
                            n_loss ? losses[n_loss - 1] : 0.0,
                            split == SNGI_SPLIT_TEST ? "test" : "validation",
                            (long long)ev.n_pairs, ev.verif.auc, ev.verif.eer,
                            ev.verif.tar_at_far3, threshold, ev.acc_at_thr);
                    if (isfinite(cal_far))
                        fprintf(r, "threshold %.4g on the validation split: FAR %.4f  FRR %.4f\n",
                                threshold, cal_far, cal_frr);
                    if (P > 1)
                        fprintf(r, "data parallel: %d ranks x batch %ld; %.1f MB all-reduced per "
                                   "step, %.1f s in all-reduce\n",
                                P, batch, dstats.bytes_per_step / 1e6, dstats.seconds);
                    if (ev.oneshot_acc >= 0)
                        fprintf(r, "%d-way %d-shot accuracy over %d episodes: %.4f\n", ev.way,
                                ev.shot, ev.episodes, ev.oneshot_acc);
                    else if (episodes > 0)
                        fprintf(r, "%d-way %d-shot episodes: not run, the split has fewer than "
                                   "%d classes with %d images\n",
                                ev.way, ev.shot, ev.way, ev.shot + 1);
                    rep_st = out_check(ctx, r, rep_path);
                    if (fclose(r) != 0 && !rep_st)
                        rep_st = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", rep_path, strerror(errno));
                }
                SAY(o->out, "test: AUC %.4f  EER %.4f  accuracy %.4f (threshold %.4g)",
                        ev.verif.auc, ev.verif.eer, ev.acc_at_thr, threshold);
                if (isfinite(cal_far))
                    SAY(o->out, "  validation FAR %.4f FRR %.4f", cal_far, cal_frr);
                if (ev.oneshot_acc >= 0)
                    SAY(o->out, "  %d-way %d-shot %.4f", ev.way, ev.shot, ev.oneshot_acc);
                else if (episodes > 0)
                    SAY(o->out, "  (no %d-way episodes: fewer than %d classes with %d images)",
                        ev.way, ev.way, ev.shot + 1);
                SAY(o->out, "\n");
            }
            char title[512];
            snprintf(title, sizeof title, "sngraph run: %s", g->name);
            sngi_report_data rd = {title, losses, n_loss, vh.step, vh.auc, vh.eer, vh.n,
                                   far, tar, n_roc, sc, lb, n_roc ? (size_t)ev.n_pairs : 0,
                                   n_roc ? threshold : NAN, NAN, NAN};
            if (n_roc) {
                double op_frr;
                sngi_verif_rates(sc, lb, rd.n_scores, threshold, &rd.op_far, &op_frr);
                rd.op_tar = 1 - op_frr;
            }
            sng_status svg_st = sngi_svg_report(ctx, svg_path, &rd);
            if (!rep_st) rep_st = svg_st;
        }
        free(sc);
        free(lb);
        if (!st) {
            sngi_ckpt_meta meta = {step, (uint64_t)seed, threshold,
                                   opt.kind == SNGI_OPT_SGD ? "sgd" : "adam", mj[0] ? mj : NULL};
            st = save_ckpt(ctx, s, ckpt_path, &meta);
        }
        if (!st) SAY(o->out, "checkpoint: %s\n", ckpt_path);
        /* A lost log or report fails the run, but only after the checkpoint is safe. */
        if (!st && log_st) st = log_st;
        if (!st && log && (log_st = out_check(ctx, log, log_path))) st = log_st;
        if (!st && rep_st) st = rep_st;
        if (!st && interrupted) {
            SAY(o->err, "sngraph run: interrupted at step %lld; resume with: %ssngraph run %s "
                            "--resume %s\n",
                    (long long)step, P > 1 ? "mpirun ... " : "", g->file, o->run_dir);
            st = SNG_ERR_INTERRUPTED;
        }
    }
    free(losses);
    free(lmean);
    free(vh.step);
    free(vh.auc);
    free(vh.eer);
out:
    if (log && fclose(log) != 0 && !st)
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: write failed: %s", log_path, strerror(errno));
agree_out:
    /* Every rank leaves with rank 0's verdict (a failed final checkpoint fails them all). */
    if (P > 1 && !synced) st = sngi_dist_agree(ctx, st, NULL);
    sng_session_free(inf);
    sng_session_free(s);
    return st;
}
