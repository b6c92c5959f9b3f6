/*
 * report.h — the run report (SVG) and the JSON form of an evaluation result.
 */
#ifndef SNG_REPORT_H
#define SNG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "app/train.h"

/* Writes an SVG with the training loss curve and the test ROC (far/tar, n_roc points); any
 * failed write is an SNG_ERR_IO naming path. */
sng_status sngi_svg_report(sng_ctx *ctx, const char *path, const double *loss, int64_t n_loss, const double *far,
                     const double *tar, size_t n_roc, const char *title);
/* Formats r (and the calibrated threshold) as one JSON object into buf[n]; non-finite values
 * are written as null, so the line stays valid JSON. */
void sngi_metrics_json(char *buf, size_t n, const sngi_eval_result *r, double thr);

#endif
