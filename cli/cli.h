/*
 * cli.h — the sngraph program's commands. Each command is `int sngi_cmd_X(argc, argv, out, err)`
 * with argv[0] the command name, returns an exit code (SNG_EXIT_*), and prints only to out/err.
 */
#ifndef SNG_CLI_H
#define SNG_CLI_H

#include <stdio.h>

#include <sngraph/sngraph.h>

/* Exit codes of the sngraph program. */
enum { SNG_EXIT_OK = 0, SNG_EXIT_INPUT = 1, SNG_EXIT_USAGE = 2, SNG_EXIT_INTERNAL = 3 };

/* The whole sngraph program as a function (main only calls it), so tests and fuzzers can run it.
 * Writes to out and err only. Returns the exit code. Not part of the installed library. */
int sngi_cli_main(int argc, char **argv, FILE *out, FILE *err);

typedef int (*sngi_cmd_fn)(int argc, char **argv, FILE *out, FILE *err);

int sngi_cmd_check(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_dot(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_ops(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_gradcheck(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_plan(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_bench(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_run(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_eval(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_compare(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_embed(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_gallery(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_identify(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_ckpt(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_serve(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_calibrate(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_data(int argc, char **argv, FILE *out, FILE *err);
int sngi_cmd_settings(int argc, char **argv, FILE *out, FILE *err);

/* A context with the model directories set up: $SNG_MODEL_DIR (colon-separated), then the
 * installed $(pkgdatadir)/models. Returns NULL on OOM. */
sng_ctx *sngi_cli_ctx(void);
/* Exit code for a status: 0 ok, 1 bad input, 3 internal. */
int sngi_cli_exit(sng_status st);
/* Prints "sngraph CMD: error message" and returns the exit code for st. */
int sngi_cli_report(FILE *err, const char *cmd, sng_ctx *ctx, sng_status st);

#endif
