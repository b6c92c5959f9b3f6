/*
 * cmd_ckpt.c — `sngraph ckpt info CHECKPOINT`: what a checkpoint holds.
 */
#include "config.h"

#include <string.h>

#include "args.h"
#include "cli.h"
#include "app/ckpt.h"

int sngi_cmd_ckpt(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] = "Usage: sngraph ckpt info CHECKPOINT\n"
                               "Lists a checkpoint: model, step, metrics, parameters.\n";
    const char *pos[2];
    int n_pos = 0;
    const sngi_arg opts[] = {SNGI_ARG_END};
    int rc0 = sngi_args_parse(argc, argv, opts, pos, 0, 2, &n_pos, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (n_pos != 2 || strcmp(pos[0], "info"))
        return sngi_args_usage(err, "ckpt", help, opts, "expected: ckpt info CHECKPOINT");
    const char *path = pos[1];
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_ckpt *c;
    sng_status st = sngi_ckpt_read(ctx, path, &c);
    if (st) {
        int rc = sngi_cli_report(err, "ckpt", ctx, st);
        sng_ctx_free(ctx);
        return rc;
    }
    fprintf(out, "%s: %d entries\n", path, c->n);
    fprintf(out, "manifest: %s", (const char *)sngi_ckpt_entry(c, "manifest.json", NULL));
    for (int i = 0; i < c->n; i++) fprintf(out, "  %-60s %12zu bytes\n", c->names[i], c->sizes[i]);
    sngi_ckpt_free(c);
    sng_ctx_free(ctx);
    return SNG_EXIT_OK;
}
