/*
 * report_svg.c — the run report as one SVG page of four panels with ticked, labelled axes:
 * the training loss (log scale, so the later curve shows under a large first loss), the
 * validation metrics over time, the test ROC with the operating point marked, and the score
 * histograms of same and different pairs with the threshold line.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app/report.h"

#define PW 420 /* panel size */
#define PH 300
#define ML 52  /* plot margins inside a panel */
#define MR 14
#define MT 26
#define MB 40

/* text with XML's special characters escaped */
static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

/* One plot area: data ranges and how they map to the panel's pixels. */
typedef struct axes {
    double x0, y0;            /* panel origin */
    double xlo, xhi, ylo, yhi;
    int logy;
} axes;

static double px(const axes *a, double x) {
    return a->x0 + ML + (PW - ML - MR) * (x - a->xlo) / (a->xhi - a->xlo);
}
static double py(const axes *a, double y) {
    double t = a->logy ? (log10(y) - log10(a->ylo)) / (log10(a->yhi) - log10(a->ylo))
                       : (y - a->ylo) / (a->yhi - a->ylo);
    return a->y0 + MT + (PH - MT - MB) * (1 - t);
}

/* A step of 1, 2 or 5 times a power of ten giving about n ticks over [lo, hi]. */
static double nice_step(double lo, double hi, int n) {
    double raw = (hi - lo) / n, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

/* Frame, grid, ticks, tick labels, axis labels and title of a panel. */
static void frame(FILE *f, const axes *a, const char *title, const char *xl, const char *yl) {
    double l = a->x0 + ML, r = a->x0 + PW - MR, t = a->y0 + MT, b = a->y0 + PH - MB;
    fprintf(f, "<g class=\"panel\"><text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" "
               "font-weight=\"bold\">", l, a->y0 + 16);
    xml_text(f, title);
    fprintf(f, "</text>\n<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
               "stroke=\"#444\"/>\n", l, t, r - l, b - t);
    double s = nice_step(a->xlo, a->xhi, 5);
    for (double v = ceil(a->xlo / s) * s; v <= a->xhi + s * 1e-9; v += s) {
        double x = px(a, v);
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
                   "stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n",
                x, t, x, b + 4, x, b + 16, fabs(v) < s * 1e-9 ? 0.0 : v);
    }
    if (a->logy) {
        for (double d = pow(10, floor(log10(a->ylo))); d <= a->yhi * 1.0001; d *= 10)
            for (int k = 1; k < 10; k++) {
                double v = d * k;
                if (v < a->ylo * 0.9999 || v > a->yhi * 1.0001) continue;
                double y = py(a, v);
                fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\"/>",
                        l - (k == 1 ? 4 : 2), y, r, y, k == 1 ? "#ccc" : "#f0f0f0");
                if (k == 1 || k == 2 || k == 5)
                    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>", l - 6,
                            y + 4, v);
                fputc('\n', f);
            }
    } else {
        s = nice_step(a->ylo, a->yhi, 5);
        for (double v = ceil(a->ylo / s) * s; v <= a->yhi + s * 1e-9; v += s) {
            double y = py(a, v);
            fprintf(f, "<line class=\"tick\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                       "stroke=\"#ddd\"/><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                    l - 4, y, r, y, l - 6, y + 4, fabs(v) < s * 1e-9 ? 0.0 : v);
        }
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">", (l + r) / 2, b + 32);
    xml_text(f, xl);
    fprintf(f, "</text><text transform=\"translate(%.0f,%.0f) rotate(-90)\" "
               "text-anchor=\"middle\">", a->x0 + 12, (t + b) / 2);
    xml_text(f, yl);
    fprintf(f, "</text></g>\n");
}

static void empty(FILE *f, const axes *a, const char *why) {
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#888\">", a->x0 + PW / 2.0,
            a->y0 + PH / 2.0);
    xml_text(f, why);
    fprintf(f, "</text>\n");
}

