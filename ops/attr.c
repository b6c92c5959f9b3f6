/*
 * attr.c — reading an op's XML attributes (each read marks the attribute used, so the compiler
 * can reject every attribute nobody read). Parameters are declared through
 * engine/op_ctx.c.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op.h"

sng_status sngi_op_fail(sngi_op_ctx *c, sng_status st, const char *fmt, ...) {
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sngi_fail_node(c->ctx, st, c->node, "%s", msg);
}

sng_status sngi_attr_missing(sngi_op_ctx *c, const char *key) {
    c->missing = key;
    return sngi_op_fail(c, SNG_ERR_MODEL, "missing required attribute '%s'", key);
}

int sngi_attr_raw(sngi_op_ctx *c, const char *key, const char **val) {
    for (int i = 0; i < c->node->n_kv; i++)
        if (strcmp(c->node->kv[i].key, key) == 0) {
            c->node->kv[i].used = 1;
            *val = c->node->kv[i].val;
            return 1;
        }
    return 0;
}

static sng_status parse_int(sngi_op_ctx *c, const char *key, const char *v, int lo, int hi,
                            int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    while (*end == ' ') end++;
    if (end == v || *end || errno)
        return sngi_op_fail(c, SNG_ERR_MODEL, "attribute %s=\"%s\" is not an integer", key, v);
    if (x < lo || x > hi)
        return sngi_op_fail(c, SNG_ERR_MODEL, "attribute %s=\"%s\" is out of range [%d, %d]", key,
                            v, lo, hi);
    *out = (int)x;
    return SNG_OK;
}

sng_status sngi_attr_int(sngi_op_ctx *c, const char *key, int def, int lo, int hi, int *out) {
    const char *v;
    *out = def;
    if (!sngi_attr_raw(c, key, &v)) return SNG_OK;
    return parse_int(c, key, v, lo, hi, out);
}

sng_status sngi_attr_int_req(sngi_op_ctx *c, const char *key, int lo, int hi, int *out) {
    const char *v;
    if (!sngi_attr_raw(c, key, &v))
        return sngi_attr_missing(c, key);
    return parse_int(c, key, v, lo, hi, out);
}

sng_status sngi_attr_float(sngi_op_ctx *c, const char *key, float def, float lo, float hi,
                           float *out) {
    const char *v;
    *out = def;
    if (!sngi_attr_raw(c, key, &v)) return SNG_OK;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    while (*end == ' ') end++;
    if (end == v || *end || errno || !isfinite(x))
        return sngi_op_fail(c, SNG_ERR_MODEL, "attribute %s=\"%s\" is not a number", key, v);
    if (x < lo || x > hi)
        return sngi_op_fail(c, SNG_ERR_MODEL, "attribute %s=\"%s\" is out of range [%g, %g]", key,
                            v, lo, hi);
    *out = (float)x;
    return SNG_OK;
}

sng_status sngi_attr_pair(sngi_op_ctx *c, const char *key, int def, int lo, int hi, int out[2]) {
    const char *v;
    out[0] = out[1] = def;
    if (!sngi_attr_raw(c, key, &v)) return SNG_OK;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", v);
    char *sep = strpbrk(buf, ",x");
    if (sep) *sep = 0;
    sng_status st = parse_int(c, key, buf, lo, hi, &out[0]);
    if (st) return st;
    if (!sep) {
        out[1] = out[0];
        return SNG_OK;
    }
    return parse_int(c, key, sep + 1, lo, hi, &out[1]);
}

sng_status sngi_attr_enum(sngi_op_ctx *c, const char *key, const char *const *names, int def,
                          int *out) {
    const char *v;
    *out = def;
    if (!sngi_attr_raw(c, key, &v)) return SNG_OK;
    char allowed[512] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], v) == 0) {
            *out = i;
            return SNG_OK;
        }
        size_t k = strlen(allowed);
        snprintf(allowed + k, sizeof allowed - k, "%s%s", i ? ", " : "", names[i]);
    }
    return sngi_op_fail(c, SNG_ERR_MODEL, "attribute %s=\"%s\" is not one of: %s", key, v,
                        allowed);
}

sng_status sngi_attr_bool(sngi_op_ctx *c, const char *key, int def, int *out) {
    static const char *const names[] = {"false", "true", "0", "1", NULL};
    int i;
    sng_status st = sngi_attr_enum(c, key, names, def ? 1 : 0, &i);
    if (st) return st;
    *out = (i == 1 || i == 3);
    return SNG_OK;
}

sng_status sngi_attr_init(sngi_op_ctx *c, sngi_init def, sngi_init *out, float *scale) {
    static const char *const names[] = {"zeros", "ones", "he", "he_uniform", "glorot",
                                        "glorot_normal", "normal", "uniform", NULL};
    static const sngi_init map[] = {SNGI_INIT_ZEROS, SNGI_INIT_ONES, SNGI_INIT_HE_NORMAL,
                                    SNGI_INIT_HE_UNIFORM, SNGI_INIT_GLOROT_UNIFORM,
                                    SNGI_INIT_GLOROT_NORMAL, SNGI_INIT_NORMAL, SNGI_INIT_UNIFORM};
    int defi = 0;
    for (int i = 0; names[i]; i++)
        if (map[i] == def) defi = i;
    int i;
    sng_status st = sngi_attr_enum(c, "init", names, defi, &i);
    if (st) return st;
    *out = map[i];
    return sngi_attr_float(c, "init_scale", 0.01f, 0.0f, 1e3f, scale);
}
