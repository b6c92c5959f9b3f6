/*
 * pairs_csv.c — a user's own pairs, "path_a,path_b,label" per line (label 1 = same, 0 =
 * different; any number is kept as given), with paths naming entries of the same directory or
 * archive as the images (with or without the archive's top folder). A first line whose label is
 * not a number is a header. Fields may be double-quoted ("a,b.png"), with "" for a quote.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

/* Splits one line into up to 3 fields (in place). Returns the field count, or -1 when a quote
 * is left open. */
static int split_line(char *line, char *f[3]) {
    int k = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        char *start = p, *w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p && *p != ',') p++;
        } else {
            while (*p && *p != ',') p++;
            w = p;
            while (w > start && (w[-1] == ' ' || w[-1] == '\t')) w--;
        }
        int more = *p == ',';
        *w = 0;
        if (k < 3) f[k] = start;
        k++;
        if (!more) break;
        p++;
    }
    return k;
}

sng_status sngi_pairs_csv_parse(sng_ctx *ctx, sngi_dataset *d, const char *name, const char *text,
                                size_t n) {
    int cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    sng_status st = SNG_OK;
    int lineno = 0;
    for (size_t pos = 0; pos < n && st == SNG_OK;) {
        size_t e = pos;
        while (e < n && text[e] != '\n') e++;
        size_t len = e - pos;
        if (len + 1 > lcap) {
            lcap = len + 1;
            char *nl = sngi_realloc(line, lcap);
            if (!nl) {
                st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
                break;
            }
            line = nl;
        }
        memcpy(line, text + pos, len);
        line[len] = 0;
        if (len && line[len - 1] == '\r') line[len - 1] = 0;
        pos = e + 1;
        lineno++;
        const char *q = line;
        while (*q == ' ' || *q == '\t') q++;
        if (!*q || *q == '#') continue;
        char *f[3] = {0};
        int k = split_line(line, f);
        char why[600] = "";
        char *end = NULL;
        double lab = k == 3 ? strtod(f[2], &end) : 0;
        if (k == 3 && (end == f[2] || *end) && lineno == 1 && d->n_pairs == 0) continue; /* header */
        int a = -1, b = -1;
        if (k != 3)
            snprintf(why, sizeof why, "expected 'path_a,path_b,label', got %d field%s", k < 0 ? 0 : k,
                     k == 1 ? "" : "s");
        else if (end == f[2] || *end)
            snprintf(why, sizeof why, "label '%.200s' is not a number", f[2]);
        else if ((a = sngi_dataset_find(d, f[0])) < 0)
            snprintf(why, sizeof why, "'%.200s' is not an image of %.300s", f[0], d->source);
        else if ((b = sngi_dataset_find(d, f[1])) < 0)
            snprintf(why, sizeof why, "'%.200s' is not an image of %.300s", f[1], d->source);
        else if (d->n_pairs == INT_MAX / 2)
            snprintf(why, sizeof why, "more than %d pairs", INT_MAX / 2);
        if (why[0]) {
            if (d->strict) {
                st = sngi_fail(ctx, SNG_ERR_DATA, "%s:%d: %s", name, lineno, why);
            } else { /* "FILE:LINE" sized to fit: a long name is never cut */
                size_t wl = strlen(name) + 16;
                char *where = sngi_malloc(wl);
                if (!where) {
                    st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
                    break;
                }
                snprintf(where, wl, "%s:%d", name, lineno);
                st = sngi_dataset_skip(ctx, d, where, "%s", why);
                free(where);
            }
            continue;
        }
        if (d->n_pairs == cap) {
            cap = cap ? cap * 2 : 256;
            sngi_pair *np = sngi_realloc(d->pairs, sizeof *np * (size_t)cap);
            if (!np) {
                st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
                break;
            }
            d->pairs = np;
        }
        d->pairs[d->n_pairs++] = (sngi_pair){a, b, (float)lab};
    }
    free(line);
    if (st == SNG_OK && d->n_pairs == 0)
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no usable pair in the pairs list", name);
    return st;
}
