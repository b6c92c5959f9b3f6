/*
 * calib_pairs.c — the labelled pairs calibrate scores: a CSV list, or pairs sampled from a
 * class-per-folder directory (each image with another of its class and one of another class).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/calibrate.h"

#define MAX_CSV_BYTES ((size_t)64 << 20)

void sngi_calib_pairs_free(sngi_calib_pairs *p) {
    for (int i = 0; i < p->n; i++) {
        free(p->a[i]);
        free(p->b[i]);
    }
    free(p->a);
    free(p->b);
    free(p->label);
    memset(p, 0, sizeof *p);
}

/* Appends one pair, taking copies of the paths. */
static sng_status push(sng_ctx *ctx, sngi_calib_pairs *p, int *cap, const char *a, const char *b,
                       float label) {
    if (p->n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        char **na = realloc(p->a, sizeof(char *) * (size_t)nc);
        if (na) p->a = na;
        char **nb = realloc(p->b, sizeof(char *) * (size_t)nc);
        if (nb) p->b = nb;
        float *nl = realloc(p->label, sizeof(float) * (size_t)nc);
        if (nl) p->label = nl;
        if (!na || !nb || !nl) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        *cap = nc;
    }
    char *ca = strdup(a), *cb = strdup(b);
    if (!ca || !cb) {
        free(ca);
        free(cb);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    p->a[p->n] = ca;
    p->b[p->n] = cb;
    p->label[p->n++] = label;
    return SNG_OK;
}

/* A field without surrounding blanks and quotes (in place). */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && strchr(" \t\r\n", e[-1])) *--e = 0;
    if (e - s >= 2 && *s == '"' && e[-1] == '"') {
        e[-1] = 0;
        s++;
    }
    return s;
}

/* dir/rel, or rel when it is absolute, in buf[n]. */
static void join(char *buf, size_t n, const char *dir, const char *rel) {
    if (rel[0] == '/' || !*dir) snprintf(buf, n, "%s", rel);
    else snprintf(buf, n, "%s/%s", dir, rel);
}

static sng_status load_csv(sng_ctx *ctx, const char *path, sngi_calib_pairs *p) {
    FILE *f = fopen(path, "r");
    if (!f) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else dir[0] = 0;
    char *line = NULL;
    size_t lcap = 0, total = 0;
    int cap = 0, lineno = 0;
    sng_status st = SNG_OK;
    ssize_t len;
    while (!st && (len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if ((total += (size_t)len) > MAX_CSV_BYTES) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: longer than %zu bytes", path, MAX_CSV_BYTES);
            break;
        }
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c1 && !*trim(line)) continue; /* blank line */
        if (!c2 || strchr(c2 + 1, ',')) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s:%d: expected image_a,image_b,label", path,
                           lineno);
            break;
        }
        *c1 = *c2 = 0;
        char *a = trim(line), *b = trim(c1 + 1), *l = trim(c2 + 1), *end;
        double v = strtod(l, &end);
        if (end == l || *end) {
            if (lineno == 1 && p->n == 0) continue; /* a header */
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s:%d: the label '%s' is not 0 or 1", path, lineno,
                           l);
            break;
        }
        if (!*a || !*b) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s:%d: an image path is empty", path, lineno);
            break;
        }
        char pa[4096], pb[4096];
        join(pa, sizeof pa, dir, a);
        join(pb, sizeof pb, dir, b);
        st = push(ctx, p, &cap, pa, pb, v > 0.5 ? 1.0f : 0.0f);
    }
    if (!st && ferror(f)) st = sngi_fail(ctx, SNG_ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    return st;
}

/* Names in dir (sorted, hidden ones skipped) that are directories (want_dir) or files. *out
 * and its strings are the caller's. */
static sng_status list(sng_ctx *ctx, const char *dir, int want_dir, char ***out, int *n) {
    struct dirent **ents;
    *out = NULL;
    *n = 0;
    int k = scandir(dir, &ents, NULL, alphasort);
    if (k < 0) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", dir, strerror(errno));
    char **v = malloc(sizeof(char *) * (size_t)(k ? k : 1));
    sng_status st = v ? SNG_OK : sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < k; i++) {
        char full[4096];
        struct stat sb;
        snprintf(full, sizeof full, "%s/%s", dir, ents[i]->d_name);
        if (!st && ents[i]->d_name[0] != '.' && stat(full, &sb) == 0 &&
            (want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode))) {
            if (!(v[*n] = strdup(full))) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
            else (*n)++;
        }
        free(ents[i]);
    }
    free(ents);
    *out = v;
    return st;
}

static void free_list(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static uint64_t next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static sng_status load_dir(sng_ctx *ctx, const char *root, uint64_t seed, sngi_calib_pairs *p) {
    char **cls;
    int nc, cap = 0;
    sng_status st = list(ctx, root, 1, &cls, &nc);
    char ***img = st ? NULL : calloc((size_t)(nc ? nc : 1), sizeof(char **));
    int *ni = st ? NULL : calloc((size_t)(nc ? nc : 1), sizeof(int));
    if (!st && (!img || !ni)) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int c = 0; c < nc && !st; c++) st = list(ctx, cls[c], 0, &img[c], &ni[c]);
    for (int c = 0; c < nc && !st; c++)
        for (int i = 0; i < ni[c] && !st; i++) {
            if (ni[c] > 1) { /* with another image of its class */
                int j = (int)(next(&seed) % (uint64_t)(ni[c] - 1));
                st = push(ctx, p, &cap, img[c][i], img[c][j >= i ? j + 1 : j], 1.0f);
            }
            int d = nc > 1 ? (int)(next(&seed) % (uint64_t)(nc - 1)) : -1;
            if (d >= c) d++;
            if (!st && d >= 0 && ni[d])
                st = push(ctx, p, &cap, img[c][i], img[d][next(&seed) % (uint64_t)ni[d]], 0.0f);
        }
    for (int c = 0; c < nc && img; c++) free_list(img[c], ni[c]);
    free(img);
    free(ni);
    free_list(cls, nc);
    return st;
}

sng_status sngi_calib_pairs_load(sng_ctx *ctx, const char *src, uint64_t seed,
                                 sngi_calib_pairs *out) {
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(src, &sb) != 0) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", src, strerror(errno));
    sng_status st = S_ISDIR(sb.st_mode) ? load_dir(ctx, src, seed, out) : load_csv(ctx, src, out);
    if (!st && out->n == 0)
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no pairs to calibrate on (%s)", src,
                       S_ISDIR(sb.st_mode) ? "a folder per class, each with images, is expected"
                                           : "the list is empty");
    if (st) sngi_calib_pairs_free(out);
    return st;
}
