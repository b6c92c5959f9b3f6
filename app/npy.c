/*
 * npy.c — see npy.h. The format: "\x93NUMPY" | major | minor | header length (u16 for 1.x,
 * u32 for 2.x/3.x) | a Python dict literal padded with spaces and '\n' | raw data.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "app/npy.h"

#define HEADER_MAX 65536 /* numpy itself refuses larger headers by default */

/* A cursor over the header text; the parse functions return 0 on success. */
typedef struct cur {
    const char *p, *end;
} cur;

static void skip_ws(cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int eat(cur *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 0;
    }
    return -1;
}

/* A quoted string without escapes (all that .npy headers hold) into out. */
static int str(cur *c, char *out, size_t cap) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap) return -1;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[n] = 0;
    return 0;
}

static int word(cur *c, const char *w) {
    skip_ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return -1;
    c->p += n;
    return 0;
}

/* A tuple of ints: "()", "(5,)", "(2, 3)" (a trailing comma allowed). */
static int tuple(cur *c, int *dims, int *nd, const char **why) {
    *nd = 0;
    if (eat(c, '(')) return *why = "the shape is not a tuple", -1;
    skip_ws(c);
    if (c->p < c->end && *c->p == ')') return c->p++, 0;
    for (;;) {
        skip_ws(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return *why = "bad shape", -1;
        long long d = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            d = d * 10 + (*c->p++ - '0');
            if (d > INT_MAX) return *why = "a dimension of the shape is too large", -1;
        }
        if (*nd >= SNGI_NPY_MAX_DIMS) return *why = "the shape has too many dimensions", -1;
        dims[(*nd)++] = (int)d;
        skip_ws(c);
        if (c->p < c->end && *c->p == ')') return c->p++, 0;
        if (eat(c, ',')) return *why = "bad shape", -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == ')') return c->p++, 0;
    }
}

/* The dict; why says what is wrong. */
static int dict(cur *c, int *dims, int *nd, const char **why) {
    int seen_descr = 0, seen_fo = 0, seen_shape = 0;
    if (eat(c, '{')) return *why = "the header is not a dict", -1;
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            break;
        }
        char key[32], val[32];
        if (str(c, key, sizeof key) || eat(c, ':')) return *why = "malformed header dict", -1;
        if (!strcmp(key, "descr")) {
            if (seen_descr++) return *why = "'descr' given twice", -1;
            if (str(c, val, sizeof val)) return *why = "'descr' is not a string", -1;
            if (strcmp(val, "<f4") != 0)
                return *why = "only little-endian float32 ('<f4') arrays are supported (convert "
                              "with .astype('<f4'))",
                       -1;
        } else if (!strcmp(key, "fortran_order")) {
            if (seen_fo++) return *why = "'fortran_order' given twice", -1;
            if (!word(c, "True"))
                return *why = "Fortran-order arrays are not supported (save with "
                              "np.ascontiguousarray)",
                       -1;
            if (word(c, "False")) return *why = "'fortran_order' is not True or False", -1;
        } else if (!strcmp(key, "shape")) {
            if (seen_shape++) return *why = "'shape' given twice", -1;
            if (tuple(c, dims, nd, why)) return -1;
        } else {
            return *why = "unknown key in the header", -1;
        }
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') c->p++;
        else if (c->p >= c->end || *c->p != '}') return *why = "malformed header dict", -1;
    }
    if (!seen_descr || !seen_fo || !seen_shape)
        return *why = "the header lacks 'descr', 'fortran_order' or 'shape'", -1;
    skip_ws(c);
    if (c->p != c->end) return *why = "junk after the header dict", -1;
    return 0;
}

