/*
 * train.h — the training loop behind `sngraph run` and the evaluation behind `sngraph eval`.
 * Data come through a feed (callbacks), so the loop does not depend on where images live.
 */
#ifndef SNG_TRAIN_H
#define SNG_TRAIN_H

#include <stdio.h>

#include "app/metrics.h"
#include "app/optim.h"
#include "engine/state.h"

enum { SNGI_SPLIT_TRAIN = 0, SNGI_SPLIT_VAL = 1, SNGI_SPLIT_TEST = 2 };

typedef struct sngi_feed {
    void *user;
    /* Fills the buffers of training step `step` at batch `batch`, by role in the sampler's
     * order: pairs {image A, image B, label}, triplets {anchor, positive, negative}. Must be a pure function of (seed, step) so runs can resume. Adds
     * the seconds spent waiting for data to *wait. */
    sng_status (*train_batch)(void *user, float *const *inputs, int batch, int64_t step,
                              double *wait);
    /* Verification pairs of a split: fills a (b), b (b) images and label (b floats, 1 = same)
     * for pairs [first, first+b) of a fixed, seeded list of n_pairs; *got = filled. */
    sng_status (*pairs)(void *user, int split, int64_t first, int b, float *a, float *bimg,
                        float *label, int *got);
    /* One N-way K-shot episode of a split: query (1 image) and way*shot support images, class
     * of support i = i / shot; *answer = the query's class index in [0, way). */
    sng_status (*episode)(void *user, int split, int64_t index, int way, int shot, float *query,
                          float *support, int *answer);
    /* Classes of a split with at least min_images images (N-way episodes need N of them). */
    int (*classes)(void *user, int split, int min_images);
    int64_t n_pairs[3];         /* verification pairs available per split */
    int64_t n_train_images;     /* images in the training split (train.epochs) */
    int has_split[3];
} sngi_feed;

typedef struct sngi_train_opts {
    const char *run_dir;        /* where checkpoint, metrics and report go (created) */
    const char *resume_ckpt;    /* checkpoint to resume from, or NULL */
    int threads;
    int quiet;
    int verbose;
    FILE *out, *err;            /* messages (either may be NULL: none) */
    int handle_signals;         /* install SIGINT/SIGTERM handlers for a clean stop (a program
                                   may; a library caller usually should not) */
    /* Called after every step with the step count done and its loss; nonzero stops the run
     * cleanly as a signal would (checkpoint written, SNG_ERR_INTERRUPTED). May be NULL. */
    int (*progress)(void *user, int64_t step, int64_t steps, double loss);
    void *progress_user;
} sngi_train_opts;

/* Checks the train.* and eval.* settings of g (values in range, none unknown) without running:
 * lets `sngraph run` report a typo before it spends time loading data. */
sng_status sngi_train_check(sng_ctx *ctx, sng_graph *g);
/* Trains g as its <train> settings say, evaluates, writes run_dir/{checkpoint.tar,
 * metrics.jsonl,report.txt,report.svg}. Returns SNG_ERR_INTERRUPTED after a clean stop on
 * SIGINT/SIGTERM (checkpoint written). */
sng_status sngi_train_run(sng_ctx *ctx, sng_graph *g, const sngi_feed *feed,
                          const sngi_train_opts *o);

typedef struct sngi_eval_result {
    sngi_verif verif;           /* on the evaluated split */
    double acc_at_thr;          /* accuracy at the given (calibrated) threshold */
    double oneshot_acc;         /* N-way K-shot accuracy, -1 if not run */
    int64_t n_pairs;
    int episodes, way, shot;
    /* The threshold's error rates on the split it was calibrated on (NaN: not known). */
    double cal_far, cal_frr;
} sngi_eval_result;

/* Scores pairs of a split with an inference session and computes metrics (and episodes when
 * episodes > 0). thr: calibrated threshold for acc_at_thr. scores/labels (optional) receive
 * the raw values (caller-owned, n_pairs each). */
sng_status sngi_evaluate(sng_ctx *ctx, sng_session *inf, const sngi_feed *feed, int split,
                         int64_t max_pairs, int episodes, int way, int shot, double thr,
                         sngi_eval_result *res, float *scores, float *labels);

/* How a model's inputs are used: image inputs and the label input (or -1). */
typedef struct sngi_io {
    int img[3];                 /* node ids of image inputs, in order */
    int n_img;
    int label;                  /* node id of the label input, or -1 */
    int score_out;              /* output with one value per sample (similarity), or -1 */
    int emb_out;                /* output embedding (per-sample numel > 1), or -1 */
} sngi_io;
sng_status sngi_io_get(sng_ctx *ctx, const sng_graph *g, sngi_io *io);
/* Refuses a model that a feed cannot fill by role: an input with no role, image inputs of
 * different shapes, or (training) neither pairs+label nor triplets. */
sng_status sngi_io_check_feedable(sng_ctx *ctx, const sng_graph *g, const sngi_io *io,
                                  int training);

/* Set by the signal handler; the loop stops cleanly at the next step. */
extern volatile int sngi_stop_requested;

#endif
