/*
 * args_help.c — the options section of a command's --help, generated from its option table
 * (see args.h), so the help cannot drift from what the parser accepts.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "args.h"

#define WIDTH 100 /* wrap column */
#define DOC_COL 26 /* where the one-line docs start */

/* Writes text from column col, wrapping at WIDTH with continuation lines at DOC_COL. */
static void wrap(FILE *f, const char *text, int col) {
    const char *w = text;
    while (*w) {
        while (*w == ' ') w++;
        size_t len = strcspn(w, " ");
        if (!len) break;
        if (col > DOC_COL && col + 1 + (int)len > WIDTH) {
            fprintf(f, "\n%*s", DOC_COL, "");
            col = DOC_COL;
        } else if (col > DOC_COL) {
            fputc(' ', f);
            col++;
        }
        fwrite(w, 1, len, f);
        col += (int)len;
        w += len;
    }
    fputc('\n', f);
}

void sngi_args_bound(char *buf, size_t n, int integer, double v) {
    int e;
    if (integer && v >= 1048576 && frexp(v, &e) == 0.5)
        snprintf(buf, n, "2^%d", e - 1);
    else if (integer)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.10g", v);
}

static void option(FILE *f, const sngi_arg *o) {
    static const char *kind_var[] = {NULL, "N", "X", "VALUE", "KEY=VALUE", NULL};
    const char *var = o->metavar ? o->metavar
                      : o->kind == SNGI_ARG_CHOICE ? o->choices : kind_var[o->kind];
    int col = fprintf(f, "  %s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
                      o->name, var ? " " : "", var ? var : "");
    if (col >= DOC_COL - 1) {
        fprintf(f, "\n%*s", DOC_COL, "");
    } else {
        fprintf(f, "%*s", DOC_COL - col, "");
    }
    char doc[512], lo[32], hi[32];
    /* The range is the parser's, so the help states exactly what is accepted. */
    if (o->kind == SNGI_ARG_INT || o->kind == SNGI_ARG_REAL) {
        sngi_args_bound(lo, sizeof lo, o->kind == SNGI_ARG_INT, o->lo);
        sngi_args_bound(hi, sizeof hi, o->kind == SNGI_ARG_INT, o->hi);
        snprintf(doc, sizeof doc, "%s [%s, %s]", o->doc ? o->doc : "", lo, hi);
    } else {
        snprintf(doc, sizeof doc, "%s", o->doc ? o->doc : "");
    }
    wrap(f, doc, DOC_COL);
}

void sngi_args_help(FILE *f, const char *help, const sngi_arg *opts) {
    fputs(help, f);
    fputs("\nOptions:\n", f);
    for (const sngi_arg *o = opts; o->name; o++) option(f, o);
    static const sngi_arg h = {"--help", "-h", SNGI_ARG_FLAG, NULL, 0, 0, NULL, NULL,
                               "print this help", NULL};
    option(f, &h);
}
