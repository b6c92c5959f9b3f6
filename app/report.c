/*
 * report.c — what a run writes for people: the SVG report (loss curve and ROC) and the JSON
 * form of an evaluation result used by metrics.jsonl.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "app/report.h"

void sngi_svg_report(const char *path, const double *loss, int64_t n_loss, const double *far,
                       const double *tar, size_t n_roc, const char *title) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    const int W = 420, H = 300, M = 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"Helvetica\" font-size=\"11\">\n", 2 * W + 20, H + 30);
    fprintf(f, "<text x=\"10\" y=\"16\" font-size=\"13\">%s</text>\n", title);
    /* Loss curve. */
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n_loss; i++) {
        if (loss[i] < lo) lo = loss[i];
        if (loss[i] > hi) hi = loss[i];
    }
    if (!(hi > lo)) hi = lo + 1;
    fprintf(f, "<g transform=\"translate(0,24)\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "fill=\"none\" stroke=\"#888\"/>\n", M, 10, W - M - 10, H - M - 10);
    fprintf(f, "<text x=\"%d\" y=\"%d\">training loss (%.3g .. %.3g) over %lld steps</text>\n", M,
            H - 12, lo, hi, (long long)n_loss);
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" points=\"");
    int64_t every = n_loss / 400 + 1;
    for (int64_t i = 0; i < n_loss; i += every) {
        double x = M + (W - M - 10) * (n_loss > 1 ? (double)i / (double)(n_loss - 1) : 0);
        double y = 10 + (H - M - 10) * (1 - (loss[i] - lo) / (hi - lo));
        fprintf(f, "%.1f,%.1f ", x, y);
    }
    fprintf(f, "\"/></g>\n");
    /* ROC. */
    fprintf(f, "<g transform=\"translate(%d,24)\"><rect x=\"%d\" y=\"10\" width=\"%d\" height=\"%d\" "
               "fill=\"none\" stroke=\"#888\"/>\n", W + 10, M, H - M - 10, H - M - 10);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"10\" stroke=\"#ccc\"/>\n", M, H - M,
            H - 10);
    fprintf(f, "<text x=\"%d\" y=\"%d\">ROC on the test split (FAR -> TAR)</text>\n", M, H - 12);
    fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" points=\"");
    for (size_t i = 0; i < n_roc; i++)
        fprintf(f, "%.1f,%.1f ", M + (H - M - 10) * far[i], 10 + (H - M - 10) * (1 - tar[i]));
    fprintf(f, "\"/></g>\n</svg>\n");
    fclose(f);
}

void sngi_metrics_json(char *buf, size_t n, const sngi_eval_result *r, double thr) {
    snprintf(buf, n,
             "{\"auc\":%.6f,\"eer\":%.6f,\"tar_at_far_1e-3\":%.6f,\"accuracy\":%.6f,"
             "\"threshold\":%.6g,\"pairs\":%lld,\"oneshot_accuracy\":%.6f,\"way\":%d,\"shot\":%d,"
             "\"episodes\":%d}",
             r->verif.auc, r->verif.eer, r->verif.tar_at_far3, r->acc_at_thr, thr,
             (long long)r->n_pairs, r->oneshot_acc, r->way, r->shot, r->episodes);
}
