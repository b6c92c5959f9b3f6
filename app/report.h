/*
 * report.h — the run report (SVG) and the JSON form of an evaluation result.
 */
#ifndef SNG_REPORT_H
#define SNG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "app/train.h"

/* Writes an SVG with the training loss curve and the test ROC (far/tar, n_roc points). */
void sngi_svg_report(const char *path, const double *loss, int64_t n_loss, const double *far,
                     const double *tar, size_t n_roc, const char *title);
/* Formats r (and the calibrated threshold) as one JSON object into buf[n]. */
void sngi_metrics_json(char *buf, size_t n, const sngi_eval_result *r, double thr);

#endif
