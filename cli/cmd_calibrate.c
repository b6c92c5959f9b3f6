/*
 * cmd_calibrate.c — `sngraph calibrate`: sets a checkpoint's threshold on the user's own
 * labelled pairs and prints the ROC summary.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "app/calibrate.h"

int sngi_cmd_calibrate(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph calibrate --ckpt CHECKPOINT [--far X | --eer] [-o OUT.tar] PAIRS\n"
        "Sets the checkpoint's threshold on your own labelled pairs: the lowest false reject\n"
        "rate whose false accept rate is at most X, or (default) the equal error point. PAIRS is\n"
        "a CSV of image_a,image_b,label (1 same, 0 different; paths relative to the CSV) or a\n"
        "directory with one folder of images per class (pairs sampled, seeded). The checkpoint\n"
        "is rewritten atomically (to OUT.tar with -o) with the new threshold and its FAR/FRR.\n";
    const char *ckpt = NULL, *out_path = NULL, *pos[1];
    double far = -1;
    long threads = 0, seed = 1;
    int eer = 0, far_given = 0, json = 0, n_pos = 0;
    const sngi_arg opts[] = {
        {"--ckpt", NULL, SNGI_ARG_TEXT, &ckpt, 0, 0, NULL, "FILE", "the checkpoint", NULL},
        {"--far", NULL, SNGI_ARG_REAL, &far, 0, 1, &far_given, "X",
         "target false accept rate (0..1)", NULL},
        {"--eer", NULL, SNGI_ARG_FLAG, &eer, 0, 0, NULL, NULL,
         "threshold at equal error (the default)", NULL},
        {"--output", "-o", SNGI_ARG_TEXT, &out_path, 0, 0, NULL, "OUT.tar",
         "write the new checkpoint here (default: replace CHECKPOINT)", NULL},
        {"--seed", NULL, SNGI_ARG_INT, &seed, 0, 2147483647, NULL, "S",
         "seed for sampling pairs from class folders", NULL},
        SNGI_ARG_JSON(&json),
        SNGI_ARG_THREADS(&threads),
        SNGI_ARG_END};
    int rc0 = sngi_args_parse(argc, argv, opts, pos, 1, 1, &n_pos, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (!ckpt) return sngi_args_usage(err, "calibrate", help, opts, "--ckpt is required");
    if (eer && far_given)
        return sngi_args_usage(err, "calibrate", help, opts, "--far and --eer exclude each other");
    if (!far_given) far = -1;
    sng_ctx *ctx = sngi_cli_ctx();
    if (!ctx) {
        fprintf(err, "sngraph calibrate: out of memory\n");
        return SNG_EXIT_INTERNAL;
    }
    sngi_model *m = NULL;
    sngi_calib_pairs p = {0};
    sngi_calib_result r;
    sng_status st = sngi_model_open(ctx, ckpt, 2, 1, (int)threads, &m);
    if (!st) st = sngi_calib_pairs_load(ctx, pos[0], (uint64_t)seed, &p);
    if (!st) st = sngi_calibrate(ctx, m, &p, far, &r);
    const char *dst = out_path ? out_path : ckpt;
    if (!st) st = sngi_calib_write(ctx, ckpt, dst, &r);
    if (!st && json) {
        fprintf(out, "{\"pairs\":%d,\"same\":%d,\"different\":%d,\"auc\":%.6f,\"eer\":%.6f,"
                     "\"target_far\":",
                r.n, r.n_same, r.n_diff, r.auc, r.eer);
        if (far < 0) fprintf(out, "null");
        else fprintf(out, "%.6g", far);
        fprintf(out, ",\"tar_at_far\":%.6f,\"threshold\":%.9g,\"far\":%.6f,\"frr\":%.6f,"
                     "\"checkpoint\":",
                r.tar_at_far, r.threshold, r.far, r.frr);
        sngi_json_str(out, dst);
        fprintf(out, "}\n");
    } else if (!st) {
        fprintf(out, "%d pairs (%d same, %d different): ROC AUC %.4f  EER %.4f\n", r.n, r.n_same,
                r.n_diff, r.auc, r.eer);
        if (far < 0) fprintf(out, "TAR at FAR 1e-3: %.4f\n", r.tar_at_far);
        else fprintf(out, "TAR at FAR %g: %.4f\n", far, r.tar_at_far);
        fprintf(out, "threshold %.6g (%s): FAR %.4f  FRR %.4f\n", r.threshold,
                far < 0 ? "equal error" : "target FAR", r.far, r.frr);
        fprintf(out, "checkpoint: %s\n", dst);
    }
    int rc = st ? sngi_cli_report(err, "calibrate", ctx, st) : SNG_EXIT_OK;
    sngi_calib_pairs_free(&p);
    sngi_model_close(m);
    sng_ctx_free(ctx);
    return rc;
}
