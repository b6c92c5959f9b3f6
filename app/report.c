/*
 * report.c — what a run writes for people: the SVG report (loss curve and ROC) and the JSON
 * form of an evaluation result used by metrics.jsonl.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "app/report.h"

/* text with XML's special characters escaped */
static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

sng_status sngi_svg_report(sng_ctx *ctx, const char *path, const double *loss, int64_t n_loss,
                           const double *far, const double *tar, size_t n_roc, const char *title) {
    FILE *f = fopen(path, "w");
    if (!f) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    const int W = 420, H = 300, M = 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"Helvetica\" font-size=\"11\">\n", 2 * W + 20, H + 30);
    fprintf(f, "<text x=\"10\" y=\"16\" font-size=\"13\">");
    xml_text(f, title);
    fprintf(f, "</text>\n");
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
    int e = fflush(f) != 0 || ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    return e ? sngi_fail(ctx, SNG_ERR_IO, "%s: write failed: %s", path, strerror(e)) : SNG_OK;
}

/* A number, or null when it is not finite (JSON has no NaN). */
static int num(char *buf, size_t n, const char *fmt, double v) {
    return isfinite(v) ? snprintf(buf, n, fmt, v) : snprintf(buf, n, "null");
}

void sngi_metrics_json(char *buf, size_t n, const sngi_eval_result *r, double thr) {
    char v[8][40];
    num(v[0], sizeof v[0], "%.6f", r->verif.auc);
    num(v[1], sizeof v[1], "%.6f", r->verif.eer);
    num(v[2], sizeof v[2], "%.6f", r->verif.tar_at_far3);
    num(v[3], sizeof v[3], "%.6f", r->acc_at_thr);
    num(v[4], sizeof v[4], "%.6g", thr);
    num(v[5], sizeof v[5], "%.6f", r->oneshot_acc);
    num(v[6], sizeof v[6], "%.6f", r->cal_far);
    num(v[7], sizeof v[7], "%.6f", r->cal_frr);
    snprintf(buf, n,
             "{\"auc\":%s,\"eer\":%s,\"tar_at_far_1e-3\":%s,\"accuracy\":%s,"
             "\"threshold\":%s,\"threshold_far\":%s,\"threshold_frr\":%s,\"pairs\":%lld,\"oneshot_accuracy\":%s,\"way\":%d,\"shot\":%d,"
             "\"episodes\":%d}",
             v[0], v[1], v[2], v[3], v[4], v[6], v[7], (long long)r->n_pairs, v[5], r->way, r->shot,
             r->episodes);
}
