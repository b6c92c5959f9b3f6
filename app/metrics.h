/*
 * metrics.h — verification metrics from similarity scores (higher = more alike) and labels.
 */
#ifndef SNG_METRICS_H
#define SNG_METRICS_H

#include <stddef.h>

typedef struct sngi_verif {
    double auc;          /* ROC area under the curve */
    double eer;          /* equal error rate */
    double tar_at_far3;  /* true-accept rate at false-accept rate 1e-3 */
    double best_acc;     /* accuracy at the best threshold on these scores */
    double best_thr;     /* that threshold (score >= thr: same) */
} sngi_verif;

/* Computes the metrics over n (score, label) pairs (label 1 = same). Returns -1 when one class
 * is absent (AUC undefined), 0 otherwise. */
int sngi_verif_metrics(const float *score, const float *label, size_t n, sngi_verif *out);
/* Accuracy of the rule score >= thr. */
double sngi_verif_accuracy(const float *score, const float *label, size_t n, double thr);
/* The ROC curve as (far, tar) points (at most max_pts, evenly spaced in rank); returns count. */
size_t sngi_verif_roc(const float *score, const float *label, size_t n, double *far, double *tar,
                      size_t max_pts);

/* The error rates of the rule score >= thr: *far = share of different pairs accepted, *frr =
 * share of same pairs rejected (NaN where that class is absent). */
void sngi_verif_rates(const float *score, const float *label, size_t n, double thr, double *far,
                      double *frr);
/* The threshold whose FAR is at most target_far with the lowest FRR (target_far < 0: the equal
 * error threshold, where FAR and FRR are closest). Returns -1 when one class is absent or out
 * of memory, 0 otherwise. */
int sngi_verif_pick(const float *score, const float *label, size_t n, double target_far,
                    double *thr);

#endif