static void legend(FILE *f, const axes *a, int row, const char *color, const char *label) {
    /* in the panel's title row, right-aligned, so it never covers data or the threshold */
    double x = a->x0 + PW - MR - 100 * (2 - row), y = a->y0 + 16;
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
               "stroke-width=\"2\"/><text x=\"%.0f\" y=\"%.0f\">",
            x, y - 4, x + 16, y - 4, color, x + 20, y);
    xml_text(f, label);
    fprintf(f, "</text>\n");
}

static void loss_panel(FILE *f, const sngi_report_data *d) {
    axes a = {0, 24, 1, d->n_loss > 1 ? (double)d->n_loss : 2, INFINITY, -INFINITY, 1};
    for (int64_t i = 0; i < d->n_loss; i++)
        if (d->loss[i] > 0 && isfinite(d->loss[i])) {
            if (d->loss[i] < a.ylo) a.ylo = d->loss[i];
            if (d->loss[i] > a.yhi) a.yhi = d->loss[i];
        }
    if (!(a.yhi >= a.ylo)) {
        a.ylo = 0.1, a.yhi = 1;
    }
    /* whole decades, so the log axis has labelled ticks */
    a.ylo = pow(10, floor(log10(a.ylo)));
    a.yhi = pow(10, ceil(log10(a.yhi) + 1e-12));
    frame(f, &a, "Training loss", "step", "loss (log scale)");
    if (!d->n_loss) return empty(f, &a, "no training steps");
    fprintf(f, "<polyline class=\"loss\" fill=\"none\" stroke=\"#1f77b4\" points=\"");
    int64_t every = d->n_loss / 400 + 1;
    for (int64_t i = 0; i < d->n_loss; i += every)
        if (d->loss[i] > 0 && isfinite(d->loss[i]))
            fprintf(f, "%.1f,%.1f ", px(&a, (double)(i + 1)), py(&a, d->loss[i]));
    fprintf(f, "\"/>\n");
}

static void val_panel(FILE *f, const sngi_report_data *d) {
    axes a = {PW + 10, 24, 0, 1, 0, 1, 0};
    a.xhi = d->n_val ? (double)d->val_step[d->n_val - 1] : 1;
    if (d->n_val) a.xlo = d->n_val > 1 ? (double)d->val_step[0] : 0;
    if (!(a.xhi > a.xlo)) a.xhi = a.xlo + 1;
    frame(f, &a, "Validation over training", "step", "AUC / EER");
    if (!d->n_val) return empty(f, &a, "set train.eval_every to track validation");
    static const char *color[2] = {"#2ca02c", "#d62728"};
    for (int k = 0; k < 2; k++) {
        const double *v = k ? d->val_eer : d->val_auc;
        fprintf(f, "<polyline class=\"val\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                   "points=\"", color[k]);
        for (int i = 0; i < d->n_val; i++)
            if (isfinite(v[i])) fprintf(f, "%.1f,%.1f ", px(&a, (double)d->val_step[i]), py(&a, v[i]));
        fprintf(f, "\"/>\n");
        for (int i = 0; i < d->n_val && d->n_val < 60; i++)
            if (isfinite(v[i]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
                        px(&a, (double)d->val_step[i]), py(&a, v[i]), color[k]);
        legend(f, &a, k, color[k], k ? "EER" : "ROC AUC");
    }
}

static void roc_panel(FILE *f, const sngi_report_data *d) {
    axes a = {0, PH + 34, 0, 1, 0, 1, 0};
    frame(f, &a, "ROC on the test split", "false accept rate (FAR)", "true accept rate (TAR)");
    if (d->n_roc < 2) return empty(f, &a, "no test pairs of both kinds");
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" "
               "stroke-dasharray=\"4 3\"/>\n", px(&a, 0), py(&a, 0), px(&a, 1), py(&a, 1));
    fprintf(f, "<polyline class=\"roc\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" "
               "points=\"");
    for (size_t i = 0; i < d->n_roc; i++) fprintf(f, "%.1f,%.1f ", px(&a, d->far[i]), py(&a, d->tar[i]));
    fprintf(f, "\"/>\n");
    if (isfinite(d->op_far) && isfinite(d->op_tar)) {
        double x = px(&a, d->op_far), y = py(&a, d->op_tar);
        fprintf(f, "<circle class=\"operating-point\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"none\" "
                   "stroke=\"#000\" stroke-width=\"2\"/>\n<text x=\"%.1f\" y=\"%.1f\">threshold "
                   "%.3g: FAR %.3f, TAR %.3f</text>\n",
                x, y, x + 8 < a.x0 + PW - 210 ? x + 8 : a.x0 + PW - 210, y + 18 < a.y0 + PH - MB - 4 ? y + 18 : y - 10,
                d->threshold, d->op_far, d->op_tar);
    }
}

