/*
 * cmd_check.c — `sngraph check`, `sngraph dot` and `sngraph ops`: compile a model and show it.
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "ops/op.h"

#define MAX_SET 64

/* Shared by check and dot: parses [--json] [--set k=v]... MODEL, loads the graph. */
static int load_cmd(int argc, char **argv, FILE *out, FILE *err, const char *help, int *json,
                    sng_ctx **pctx, sng_graph **pg) {
    sng_setting set[MAX_SET];
    int n_set = 0;
    const char *model = NULL;
    *pg = NULL;
    *pctx = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, out);
            return -1 - SNG_EXIT_OK;
        } else if (json && !strcmp(argv[i], "--json")) {
            *json = 1;
        } else if (!strcmp(argv[i], "--set")) {
            if (sngi_cli_take_set(argc, argv, &i, set, &n_set, MAX_SET, err)) return -1 - SNG_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(err, "sngraph %s: unknown option '%s'\n%s", argv[0], argv[i], help);
            return -1 - SNG_EXIT_USAGE;
        } else if (!model) {
            model = argv[i];
        } else {
            fprintf(err, "sngraph %s: one model file only\n", argv[0]);
            return -1 - SNG_EXIT_USAGE;
        }
    }
    if (!model) {
        fprintf(err, "sngraph %s: missing MODEL\n%s", argv[0], help);
        return -1 - SNG_EXIT_USAGE;
    }
    sng_ctx *ctx = sngi_cli_ctx();
    if (!ctx) return -1 - SNG_EXIT_INTERNAL;
    sng_status st = sng_graph_load(ctx, model, set, n_set, pg);
    if (st) {
        int rc = sngi_cli_report(err, argv[0], ctx, st);
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
    (void)err;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs("Usage: sngraph ops\nLists the ops (XML elements) a model can use.\n", out);
        return SNG_EXIT_OK;
    }
    int n;
    const sng_op_def *const *ops = sngi_op_all(&n);
    for (int i = 0; i < n; i++)
        fprintf(out, "%-18s %-8s %s\n", ops[i]->name, ops[i]->backward ? "" : "(no bwd)",
                ops[i]->summary ? ops[i]->summary : "");
    return SNG_EXIT_OK;
}
