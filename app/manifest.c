/*
 * manifest.c — see manifest.h. The manifest is written by ckpt.c with the top-level keys in a
 * fixed order and "params" last, so a small scanner reads it without a JSON library.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/manifest.h"

void sngi_manifest_free(sngi_manifest *m) {
    for (int i = 0; i < m->n; i++) free(m->params[i].name);
    free(m->params);
    memset(m, 0, sizeof *m);
}

const sngi_manifest_param *sngi_manifest_find(const sngi_manifest *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->params[i].name, name)) return &m->params[i];
    return NULL;
}

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* A JSON string at *pp into a new buffer (the caller frees); NULL when malformed. */
static char *json_string(const char **pp) {
    const char *p = ws(*pp);
    if (*p != '"') return NULL;
    p++;
    size_t cap = strlen(p) + 1, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    while (*p && *p != '"') {
        unsigned c = (unsigned char)*p++;
        if (c == '\\') {
            c = (unsigned char)*p++;
            if (c == 'u') {
                char hex[5] = {0};
                for (int k = 0; k < 4 && p[k]; k++) hex[k] = p[k];
                char *end;
                unsigned long u = strtoul(hex, &end, 16);
                if (end != hex + 4 || u == 0 || u > 0x7ff) goto bad; /* we only write \u00XX */
                p += 4;
                if (u < 0x80) out[n++] = (char)u;
                else out[n++] = (char)(0xc0 | (u >> 6)), out[n++] = (char)(0x80 | (u & 0x3f));
                continue;
            }
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *k = c ? strchr(from, (int)c) : NULL;
            if (!k) goto bad;
            c = (unsigned char)to[k - from];
        }
        out[n++] = (char)c;
    }
    if (*p != '"') goto bad;
    out[n] = 0;
    *pp = p + 1;
    return out;
bad:
    free(out);
    return NULL;
}

/* "key": followed by a finite number; 1 when absent, -1 when not a finite number. */
static int number(const char *text, const char *key, double *v) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p) return 1;
    char *end;
    *v = strtod(p + strlen(pat), &end);
    return end == p + strlen(pat) || !isfinite(*v) ? -1 : 0;
}

/* [{"name":"…","shape":[a,b],"trainable":…},…] */
static int params(const char *p, sngi_manifest *m) {
    p = ws(p);
    if (*p++ != '[') return -1;
    int cap = 0;
    for (p = ws(p); *p != ']';) {
        if (*p++ != '{') return -1;
        p = ws(p);
        if (strncmp(p, "\"name\":", 7)) return -1;
        p += 7;
        char *name = json_string(&p);
        if (!name) return -1;
        if (m->n == cap) {
            cap = cap ? cap * 2 : 64;
            sngi_manifest_param *np = realloc(m->params, sizeof *np * (size_t)cap);
            if (!np) {
                free(name);
                return -1;
            }
            m->params = np;
        }
        m->params[m->n].name = name;
        m->params[m->n].numel = 0;
        m->n++;
        p = ws(p);
        if (strncmp(p, ",\"shape\":[", 10)) return -1;
        p += 10;
        size_t numel = 1;
        while (*(p = ws(p)) != ']') {
            char *end;
            long d = strtol(p, &end, 10);
            if (end == p || d < 0 || d > (1L << 31) || (d && numel > ((size_t)1 << 40) / (size_t)d))
                return -1;
            numel *= (size_t)d;
            p = ws(end);
            if (*p == ',') p++;
            else if (*p != ']') return -1;
        }
        p++;
        m->params[m->n - 1].numel = numel;
        m->total += numel;
        const char *close = strchr(p, '}'); /* "trainable": true|false */
        if (!close) return -1;
        p = ws(close + 1);
        if (*p == ',') p = ws(p + 1);
        else if (*p != ']') return -1;
    }
    return 0;
}

sng_status sngi_manifest_parse(sng_ctx *ctx, const char *path, const char *text,
                               sngi_manifest *out) {
    memset(out, 0, sizeof *out);
    double v;
    if (number(text, "threshold", &v) < 0)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: manifest.json: the threshold is not a finite "
                                            "number",
                         path);
    if (number(text, "step", &v) < 0 || v < 0 || v != floor(v))
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: manifest.json: bad step", path);
    if (number(text, "opt_slots", &v) == 0) {
        if (v < 0 || v > 16 || v != floor(v))
            return sngi_fail(ctx, SNG_ERR_DATA, "%s: manifest.json: bad opt_slots", path);
        out->opt_slots = (int)v;
    }
    /* "params" is the last key; the metrics object before it may hold anything. */
    const char *p = NULL;
    for (const char *q = text; (q = strstr(q, "\"params\":")); q++) p = q;
    if (!p || params(p + 9, out)) {
        sngi_manifest_free(out);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: manifest.json has no valid parameter list", path);
    }
    if (out->total > SNGI_CKPT_MAX_FLOATS / (size_t)(1 + out->opt_slots)) {
        size_t total = out->total;
        int slots = out->opt_slots;
        sngi_manifest_free(out);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: manifest.json declares %zu parameter floats "
                                            "(with %d optimiser slots): more than the %zu a "
                                            "checkpoint may hold",
                         path, total, slots, SNGI_CKPT_MAX_FLOATS);
    }
    return SNG_OK;
}
