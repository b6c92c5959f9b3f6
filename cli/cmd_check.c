/*
 * cmd_check.c — `sngraph check`, `sngraph dot` and `sngraph ops`: compile a model and show it.
 */
#include "config.h"

#include <string.h>

#include "args.h"
#include "cli.h"
#include "app/settings.h"

/* Shared by check and dot: parses [--json] [--set k=v]... MODEL, loads the graph and checks
 * its settings. Returns 0, or -1 - the exit code. */
static int load_cmd(int argc, char **argv, FILE *out, FILE *err, const char *help, int *json,
                    sng_ctx **pctx, sng_graph **pg) {
    sngi_sets sets = {.n = 0};
    const char *model = NULL;
    int no_json = 0;
    *pg = NULL;
    *pctx = NULL;
    const sngi_arg opts[] = {
        SNGI_ARG_JSON(json ? json : &no_json),
        SNGI_ARG_SET(&sets),
        SNGI_ARG_END,
    };
    /* dot has no --json: its table starts after it. */
    const sngi_arg *o = json ? opts : opts + 1;
    int rc = sngi_args_parse(argc, argv, o, &model, 0, 1, NULL, help, out, err);
    if (rc) return rc < 0 ? -1 - SNG_EXIT_OK : -1 - rc;
    if (!model) return -1 - sngi_args_usage(err, argv[0], help, o, "missing MODEL");
    sng_ctx *ctx = sngi_cli_ctx();
    if (!ctx) return -1 - SNG_EXIT_INTERNAL;
    sng_status st = sng_graph_load(ctx, model, sets.set, sets.n, pg);
    if (!st) st = sngi_settings_check(ctx, *pg);
    if (st) {
        rc = sngi_cli_report(err, argv[0], ctx, st);
        sng_graph_free(*pg);
        *pg = NULL;
        sng_ctx_free(ctx);
        return -1 - rc;
    }
    *pctx = ctx;
    return 0;
}

int sngi_cmd_check(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph check [--json] [--set KEY=VALUE]... MODEL\n"
        "Compiles MODEL (parse, validate, instantiate subgraphs, resolve references, infer\n"
        "shapes, sort) and prints every node with its op, output shape, parameter count and the\n"
        "node it is tied to, then the totals: trainable parameters, forward FLOPs and\n"
        "activation bytes per sample. Exit status 1 with FILE:LINE: error: ... on a bad model.\n";
    int json = 0;
    sng_ctx *ctx;
    sng_graph *g;
    int rc = load_cmd(argc, argv, out, err, help, &json, &ctx, &g);
    if (rc < 0) return -1 - rc;
    sng_graph_print_summary(g, out, json);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return SNG_EXIT_OK;
}

int sngi_cmd_dot(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph dot [--set KEY=VALUE]... MODEL > model.dot\n"
        "Prints the compiled graph as Graphviz DOT: one cluster per subgraph instance, tied\n"
        "nodes filled and joined by dashed 'tied' edges. Render with: dot -Tsvg model.dot\n";
    sng_ctx *ctx;
    sng_graph *g;
    int rc = load_cmd(argc, argv, out, err, help, NULL, &ctx, &g);
    if (rc < 0) return -1 - rc;
    sng_graph_print_dot(g, out);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return SNG_EXIT_OK;
}

int sngi_cmd_ops(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] = "Usage: sngraph ops\nLists the ops (XML elements) a model can use.\n";
    const sngi_arg opts[] = {SNGI_ARG_END};
    int rc = sngi_args_parse(argc, argv, opts, NULL, 0, 0, NULL, help, out, err);
    if (rc) return rc < 0 ? SNG_EXIT_OK : rc;
    for (int i = 0; i < sng_op_count(); i++) {
        const char *summary;
        int bwd;
        const char *name = sng_op_info(i, &summary, &bwd);
        fprintf(out, "%-18s %-8s %s\n", name, bwd ? "" : "(no bwd)", summary);
    }
    return SNG_EXIT_OK;
}
