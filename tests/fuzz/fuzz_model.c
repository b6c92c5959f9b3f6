/*
 * fuzz_model.c — libFuzzer harness for the model loader: the input is a model file given to
 * sng_graph_load_string (parse, DTD/entity refusal, XInclude policy, RelaxNG validation, subgraph
 * expansion, reference resolution, topological sort, attribute parsing, shape inference). On
 * success the summary, its JSON form and the DOT drawing are written to /dev/null, so every
 * compiled graph is also walked by the printers.
 *
 * A base directory with the shipped models is given (SNG_FUZZ_MODEL_DIR, set by
 * run_model_fuzz.sh), so XIncludes of backbones/*.xml are reachable; anything else must be
 * refused. Built by tests/fuzz/run_model_fuzz.sh; not part of `make check`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sngraph/sngraph.h"

static FILE *devnull;
static const char *model_dir;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    devnull = fopen("/dev/null", "w");
    model_dir = getenv("SNG_FUZZ_MODEL_DIR");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sng_ctx *ctx = sng_ctx_new();
    if (!ctx) return 0;
    sng_graph *g = NULL;
    sng_status st = sng_graph_load_string(ctx, (const char *)data, size, "fuzz.xml", model_dir, &g);
    if (st == SNG_OK) {
        sng_graph_stats s;
        sng_graph_stats_get(g, &s);
        sng_graph_print_summary(g, devnull, 0);
        sng_graph_print_summary(g, devnull, 1);
        sng_graph_print_dot(g, devnull);
    } else {
        /* A failure leaves no graph and always a message in the FILE:LINE: error: form or a
         * plain one (out of memory); an empty message would be a bug. */
        if (g != NULL || !sng_ctx_errmsg(ctx)[0]) __builtin_trap();
    }
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return 0;
}