static void hist_panel(FILE *f, const sngi_report_data *d) {
    enum { BINS = 30 };
    axes a = {PW + 10, PH + 34, INFINITY, -INFINITY, 0, 1, 0};
    for (size_t i = 0; i < d->n_scores; i++)
        if (isfinite(d->score[i])) {
            if (d->score[i] < a.xlo) a.xlo = d->score[i];
            if (d->score[i] > a.xhi) a.xhi = d->score[i];
        }
    if (isfinite(d->threshold) && d->n_scores) {
        if (d->threshold < a.xlo) a.xlo = d->threshold;
        if (d->threshold > a.xhi) a.xhi = d->threshold;
    }
    if (!(a.xhi > a.xlo)) a.xlo = 0, a.xhi = 1;
    double h[2][BINS] = {{0}}, n[2] = {0, 0}, top = 0, w = (a.xhi - a.xlo) / BINS;
    for (size_t i = 0; i < d->n_scores; i++) {
        if (!isfinite(d->score[i])) continue;
        int k = d->label[i] > 0.5f, b = (int)((d->score[i] - a.xlo) / w);
        h[k][b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
        n[k]++;
    }
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < BINS; b++)
            if (n[k] && (h[k][b] /= n[k]) > top) top = h[k][b];
    a.yhi = top > 0 ? top * 1.1 : 1;
    frame(f, &a, "Test scores by pair kind", "similarity score", "share of pairs");
    if (!d->n_scores) return empty(f, &a, "no test pairs");
    static const char *color[2] = {"#ff7f0e", "#1f77b4"};
    for (int k = 0; k < 2; k++) {
        fprintf(f, "<g class=\"hist\" fill=\"%s\" fill-opacity=\"0.45\">", color[k]);
        for (int b = 0; b < BINS; b++)
            if (h[k][b] > 0) {
                double x0 = px(&a, a.xlo + b * w), x1 = px(&a, a.xlo + (b + 1) * w);
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x0,
                        py(&a, h[k][b]), x1 - x0, py(&a, 0) - py(&a, h[k][b]));
            }
        fprintf(f, "</g>\n");
        legend(f, &a, k, color[k], k ? "same pairs" : "different");
    }
    if (isfinite(d->threshold)) {
        double x = px(&a, d->threshold);
        fprintf(f, "<line class=\"threshold\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">threshold %.3g</text>\n",
                x, py(&a, a.yhi), x, py(&a, 0), x + 4, py(&a, a.yhi) + 12, d->threshold);
    }
}

sng_status sngi_svg_report(sng_ctx *ctx, const char *path, const sngi_report_data *d) {
    FILE *f = fopen(path, "w");
    if (!f) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
               "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, "
               "sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" "
               "fill=\"#fff\"/>\n<title>",
            2 * PW + 10, 2 * PH + 40, 2 * PW + 10, 2 * PH + 40);
    xml_text(f, d->title ? d->title : "sngraph report");
    fprintf(f, "</title>\n<text x=\"10\" y=\"16\" font-size=\"14\">");
    xml_text(f, d->title ? d->title : "sngraph report");
    fprintf(f, "</text>\n");
    loss_panel(f, d);
    val_panel(f, d);
    roc_panel(f, d);
    hist_panel(f, d);
    fprintf(f, "</svg>\n");
    int e = fflush(f) != 0 || ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    return e ? sngi_fail(ctx, SNG_ERR_IO, "%s: write failed: %s", path, strerror(e)) : SNG_OK;
}
