/*
 * args.c — the option parser of every command (see args.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "args.h"

typedef struct parser {
    const char *cmd, *help;
    const sngi_arg *opts;
    FILE *err;
} parser;

/* The most threads worth asking for on this machine: a sane multiple of its cores. */
static long threads_cap(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN), cap = 8 * (n > 0 ? n : 1);
    if (cap < 64) cap = 64;
    return cap < SNGI_MAX_THREADS ? cap : SNGI_MAX_THREADS;
}

static int usage(const parser *p, const char *fmt, const char *a, const char *b) {
    fprintf(p->err, "sngraph %s: ", p->cmd);
    fprintf(p->err, fmt, a, b);
    fputc('\n', p->err);
    sngi_args_help(p->err, p->help, p->opts);
    return SNG_EXIT_USAGE;
}

int sngi_args_usage(FILE *err, const char *cmd, const char *help, const sngi_arg *opts,
                    const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(err, "sngraph %s: ", cmd);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputc('\n', err);
    sngi_args_help(err, help, opts);
    return SNG_EXIT_USAGE;
}

static const sngi_arg *find(const sngi_arg *opts, const char *a, size_t len) {
    for (const sngi_arg *o = opts; o->name; o++)
        if ((strlen(o->name) == len && !strncmp(o->name, a, len)) ||
            (o->alias && strlen(o->alias) == len && !strncmp(o->alias, a, len)))
            return o;
    return NULL;
}

/* The index of v among "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v) {
    size_t lv = strlen(v);
    int idx = 0;
    for (const char *c = choices;; idx++) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == lv && !strncmp(c, v, len)) return idx;
        if (!bar) return -1;
        c = bar + 1;
    }
}

/* Stores value v of option o; returns 0 or a usage error. */
static int store(const parser *p, const sngi_arg *o, char *v) {
    char range[96];
    char *end;
    errno = 0;
    switch (o->kind) {
    case SNGI_ARG_INT: {
        long x = strtol(v, &end, 10);
        snprintf(range, sizeof range, "an integer in [%.0f, %.0f]", o->lo, o->hi);
        if (end == v || *end || errno || x < o->lo || x > o->hi)
            return usage(p, "%s expects %s", o->name, range);
        if (!strcmp(o->name, "--threads") && x > threads_cap()) {
            snprintf(range, sizeof range, "%ld", threads_cap());
            return usage(p, "%s: at most %s here (8 per core, at least 64): more threads than "
                            "that only wait for each other", o->name, range);
        }
        *(long *)o->dst = x;
        break;
    }
    case SNGI_ARG_REAL: {
        double x = strtod(v, &end);
        snprintf(range, sizeof range, "a number in [%g, %g]", o->lo, o->hi);
        if (end == v || *end || errno || !isfinite(x) || x < o->lo || x > o->hi)
            return usage(p, "%s expects %s", o->name, range);
        *(double *)o->dst = x;
        break;
    }
    case SNGI_ARG_CHOICE: {
        int k = choice_index(o->choices, v);
        if (k < 0) return usage(p, "%s expects one of %s", o->name, o->choices);
        *(int *)o->dst = k;
        break;
    }
    case SNGI_ARG_TEXT:
        *(const char **)o->dst = v;
        break;
    case SNGI_ARG_SET: {
        sngi_sets *s = o->dst;
        char *eq = strchr(v, '=');
        if (!eq || eq == v) return usage(p, "%s '%s': expected KEY=VALUE", o->name, v);
        if (s->n >= SNGI_MAX_SET) return usage(p, "more than 64 %s options%s", o->name, "");
        *eq = 0;
        s->set[s->n].key = v;
        s->set[s->n].value = eq + 1;
        s->n++;
        break;
    }
    case SNGI_ARG_FLAG:
        break;
    }
    return 0;
}

int sngi_args_parse(int argc, char **argv, const sngi_arg *opts, const char **pos, int min_pos,
                    int max_pos, int *n_pos, const char *help, FILE *out, FILE *err) {
    const parser p = {argv[0], help, opts, err};
    int np = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!only_pos && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            sngi_args_help(out, help, opts);
            return -1;
        }
        if (!only_pos && !strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (only_pos || a[0] != '-' || !a[1]) {
            if (np >= max_pos)
                return usage(&p, "unexpected argument '%s'%s", a,
                             max_pos == 1 ? " (one only)" : "");
            pos[np++] = a;
            continue;
        }
        char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const sngi_arg *o = find(opts, a, len);
        if (!o) {
            if (eq) *eq = 0;
            return usage(&p, "unknown option '%s'%s", a, "");
        }
        if (o->given) *o->given = 1;
        if (o->kind == SNGI_ARG_FLAG) {
            if (eq) return usage(&p, "%s takes no value%s", o->name, "");
            *(int *)o->dst = 1;
            continue;
        }
        char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) return usage(&p, "%s needs a value%s", o->name, "");
            v = argv[++i];
        }
        int rc = store(&p, o, v);
        if (rc) return rc;
    }
    if (np < min_pos)
        return usage(&p, "missing %s%s", min_pos - np > 1 ? "arguments" : "an argument", "");
    if (n_pos) *n_pos = np;
    return 0;
}
