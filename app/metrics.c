/*
 * metrics.c — ROC AUC (rank statistic with ties averaged), EER, TAR at a fixed FAR, and the
 * accuracy-maximising threshold, from one sort of the scores.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "app/metrics.h"

typedef struct sl {
    float s, l;
} sl;

static int cmp_desc(const void *a, const void *b) {
    float x = ((const sl *)a)->s, y = ((const sl *)b)->s;
    return x > y ? -1 : x < y;
}

static sl *sorted(const float *score, const float *label, size_t n, size_t *pos, size_t *neg) {
    sl *v = malloc(sizeof(sl) * (n ? n : 1));
    if (!v) return NULL;
    *pos = *neg = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].l = label[i] > 0.5f ? 1.0f : 0.0f;
        if (v[i].l > 0)
            (*pos)++;
        else
            (*neg)++;
    }
    qsort(v, n, sizeof(sl), cmp_desc);
    return v;
}

double sngi_verif_accuracy(const float *score, const float *label, size_t n, double thr) {
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) ok += (score[i] >= thr) == (label[i] > 0.5f);
    return n ? (double)ok / (double)n : 0;
}

int sngi_verif_metrics(const float *score, const float *label, size_t n, sngi_verif *out) {
    size_t P, N;
    out->auc = out->eer = out->tar_at_far3 = out->best_acc = 0;
    out->best_thr = 0.5;
    sl *v = sorted(score, label, n, &P, &N);
    if (!v) return -1;
    if (!P || !N) {
        out->best_acc = sngi_verif_accuracy(score, label, n, 0.5);
        free(v);
        return -1;
    }
    /* Walk thresholds from high to low, one group of tied scores at a time. */
    double tp = 0, fp = 0, auc = 0, best_acc = (double)N / (double)n, best_thr = INFINITY;
    double eer = 1, eer_gap = 2, tar3 = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].l > 0)
                gp++;
            else
                gn++;
            j++;
        }
        auc += gn * (tp + gp / 2); /* positives ranked above each negative (ties count half) */
        tp += gp;
        fp += gn;
        double tpr = tp / (double)P, fpr = fp / (double)N;
        double acc = (tp + ((double)N - fp)) / (double)n;
        if (acc > best_acc) {
            best_acc = acc;
            best_thr = v[i].s;
        }
        double fnr = 1 - tpr, gap = fabs(fnr - fpr);
        if (gap < eer_gap) {
            eer_gap = gap;
            eer = (fnr + fpr) / 2;
        }
        if (fpr <= 1e-3 && tpr > tar3) tar3 = tpr;
        i = j;
    }
    out->auc = auc / ((double)P * (double)N);
    out->eer = eer;
    out->tar_at_far3 = tar3;
    out->best_acc = best_acc;
    out->best_thr = isfinite(best_thr) ? best_thr : (double)v[0].s + 1;
    free(v);
    return 0;
}

size_t sngi_verif_roc(const float *score, const float *label, size_t n, double *far, double *tar,
                      size_t max_pts) {
    size_t P, N, k = 0;
    sl *v = sorted(score, label, n, &P, &N);
    if (!v || !P || !N || max_pts < 2) {
        free(v);
        return 0;
    }
    double tp = 0, fp = 0;
    far[k] = 0, tar[k] = 0, k++;
    size_t every = n / (max_pts - 1) + 1;
    for (size_t i = 0; i < n; i++) {
        if (v[i].l > 0)
            tp++;
        else
            fp++;
        if ((i + 1) % every == 0 || i + 1 == n) {
            if (k < max_pts) {
                far[k] = fp / (double)N;
                tar[k] = tp / (double)P;
                k++;
            }
        }
    }
    free(v);
    return k;
}

void sngi_verif_rates(const float *score, const float *label, size_t n, double thr, double *far,
                      double *frr) {
    double P = 0, N = 0, fa = 0, fr = 0;
    for (size_t i = 0; i < n; i++) {
        int same = label[i] > 0.5f, acc = score[i] >= thr;
        if (same) P++, fr += !acc;
        else N++, fa += acc;
    }
    *far = N ? fa / N : NAN;
    *frr = P ? fr / P : NAN;
}

int sngi_verif_pick(const float *score, const float *label, size_t n, double target_far,
                    double *thr) {
    size_t P, N;
    sl *v = sorted(score, label, n, &P, &N);
    if (!v || !P || !N) {
        free(v);
        return -1;
    }
    /* Candidate thresholds are the distinct scores, high to low; above the top one nothing is
     * accepted (FAR 0, FRR 1). */
    double best = (double)v[0].s + 1, tp = 0, fp = 0, gap = 2;
    if (target_far < 0) gap = 1; /* |FRR - FAR| above the top score */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].l > 0) tp++;
            else fp++;
            j++;
        }
        double far = fp / (double)N, frr = 1 - tp / (double)P;
        if (target_far < 0) {
            if (fabs(frr - far) < gap) gap = fabs(frr - far), best = v[i].s;
        } else if (far <= target_far) {
            best = v[i].s; /* FRR only falls as the threshold goes down */
        } else {
            break;
        }
        i = j;
    }
    free(v);
    *thr = best;
    return 0;
}
