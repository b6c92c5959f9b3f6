/*
 * cmd_data.c — `sngraph data SOURCE`: loads a directory, archive or IDX file the way training
 * would and prints what it holds (classes, images per class, sizes and modes, skipped entries
 * with reasons). Exit codes: 0 ok, 1 the source is unusable, 2 usage.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "cli.h"
#include "app/feed.h"
#include "app/settings.h"

int sngi_cmd_data(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph data [options] SOURCE|MODEL\n"
        "SOURCE is a directory or an archive (zip, tar[.gz|.bz2|.xz|.zst], 7z, ...) laid out\n"
        "as .../class/image.ext, or an IDX images file (MNIST; labels found by name).\n"
        "MODEL (a .xml file or a bare model name) stands for its training source, read at\n"
        "the model's input size; --set applies to a MODEL only.\n";
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    int json = 0;
    long depth = 0, max_images = 0;
    const char *size = NULL;
    sngi_sets sets = {.n = 0};
    const sngi_arg opts[] = {
        SNGI_ARG_JSON(&json),
        {"--depth", NULL, SNGI_ARG_INT, &depth, 1, 16, NULL, "N",
         "folders forming a class (default: auto, 2 for alphabet/character)", NULL},
        {"--strict", NULL, SNGI_ARG_FLAG, &o.strict, 0, 0, NULL, NULL,
         "fail on the first bad entry instead of skipping it", NULL},
        {"--allow-partial", NULL, SNGI_ARG_FLAG, &o.allow_partial, 0, 0, NULL, NULL,
         "read a truncated or corrupt archive up to the break (warns)", NULL},
        {"--size", NULL, SNGI_ARG_TEXT, &size, 0, 0, NULL, "CxHxW",
         "convert and resize images to this shape, C 1 or 3 (default: the first image's)", NULL},
        {"--labels", NULL, SNGI_ARG_TEXT, &o.idx_labels, 0, 0, NULL, "FILE",
         "IDX labels file (default: derived from the images file name)", NULL},
        {"--pairs", NULL, SNGI_ARG_TEXT, &o.pairs_csv, 0, 0, NULL, "FILE",
         "a pairs list 'path_a,path_b,label' to resolve against the source", NULL},
        {"--max", NULL, SNGI_ARG_INT, &max_images, 1, 1 << 30, NULL, "N", "read at most N images",
         NULL},
        SNGI_ARG_SET(&sets),
        SNGI_ARG_END,
    };
    int rc0 = sngi_args_parse(argc, argv, opts, &o.source, 0, 1, NULL, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (!o.source) return sngi_args_usage(err, "data", help, opts, "missing SOURCE or MODEL");
    if (depth) o.class_depth = (int)depth;
    if (max_images) o.max_images = max_images;
    if (size) {
        sngi_shape sh;
        if (sngi_shape_parse(size, &sh) || sh.nd != 3 || (sh.d[0] != 1 && sh.d[0] != 3) ||
            sh.d[1] > 16384 || sh.d[2] > 16384)
            return sngi_args_usage(err, "data", help, opts,
                                   "--size wants CxHxW with C 1 or 3 (got '%s')", size);
        o.channels = sh.d[0];
        o.height = sh.d[1];
        o.width = sh.d[2];
    }
    sng_ctx *ctx = sngi_cli_ctx();
    if (!ctx) {
        fprintf(err, "sngraph data: out of memory\n");
        return SNG_EXIT_INPUT;
    }
    /* A model file (or bare model name): describe its training source as training reads it,
     * with the options given here on top. */
    size_t sl = strlen(o.source);
    struct stat sb;
    int is_model = (sl > 4 && !strcmp(o.source + sl - 4, ".xml")) ||
                   (stat(o.source, &sb) != 0 && !strchr(o.source, '/'));
    if (!is_model && sets.n) {
        sng_ctx_free(ctx);
        return sngi_args_usage(err, "data", help, opts, "--set applies to a MODEL, not a SOURCE");
    }
    sng_graph *g = NULL;
    sng_status st = SNG_OK;
    if (is_model) {
        sngi_dataset_opts mo;
        st = sng_graph_load(ctx, o.source, sets.set, sets.n, &g);
        if (!st) st = sngi_settings_check(ctx, g);
        if (!st) st = sngi_data_train_source(ctx, g, &mo);
        if (!st) {
            if (depth) mo.class_depth = (int)depth;
            if (max_images) mo.max_images = max_images;
            if (size) mo.channels = o.channels, mo.height = o.height, mo.width = o.width;
            mo.strict |= o.strict;
            mo.allow_partial |= o.allow_partial;
            if (o.idx_labels) mo.idx_labels = o.idx_labels;
            if (o.pairs_csv) mo.pairs_csv = o.pairs_csv;
            o = mo;
        }
    }
    int skipped = 0;
    if (!st) st = sngi_data_describe_source(ctx, &o, out, json, &skipped);
    /* Out of memory is a resource limit, exit 1 as in every command; 3 means a bug. */
    int rc = st ? sngi_cli_report(err, "data", ctx, st) : SNG_EXIT_OK;
    if (!st && !json && skipped)
        fprintf(err, "sngraph data: warning: %d entr%s skipped (listed above)\n", skipped,
                skipped == 1 ? "y" : "ies");
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return rc;
}
