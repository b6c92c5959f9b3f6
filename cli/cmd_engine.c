/*
 * cmd_engine.c — `sngraph gradcheck` and `sngraph plan`: the autodiff and the memory planner
 * made visible.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "app/settings.h"
#include "app/gradcheck.h"
#include "app/inspect.h"

/* Parses a byte size with an optional K/M/G suffix (powers of 1024). */
static int parse_bytes(const char *v, int64_t *out) {
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || errno || x <= 0) return -1;
    double m = 1;
    if (*end == 'K' || *end == 'k') m = 1024, end++;
    else if (*end == 'M' || *end == 'm') m = 1048576, end++;
    else if (*end == 'G' || *end == 'g') m = 1073741824, end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    *out = (int64_t)(x * m);
    return 0;
}

int sngi_cmd_gradcheck(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph gradcheck [--batch N] [--seed S] [--threads T] [--samples K] [--eps E]\n"
        "                         [--tol R] [--inputs] [--json] [--no-branch-batching] [--raw]\n"
        "                         [--set KEY=VALUE]... MODEL\n"
        "Checks the model's backward pass against central finite differences: for every\n"
        "trainable parameter tensor (and image input with --inputs) the analytic directional\n"
        "derivative along a random +-1 direction over K sampled elements (default 64) is\n"
        "compared with (L(w+eps d) - L(w-eps d)) / 2 eps. Defaults: batch 2, eps 1e-2\n"
        "(1e-3 with --raw), tol 2e-2.\n"
        "The differences are taken with every ReLU sign, max-pool choice, |a-b| sign and hinge\n"
        "state frozen as at the checked point, so a step never crosses a kink; --raw takes\n"
        "plain differences (fine for shallow models, noisy through deep ReLU stacks).\n"
        "A difference is trusted to 32 float32 ulps of the loss over the step: smaller\n"
        "derivatives are compared in absolute terms.\n"
        "Exit status 1 when any tensor is over tolerance.\n";
    sngi_gradcheck_opts o = {2, 1, 0, 0, 64, 0, 2e-2, 0, 0, 0};
    sngi_sets sets = {.n = 0};
    const char *model = NULL;
    long batch = o.batch, seed = 1, threads = 0, samples = o.samples;
    const sngi_arg opts[] = {
        SNGI_ARG_BATCH(&batch, "samples per loss evaluation (default 2)"),
        {"--seed", NULL, SNGI_ARG_INT, &seed, 0, 4611686018427387904.0, NULL, "S",
         "seed of the inputs, parameters and direction", NULL},
        SNGI_ARG_THREADS(&threads),
        {"--samples", NULL, SNGI_ARG_INT, &samples, 0, 1 << 30, NULL, "K",
         "elements per tensor in the direction (0: all; default 64)", NULL},
        {"--eps", NULL, SNGI_ARG_REAL, &o.eps, 1e-30, 1e6, NULL, "E", "finite-difference step",
         NULL},
        {"--tol", NULL, SNGI_ARG_REAL, &o.tol, 1e-30, 1e6, NULL, "R", "relative error allowed",
         NULL},
        {"--inputs", NULL, SNGI_ARG_FLAG, &o.inputs, 0, 0, NULL, NULL,
         "also check the gradients of image inputs", NULL},
        SNGI_ARG_JSON(&o.json),
        SNGI_ARG_NO_BRANCH_BATCHING(&o.no_branch_batching),
        {"--raw", NULL, SNGI_ARG_FLAG, &o.raw, 0, 0, NULL, NULL,
         "plain differences, without freezing kinks", NULL},
        SNGI_ARG_SET(&sets),
        SNGI_ARG_END,
    };
    int rc0 = sngi_args_parse(argc, argv, opts, &model, 0, 1, NULL, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (!model) return sngi_args_usage(err, "gradcheck", help, opts, "missing MODEL");
    o.batch = (int)batch, o.seed = (uint64_t)seed, o.threads = (int)threads;
    o.samples = (int)samples;
    /* Frozen decisions leave only the loss's own curvature, so a larger step keeps float32
     * round-off small; plain differences need a small step to cross few kinks. */
    if (o.eps == 0) o.eps = o.raw ? 1e-3 : 1e-2;
    sng_ctx *ctx = sngi_cli_ctx();
    sng_graph *g = NULL;
    sng_status st = sng_graph_load(ctx, model, sets.set, sets.n, &g);
    int bad = 0;
    if (!st) st = sngi_settings_check(ctx, g);
    if (!st) st = sngi_gradcheck(ctx, g, &o, out, &bad);
    int rc = st ? sngi_cli_report(err, "gradcheck", ctx, st) : bad ? SNG_EXIT_INPUT : SNG_EXIT_OK;
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return rc;
}

int sngi_cmd_plan(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph plan [--batch N] [--train|--infer] [--json] [--svg FILE]\n"
        "                    [--max-memory BYTES] [--threads T] [--set KEY=VALUE]... MODEL\n"
        "Plans the model's memory for one training step (default) or one inference pass and\n"
        "prints: naive bytes (every buffer separate), the lower bound (most bytes live at one\n"
        "step), the planned arena and its ratio to the bound, the parameter slab, and a table of\n"
        "every buffer with its lifetime and offset. --svg draws the buffers as boxes in\n"
        "time x address. --max-memory refuses plans over the budget and names the batch that\n"
        "fits (suffixes K, M, G).\n";
    long batch = 1, threads = 0;
    int train = 0, infer = 0, json = 0;
    int64_t budget = 0;
    const char *svg = NULL, *model = NULL, *max_memory = NULL;
    sngi_sets sets = {.n = 0};
    const sngi_arg opts[] = {
        SNGI_ARG_BATCH(&batch, "samples per step (default 1)"),
        {"--train", NULL, SNGI_ARG_FLAG, &train, 0, 0, NULL, NULL,
         "plan a training step: forward and backward (default)", NULL},
        {"--infer", NULL, SNGI_ARG_FLAG, &infer, 0, 0, NULL, NULL, "plan an inference pass",
         NULL},
        SNGI_ARG_JSON(&json),
        {"--svg", NULL, SNGI_ARG_TEXT, &svg, 0, 0, NULL, "FILE",
         "draw the buffers in time x address", NULL},
        {"--max-memory", NULL, SNGI_ARG_TEXT, &max_memory, 0, 0, NULL, "BYTES",
         "refuse plans over this budget (suffixes K, M, G)", NULL},
        SNGI_ARG_THREADS(&threads),
        SNGI_ARG_SET(&sets),
        SNGI_ARG_END,
    };
    int rc0 = sngi_args_parse(argc, argv, opts, &model, 0, 1, NULL, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (!model) return sngi_args_usage(err, "plan", help, opts, "missing MODEL");
    if (train && infer)
        return sngi_args_usage(err, "plan", help, opts, "--train and --infer exclude each other");
    if (max_memory && parse_bytes(max_memory, &budget))
        return sngi_args_usage(err, "plan", help, opts, "--max-memory expects bytes, e.g. 512M");
    int training = !infer;
    sng_ctx *ctx = sngi_cli_ctx();
    sng_graph *g = NULL;
    sng_session *s = NULL;
    sng_status st = sng_graph_load(ctx, model, sets.set, sets.n, &g);
    if (!st) st = sngi_settings_check(ctx, g);
    if (!st) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.batch = (int)batch;
        o.training = training;
        o.threads = (int)threads;
        o.max_memory = budget;
        o.opt_slots = training ? 1 : 0;
        st = sng_session_new(ctx, g, &o, &s);
    }
    if (st) {
        int rc = sngi_cli_report(err, "plan", ctx, st);
        sng_graph_free(g);
        sng_ctx_free(ctx);
        return rc;
    }
    sngi_plan_print(out, s, batch, training, json);
    int e = svg ? sngi_plan_svg(s, svg) : 0;
    if (e) fprintf(err, "sngraph plan: %s: cannot write: %s\n", svg, strerror(e));
    sng_session_free(s);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return e ? SNG_EXIT_INPUT : SNG_EXIT_OK;
}
