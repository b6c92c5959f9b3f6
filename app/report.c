/*
 * report.c — the JSON form of an evaluation result used by metrics.jsonl and checkpoints (the
 * SVG report is report_svg.c).
 */
#include "config.h"

#include <math.h>

#include <stdio.h>

#include "app/report.h"

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