sng_status sngi_npy_parse(sng_ctx *ctx, const char *what, const void *data, size_t len,
                          int *dims, int *nd, const float **values) {
    const unsigned char *p = data;
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: not a NumPy .npy file", what);
    size_t hl, off;
    if (p[6] == 1) {
        hl = (size_t)p[8] | ((size_t)p[9] << 8);
        off = 10;
    } else if (p[6] == 2 || p[6] == 3) {
        if (len < 12) return sngi_fail(ctx, SNG_ERR_DATA, "%s: truncated .npy header", what);
        hl = (size_t)p[8] | ((size_t)p[9] << 8) | ((size_t)p[10] << 16) | ((size_t)p[11] << 24);
        off = 12;
    } else {
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: unsupported .npy version %d", what, p[6]);
    }
    if (hl > HEADER_MAX)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: .npy header of %zu bytes is too long", what, hl);
    if (hl > len - off) return sngi_fail(ctx, SNG_ERR_DATA, "%s: truncated .npy header", what);
    cur c = {(const char *)p + off, (const char *)p + off + hl};
    const char *why = NULL;
    if (dict(&c, dims, nd, &why))
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: bad .npy header: %s", what, why);
    size_t count = 1;
    for (int i = 0; i < *nd; i++) {
        if (dims[i] && count > SIZE_MAX / 4 / (size_t)dims[i])
            return sngi_fail(ctx, SNG_ERR_DATA, "%s: .npy shape is too large", what);
        count *= (size_t)dims[i];
    }
    size_t have = len - off - hl;
    if (have != count * 4)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: %s .npy data (%zu bytes; the shape needs %zu)",
                         what, have < count * 4 ? "truncated" : "extra bytes after the", have,
                         count * 4);
    *values = (const float *)(p + off + hl);
    return SNG_OK;
}

int sngi_npy_shape_is(const int *dims, int nd, const sngi_shape *want, char *got, size_t n) {
    int ok = nd == want->nd;
    for (int k = 0; ok && k < nd; k++) ok = dims[k] == want->d[k];
    size_t l = (size_t)snprintf(got, n, "(");
    for (int k = 0; k < nd && l < n; k++)
        l += (size_t)snprintf(got + l, n - l, k ? ",%d" : "%d", dims[k]);
    if (l < n) snprintf(got + l, n - l, ")");
    return ok;
}

size_t sngi_npy_header(char *buf, size_t cap, const int *dims, int nd) {
    char shape[SNGI_NPY_MAX_DIMS * 13 + 4] = "";
    size_t k = 0;
    if (nd < 0 || nd > SNGI_NPY_MAX_DIMS) return 0;
    for (int i = 0; i < nd; i++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, i ? ", %d" : "%d", dims[i]);
    if (nd == 1) shape[k++] = ',', shape[k] = 0; /* "(a,)": a 1-tuple */
    char d[256];
    int dl = snprintf(d, sizeof d, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }",
                      shape);
    if (dl < 0 || (size_t)dl >= sizeof d) return 0;
    size_t total = 10 + (size_t)dl + 1; /* magic, version, length, dict, '\n' */
    size_t padded = (total + 63) / 64 * 64;
    if (padded > cap) return 0;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    size_t hl = padded - 10;
    buf[8] = (char)(hl & 0xff);
    buf[9] = (char)(hl >> 8);
    memcpy(buf + 10, d, (size_t)dl);
    memset(buf + 10 + dl, ' ', padded - total);
    buf[padded - 1] = '\n';
    return padded;
}

sng_status sngi_npy_write(sng_ctx *ctx, FILE *f, const char *what, const float *v,
                          const int *dims, int nd) {
    char hdr[256];
    size_t hl = sngi_npy_header(hdr, sizeof hdr, dims, nd);
    if (!hl) return sngi_fail(ctx, SNG_ERR_INTERNAL, "%s: .npy shape does not fit a header", what);
    size_t count = 1;
    for (int i = 0; i < nd; i++) count *= (size_t)dims[i];
    if (fwrite(hdr, 1, hl, f) != hl || fwrite(v, sizeof(float), count, f) != count)
        return sngi_fail(ctx, SNG_ERR_IO, "%s: write failed: %s", what, strerror(errno));
    return SNG_OK;
}
