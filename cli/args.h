/*
 * args.h — one table-driven option parser for every command: `--name value`, `--name=value`,
 * flags, choices, repeated `--set KEY=VALUE`, and positionals. An option has one range, given
 * where it is declared, so `--threads` means the same everywhere; the options section of
 * `--help` is generated from the same table.
 */
#ifndef SNG_CLI_ARGS_H
#define SNG_CLI_ARGS_H

#include <stdio.h>

#include "sngraph/sngraph.h"

#define SNGI_MAX_SET 64
/* The most threads any command accepts: far above any core count, far below what makes libgomp
 * fail to create its team. */
#define SNGI_MAX_THREADS 1024
/* The largest --batch of any command: the same bound as train.batch. */
#define SNGI_MAX_BATCH 65536

typedef enum {
    SNGI_ARG_FLAG,   /* int *: set to 1 */
    SNGI_ARG_INT,    /* long *: an integer in [lo, hi] */
    SNGI_ARG_REAL,   /* double *: a finite number in [lo, hi] */
    SNGI_ARG_TEXT,   /* const char **: the argument, borrowed from argv */
    SNGI_ARG_SET,    /* sngi_sets *: KEY=VALUE, repeatable */
    SNGI_ARG_CHOICE  /* int *: the index of the argument among choices "a|b|c" */
} sngi_arg_kind;

typedef struct sngi_arg {
    const char *name;     /* "--threads" */
    const char *alias;    /* "-q", or NULL */
    sngi_arg_kind kind;
    void *dst;
    double lo, hi;        /* INT, REAL */
    int *given;           /* optional: set to 1 when the option appears */
    const char *metavar;  /* "N" in "--batch N"; NULL: from the kind (CHOICE: the choices) */
    const char *doc;      /* one line for --help */
    const char *choices;  /* CHOICE: "a|b|c" */
} sngi_arg;

typedef struct sngi_sets {
    sng_setting set[SNGI_MAX_SET];
    int n;
} sngi_sets;

/* Options several commands share, so each has one name, range and doc. */
#define SNGI_ARG_THREADS(dst)                                                                  \
    {"--threads", NULL, SNGI_ARG_INT, (dst), 0, SNGI_MAX_THREADS, NULL, "T",                   \
     "worker threads (0: one per core)", NULL}
#define SNGI_ARG_SET(dst)                                                                      \
    {"--set", NULL, SNGI_ARG_SET, (dst), 0, 0, NULL, "KEY=VALUE",                              \
     "override a model setting, repeatable (`sngraph settings` lists them)", NULL}
#define SNGI_ARG_BATCH(dst, doc)                                                               \
    {"--batch", NULL, SNGI_ARG_INT, (dst), 1, SNGI_MAX_BATCH, NULL, "N", (doc), NULL}
#define SNGI_ARG_JSON(dst)                                                                     \
    {"--json", NULL, SNGI_ARG_FLAG, (dst), 0, 0, NULL, NULL, "print JSON instead of text", NULL}
#define SNGI_ARG_NO_BRANCH_BATCHING(dst)                                                       \
    {"--no-branch-batching", NULL, SNGI_ARG_FLAG, (dst), 0, 0, NULL, NULL,                     \
     "run tied branches one after another", NULL}
#define SNGI_ARG_END {NULL, NULL, SNGI_ARG_FLAG, NULL, 0, 0, NULL, NULL, NULL, NULL}

/* Parses argv[1..argc) (argv[0] names the command in messages) against opts (ended by
 * SNGI_ARG_END); other arguments are positionals, stored in pos[0..max_pos) with their count
 * in *n_pos. `--` ends the options. `--help`/`-h` prints help to out. Returns -1 after help
 * (exit 0), 0 when parsed, or SNG_EXIT_USAGE after printing the problem and help to err.
 * KEY=VALUE of --set points into argv, which is modified. */
int sngi_args_parse(int argc, char **argv, const sngi_arg *opts, const char **pos, int min_pos,
                    int max_pos, int *n_pos, const char *help, FILE *out, FILE *err);

/* A usage error found after parsing: prints "sngraph CMD: MESSAGE" and the help to err, and
 * returns SNG_EXIT_USAGE. */
int sngi_args_usage(FILE *err, const char *cmd, const char *help, const sngi_arg *opts,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Writes a range bound as people read it: integers whole, 2^k for the large powers of two,
 * reals in %g form with up to 10 digits. */
void sngi_args_bound(char *buf, size_t n, int integer, double v);

/* Prints help (the command's usage line and prose) and then the options section generated
 * from opts, wrapped at 100 columns. */
void sngi_args_help(FILE *f, const char *help, const sngi_arg *opts);

#endif
