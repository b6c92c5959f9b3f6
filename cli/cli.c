/*
 * cli.c — sngi_cli_main: the command dispatcher, help and version, and helpers shared by the
 * commands. Exit codes: 0 ok, 1 bad input (model, data, checkpoint), 2 usage, 3 internal error.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct cmd {
    const char *name;
    sngi_cmd_fn fn;
    const char *help;
} cmd;

static const cmd commands[] = {
    {"run", sngi_cmd_run, "train a model as its file says, evaluate, checkpoint"},
    {"eval", sngi_cmd_eval, "evaluate a checkpoint (verification metrics, N-way K-shot)"},
    {"compare", sngi_cmd_compare, "similarity of two images with a checkpoint"},
    {"embed", sngi_cmd_embed, "embeddings of images to a .npy file"},
    {"gallery", sngi_cmd_gallery, "enrol/remove/list identities (one image each)"},
    {"identify", sngi_cmd_identify, "rank enrolled identities for an image"},
    {"serve", sngi_cmd_serve, "serve compare/embed/identify/gallery over HTTP (doc/serve.md)"},
    {"calibrate", sngi_cmd_calibrate, "set a checkpoint's threshold on your own labelled pairs"},
    {"ckpt", sngi_cmd_ckpt, "inspect a checkpoint (ckpt info FILE)"},
    {"check", sngi_cmd_check, "compile a model and print its summary (--json)"},
    {"dot", sngi_cmd_dot, "print the model graph as Graphviz DOT"},
    {"ops", sngi_cmd_ops, "list the ops a model file can use"},
    {"plan", sngi_cmd_plan, "plan a model's memory (arena, lower bound, buffers; --svg)"},
    {"gradcheck", sngi_cmd_gradcheck, "check the model's gradients by finite differences"},
    {"bench", sngi_cmd_bench, "time training steps or inference; GFLOP/s vs BLIS sgemm"},
    {"data", sngi_cmd_data, "describe a dataset source (directory, archive, IDX)"},
    {"settings", sngi_cmd_settings, "list the run settings (train.*, data.*, eval.*)"},
};

static void usage(FILE *f) {
    fprintf(f, "Usage: sngraph [--version] [--help] COMMAND [ARGS]\n\n"
               "sngraph compiles, trains and runs Siamese networks declared in XML.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'sngraph COMMAND --help' for a command's options. A model may be given as a\n"
               "path or by bare name (e.g. siamese_vgg16), looked up in $SNG_MODEL_DIR and\n"
               "%s.\n"
               "Exit status: 0 ok, 1 bad input, 2 usage error, 3 internal error.\n",
            SNG_MODELDIR);
}

sng_ctx *sngi_cli_ctx(void) {
    sng_ctx *ctx = sng_ctx_new();
    if (!ctx) return NULL;
    const char *env = getenv("SNG_MODEL_DIR");
    if (env && *env) {
        char *copy = strdup(env);
        for (char *save = NULL, *t = copy ? strtok_r(copy, ":", &save) : NULL; t;
             t = strtok_r(NULL, ":", &save))
            sng_ctx_add_model_dir(ctx, t);
        free(copy);
    }
    sng_ctx_add_model_dir(ctx, SNG_MODELDIR);
    return ctx;
}

int sngi_cli_exit(sng_status st) {
    switch (st) {
    case SNG_OK: return SNG_EXIT_OK;
    case SNG_ERR_USAGE: return SNG_EXIT_USAGE;
    case SNG_ERR_INTERNAL: return SNG_EXIT_INTERNAL;
    default: return SNG_EXIT_INPUT;
    }
}

int sngi_cli_report(FILE *err, const char *cmd, sng_ctx *ctx, sng_status st) {
    const char *m = sng_ctx_errmsg(ctx);
    fprintf(err, "sngraph %s: %s\n", cmd, m && *m ? m : sng_status_str(st));
    return sngi_cli_exit(st);
}

static int run_command(int argc, char **argv, FILE *out, FILE *err);

/* Output on a full disk or a closed pipe is lost output: the command fails (status 1). */
int sngi_cli_main(int argc, char **argv, FILE *out, FILE *err) {
    int rc = run_command(argc, argv, out, err);
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(err, "sngraph%s%s: cannot write the output: %s\n", argc > 1 ? " " : "",
                argc > 1 ? argv[1] : "", strerror(errno ? errno : EIO));
        if (rc == SNG_EXIT_OK) rc = SNG_EXIT_INPUT;
    }
    return rc;
}

static int run_command(int argc, char **argv, FILE *out, FILE *err) {
    if (argc < 2) {
        usage(err);
        return SNG_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
        usage(out);
        return SNG_EXIT_OK;
    }
    if (!strcmp(c, "--version") || !strcmp(c, "-V")) {
        fprintf(out, "sngraph %s\n", PACKAGE_VERSION);
        return SNG_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, c)) return commands[i].fn(argc - 1, argv + 1, out, err);
    fprintf(err, "sngraph: unknown command '%s' (see 'sngraph --help')\n", c);
    return SNG_EXIT_USAGE;
}
