/*
 * calibrate.h — setting a checkpoint's threshold on the user's own labelled pairs: the pairs
 * (a CSV of two image paths and a label, or a class-per-folder directory), their scores, the
 * threshold for a target false accept rate (or equal error), and the checkpoint rewritten with it.
 */
#ifndef SNG_CALIBRATE_H
#define SNG_CALIBRATE_H

#include "app/infer.h"

/* Labelled image pairs; everything is owned (sngi_calib_pairs_free). */
typedef struct sngi_calib_pairs {
    char **a, **b;   /* image paths */
    float *label;    /* 1 = same, 0 = different */
    int n;
} sngi_calib_pairs;

/* Reads pairs from src: a directory of one folder per class (pairs sampled as evaluation
 * does: each image with another of its class and with one of another class, seeded), or a CSV
 * "path_a,path_b,label" per line (paths relative to the CSV's folder; a first line whose label
 * is not a number is a header; a field may be double-quoted, without commas). Refuses an empty
 * list. *out is the caller's. */
sng_status sngi_calib_pairs_load(sng_ctx *ctx, const char *src, uint64_t seed,
                                 sngi_calib_pairs *out);
void sngi_calib_pairs_free(sngi_calib_pairs *p);

typedef struct sngi_calib_result {
    double target_far;     /* asked for; < 0: equal error */
    double threshold;      /* chosen: score >= threshold means "same" */
    double far, frr;       /* at the threshold, on these pairs */
    double auc, eer;
    double tar_at_far;     /* TAR at the chosen threshold's FAR target (EER: at FAR 1e-3) */
    int n, n_same, n_diff;
} sngi_calib_result;

/* Scores every pair with m (images through the one preprocessing) and chooses the threshold.
 * Fails, naming the problem, on an unreadable image or pairs of one label only. */
sng_status sngi_calibrate(sng_ctx *ctx, sngi_model *m, const sngi_calib_pairs *p,
                          double target_far, sngi_calib_result *r);

/* Writes the checkpoint at in with r's threshold and its FAR/FRR in manifest.json, every
 * other entry unchanged, atomically to out (which may be in). */
sng_status sngi_calib_write(sng_ctx *ctx, const char *in, const char *out,
                            const sngi_calib_result *r);

#endif
