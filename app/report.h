/*
 * report.h — the run report (SVG) and the JSON form of an evaluation result.
 */
#ifndef SNG_REPORT_H
#define SNG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "app/train.h"

/* What the SVG report draws; every pointer is borrowed and may be NULL with its count 0. */
typedef struct sngi_report_data {
    const char *title;
    const double *loss;          /* training loss per step */
    int64_t n_loss;
    const int64_t *val_step;     /* validation evaluations (train.eval_every): step, AUC, EER */
    const double *val_auc, *val_eer;
    int n_val;
    const double *far, *tar;     /* test ROC points */
    size_t n_roc;
    const float *score, *label;  /* test pair scores and labels (1 = same), for the histograms */
    size_t n_scores;
    double threshold;            /* the operating point (NaN: none) */
    double op_far, op_tar;       /* its FAR and TAR on the test pairs */
} sngi_report_data;

/* Writes the SVG report (report_svg.c): loss, validation over time, ROC, score histograms;
 * any failed write is an SNG_ERR_IO naming path. */
sng_status sngi_svg_report(sng_ctx *ctx, const char *path, const sngi_report_data *d);
/* Formats r (and the calibrated threshold) as one JSON object into buf[n]; non-finite values
 * are written as null, so the line stays valid JSON. */
void sngi_metrics_json(char *buf, size_t n, const sngi_eval_result *r, double thr);

#endif
