/*
 * fuzz_args.c — libFuzzer harness for the command-line parser every command uses (cli/args.c):
 * the input is split at NUL bytes into argv, then parsed against a table with every kind of
 * option (flags, integers, numbers, text, choices, repeated --set). Built and run by
 * run_args_fuzz.sh; with -DSNG_FUZZ_SEEDGEN it writes the seed corpus instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"

static int run(int argc, char **argv) {
    long threads = 0, batch = 1, top = 5;
    double eps = 0;
    int json = 0, quiet = 0, precision = 0;
    const char *ckpt = NULL, *pos[8];
    sngi_sets sets = {.n = 0};
    const sngi_arg opts[] = {
        SNGI_ARG_THREADS(&threads),
        SNGI_ARG_SET(&sets),
        SNGI_ARG_BATCH(&batch, "samples per pass"),
        SNGI_ARG_JSON(&json),
        {"--top", NULL, SNGI_ARG_INT, &top, 1, 1 << 20, NULL, "K", "best K", NULL},
        {"--eps", NULL, SNGI_ARG_REAL, &eps, 1e-9, 1, NULL, "E", "step", NULL},
        {"--ckpt", NULL, SNGI_ARG_TEXT, &ckpt, 0, 0, NULL, "FILE", "checkpoint", NULL},
        {"--quiet", "-q", SNGI_ARG_FLAG, &quiet, 0, 0, NULL, NULL, "no progress", NULL},
        {"--precision", NULL, SNGI_ARG_CHOICE, &precision, 0, 0, NULL, NULL, "arithmetic",
         "fp32|bf16|auto"},
        SNGI_ARG_END,
    };
    FILE *out = fopen("/dev/null", "w"), *err = fopen("/dev/null", "w");
    int n = 0, rc = sngi_args_parse(argc, argv, opts, pos, 0, 8, &n, "Usage: fuzz\n", out, err);
    if (rc == 0) {
        for (int i = 0; i < sets.n; i++)
            if (!sets.set[i].key[0]) abort(); /* a key is never empty */
        if (n < 0 || n > 8 || threads < 0 || threads > SNGI_MAX_THREADS) abort();
    }
    fclose(out);
    fclose(err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* argv[0] is the command; the rest are the input's NUL-separated strings. */
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[66] = {"fuzz"};
    int argc = 1;
    for (size_t i = 0; i <= size && argc < 65;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    run(argc, argv);
    free(buf);
    return 0;
}

#ifdef SNG_FUZZ_SEEDGEN
#define SEED(s) {s, sizeof s - 1}
int main(int argc, char **argv) {
    static const struct { const char *s; size_t n; } seeds[] = {
        SEED("--threads\0" "2\0model.xml"),
        SEED("--threads=4\0--set\0train.batch=3\0--set=data.source=a=b\0x"),
        SEED("--batch\0" "65536\0--json\0--top=3\0--eps=1e-3\0--\0--json"),
        SEED("--precision=bf16\0-q\0--ckpt\0c.tar\0a\0b"),
        SEED("--set\0=x\0--threads\0-1\0--json=1\0--unknown"),
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/seed%zu", argc > 1 ? argv[1] : ".", i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(seeds[i].s, 1, seeds[i].n, f) != seeds[i].n) return 1;
        if (fclose(f)) return 1;
    }
    return 0;
}
#endif
