/*
 * cmd_data.c — `sngraph data SOURCE`: loads a directory, archive or IDX file the way training
 * would and prints what it holds (classes, images per class, sizes and modes, skipped entries
 * with reasons). Exit codes: 0 ok, 1 the source is unusable, 2 usage.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "loaders/loader.h"

static void data_usage(FILE *f) {
    fprintf(f,
            "usage: sngraph data SOURCE|MODEL [options]\n"
            "  SOURCE is a directory or an archive (zip, tar[.gz|.bz2|.xz|.zst], 7z, ...) laid out\n"
            "  as .../class/image.ext, or an IDX images file (MNIST; labels found by name).\n"
            "  MODEL (a .xml file or a bare model name) stands for its training source, read at\n"
            "  the model's input size.\n"
            "options:\n"
            "  --json          print JSON instead of text\n"
            "  --depth N       folders forming a class (default: auto, 2 for alphabet/character)\n"
            "  --strict        fail on the first bad entry instead of skipping it\n"
            "  --allow-partial read a truncated or corrupt archive up to the break (warns)\n"
            "  --size CxHxW    convert and resize images to this shape (default: first image's)\n"
            "  --labels FILE   IDX labels file (default: derived from the images file name)\n"
            "  --pairs FILE    a pairs list 'path_a,path_b,label' to resolve against the source\n"
            "  --max N         read at most N images\n"
            "  --help          this text\n");
}

static int parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int sngi_cmd_data(int argc, char **argv, FILE *out, FILE *err) {
    sng_data_opts o;
    sng_data_opts_init(&o);
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            data_usage(out);
            return SNG_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--strict")) {
            o.strict = 1;
        } else if (!strcmp(a, "--allow-partial")) {
            o.allow_partial = 1;
        } else if (!strcmp(a, "--depth") || !strcmp(a, "--max") || !strcmp(a, "--size") ||
                   !strcmp(a, "--labels") || !strcmp(a, "--pairs")) {
            if (i + 1 >= argc) {
                fprintf(err, "sngraph data: %s needs a value\n", a);
                return SNG_EXIT_USAGE;
            }
            const char *val = argv[++i];
            if (!strcmp(a, "--labels")) {
                o.idx_labels = val;
            } else if (!strcmp(a, "--pairs")) {
                o.pairs_csv = val;
            } else if (!strcmp(a, "--size")) {
                sngi_shape sh;
                if (sngi_shape_parse(val, &sh) || sh.nd != 3 || (sh.d[0] != 1 && sh.d[0] != 3) ||
                    sh.d[1] > 16384 || sh.d[2] > 16384) {
                    fprintf(err, "sngraph data: --size wants CxHxW with C 1 or 3 (got '%s')\n",
                            val);
                    return SNG_EXIT_USAGE;
                }
                o.channels = sh.d[0];
                o.height = sh.d[1];
                o.width = sh.d[2];
            } else if (parse_int(val, !strcmp(a, "--depth") ? 1 : 1,
                                 !strcmp(a, "--depth") ? 16 : 1L << 30, &v)) {
                fprintf(err, "sngraph data: %s wants a positive integer (got '%s')\n", a, val);
                return SNG_EXIT_USAGE;
            } else if (!strcmp(a, "--depth")) {
                o.class_depth = (int)v;
            } else {
                o.max_images = v;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(err, "sngraph data: unknown option '%s' (see --help)\n", a);
            return SNG_EXIT_USAGE;
        } else if (o.source) {
            fprintf(err, "sngraph data: one SOURCE only (got '%s' and '%s')\n", o.source, a);
            return SNG_EXIT_USAGE;
        } else {
            o.source = a;
        }
    }
    if (!o.source) {
        data_usage(err);
        return SNG_EXIT_USAGE;
    }
    sng_ctx *ctx = sngi_cli_ctx();
    if (!ctx) {
        fprintf(err, "sngraph data: out of memory\n");
        return SNG_EXIT_INTERNAL;
    }
    /* A model file (or bare model name): describe its training source at its input size. */
    char srcbuf[4096];
    size_t sl = strlen(o.source);
    struct stat sb;
    if ((sl > 4 && !strcmp(o.source + sl - 4, ".xml")) ||
        (stat(o.source, &sb) != 0 && !strchr(o.source, '/'))) {
        sng_graph *g = NULL;
        sng_status gs = sng_graph_load(ctx, o.source, NULL, 0, &g);
        if (gs) {
            int rc = sngi_cli_report(err, "data", ctx, gs);
            sng_ctx_free(ctx);
            return rc;
        }
        const char *src = sngi_cfg_get(g, "data.train.source");
        if (!src || !*src) src = sngi_cfg_get(g, "data.source");
        if (!src || !*src) {
            fprintf(err, "sngraph data: %s names no data source (data.source or "
                         "data.train.source)\n", g->file);
            sng_graph_free(g);
            sng_ctx_free(ctx);
            return SNG_EXIT_INPUT;
        }
        snprintf(srcbuf, sizeof srcbuf, "%s", src);
        o.source = srcbuf;
        for (int i = 0; i < g->n_inputs && !o.height; i++) {
            const sngi_node *n = &g->nodes[g->inputs[i]];
            if (n->shape.nd == 3)
                o.channels = n->shape.d[0], o.height = n->shape.d[1], o.width = n->shape.d[2];
        }
        sng_graph_free(g);
    }
    sng_dataset *d = NULL;
    sng_status st = sng_dataset_load(ctx, &o, &d);
    if (st != SNG_OK) {
        fprintf(err, "sngraph data: %s\n", sng_ctx_errmsg(ctx));
        sng_ctx_free(ctx);
        return sngi_cli_exit(st); /* out of memory is 1 as in every command, not "internal" */
    }
    sng_data_describe(d, out, json);
    if (!json && sng_dataset_n_skipped(d))
        fprintf(err, "sngraph data: warning: %d entr%s skipped (listed above)\n",
                sng_dataset_n_skipped(d), sng_dataset_n_skipped(d) == 1 ? "y" : "ies");
    sng_dataset_free(d);
    sng_ctx_free(ctx);
    return SNG_EXIT_OK;
}
