/*
 * gallery.c — the gallery file:
 *   "SNGGAL01" | u64 fingerprint | u32 dim | u32 count |
 *   count x ( u16 name_len | name | dim x f32 ) | u64 FNV-1a of everything before
 * little-endian. Adding or removing an identity never retrains: it rewrites this file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/atomic.h"
#include "app/gallery.h"

#define MAGIC "SNGGAL01"
#define GALLERY_MAX_BYTES ((uint64_t)1 << 34) /* 16 GiB: far beyond any real gallery */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

void sngi_gallery_free(sngi_gallery *gal) {
    if (!gal) return;
    for (int i = 0; i < gal->n; i++) free(gal->names[i]);
    free(gal->names);
    free(gal->emb);
    free(gal);
}

int sngi_gallery_find(const sngi_gallery *gal, const char *name) {
    for (int i = 0; i < gal->n; i++)
        if (!strcmp(gal->names[i], name)) return i;
    return -1;
}

static int reserve(sngi_gallery *gal, int need) {
    if (need <= gal->cap) return 0;
    int nc = gal->cap ? gal->cap * 2 : 16;
    while (nc < need) nc *= 2;
    char **nn = realloc(gal->names, sizeof(char *) * (size_t)nc);
    if (!nn) return -1;
    gal->names = nn;
    float *e = realloc(gal->emb, sizeof(float) * (size_t)nc * (size_t)(gal->dim ? gal->dim : 1));
    if (!e) return -1;
    gal->emb = e;
    gal->cap = nc;
    return 0;
}

sng_status sngi_gallery_add(sng_ctx *ctx, sngi_gallery *gal, const char *name, const float *emb) {
    if (!*name || strlen(name) > SNGI_GALLERY_NAME_MAX)
        return sngi_fail(ctx, SNG_ERR_USAGE, "identity names are 1 to %d bytes",
                         SNGI_GALLERY_NAME_MAX);
    if (sngi_gallery_find(gal, name) >= 0)
        return sngi_fail(ctx, SNG_ERR_DATA, "'%s' is already enrolled (remove it first)", name);
    if (reserve(gal, gal->n + 1)) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    if (!(gal->names[gal->n] = strdup(name))) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    memcpy(gal->emb + (size_t)gal->n * gal->dim, emb, sizeof(float) * (size_t)gal->dim);
    gal->n++;
    return SNG_OK;
}

sng_status sngi_gallery_remove(sng_ctx *ctx, sngi_gallery *gal, const char *name) {
    int i = sngi_gallery_find(gal, name);
    if (i < 0) return sngi_fail(ctx, SNG_ERR_DATA, "'%s' is not in the gallery", name);
    free(gal->names[i]);
    memmove(gal->names + i, gal->names + i + 1, sizeof(char *) * (size_t)(gal->n - i - 1));
    memmove(gal->emb + (size_t)i * gal->dim, gal->emb + (size_t)(i + 1) * gal->dim,
            sizeof(float) * (size_t)(gal->n - i - 1) * gal->dim);
    gal->n--;
    return SNG_OK;
}

/* Reads the whole of a regular file (O_NONBLOCK so a FIFO fails instead of blocking). The caller
 * frees *buf. */
static sng_status read_all(sng_ctx *ctx, const char *path, int create, unsigned char **buf,
                           size_t *len, int *missing) {
    *buf = NULL;
    *len = 0;
    *missing = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && create) {
            *missing = 1;
            return SNG_OK;
        }
        return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    sng_status s = SNG_OK;
    if (fstat(fd, &st) != 0) {
        s = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = sngi_fail(ctx, SNG_ERR_IO, "%s: not a regular file", path);
    } else if ((uint64_t)st.st_size > GALLERY_MAX_BYTES) {
        s = sngi_fail(ctx, SNG_ERR_DATA, "%s: %lld bytes is larger than any gallery (limit %llu)",
                      path, (long long)st.st_size, (unsigned long long)GALLERY_MAX_BYTES);
    } else if (!(*buf = malloc((size_t)st.st_size + 1))) {
        s = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    } else {
        size_t want = (size_t)st.st_size;
        while (*len < want) {
            ssize_t r = read(fd, *buf + *len, want - *len);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            *len += (size_t)r;
        }
        if (*len != want) s = sngi_fail(ctx, SNG_ERR_IO, "%s: read error", path);
    }
    close(fd);
    if (s) {
        free(*buf);
        *buf = NULL;
    }
    return s;
}

/* Parses the records of buf (checksum already verified) into gal. Every length is checked
 * against the bytes that remain before it is used. */
static sng_status parse(sng_ctx *ctx, const char *path, const unsigned char *buf, size_t len,
                        sngi_gallery *gal) {
    uint32_t dim, count;
    memcpy(&gal->fingerprint, buf + 8, 8);
    memcpy(&dim, buf + 16, 4);
    memcpy(&count, buf + 20, 4);
    if (dim == 0 || dim > (1u << 24))
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: bad embedding size %u", path, dim);
    gal->dim = (int)dim;
    size_t p = 24, end = len - 8, rec = 2 + 1 + (size_t)dim * 4;
    /* Each record holds at least one name byte and the embedding. */
    if (count > (end - p) / rec)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: %u identities cannot fit in %zu bytes", path,
                         count, len);
    for (uint32_t i = 0; i < count; i++) {
        uint16_t nl;
        if (end - p < 2) goto trunc;
        memcpy(&nl, buf + p, 2);
        p += 2;
        if (nl == 0 || nl > SNGI_GALLERY_NAME_MAX)
            return sngi_fail(ctx, SNG_ERR_DATA, "%s: identity %u has a name of %u bytes (1 to %d "
                                                "allowed)",
                             path, i + 1, nl, SNGI_GALLERY_NAME_MAX);
        if (end - p < (size_t)nl + (size_t)dim * 4) goto trunc;
        if (memchr(buf + p, 0, nl))
            return sngi_fail(ctx, SNG_ERR_DATA, "%s: identity %u has a NUL byte in its name", path,
                             i + 1);
        char *name = strndup((const char *)buf + p, nl);
        if (!name) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        p += nl;
        float *e = malloc((size_t)dim * 4);
        if (!e) {
            free(name);
            return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        }
        memcpy(e, buf + p, (size_t)dim * 4); /* buf + p need not be aligned for float */
        p += (size_t)dim * 4;
        int finite = 1;
        for (uint32_t k = 0; k < dim && finite; k++) finite = isfinite(e[k]);
        sng_status s = finite ? sngi_gallery_add(ctx, gal, name, e)
                              : sngi_fail(ctx, SNG_ERR_DATA, "identity has a non-finite "
                                                             "embedding value");
        free(e);
        if (s) {
            char why[512];
            snprintf(why, sizeof why, "%s", sng_ctx_errmsg(ctx));
            s = sngi_fail(ctx, SNG_ERR_DATA, "%s: identity %u ('%.100s'): %s", path, i + 1, name,
                          why);
            free(name);
            return s;
        }
        free(name);
    }
    if (p != end) goto trunc;
    return SNG_OK;
trunc:
    return sngi_fail(ctx, SNG_ERR_DATA, "%s: gallery is truncated or corrupt", path);
}

sng_status sngi_gallery_parse(sng_ctx *ctx, const char *path, const void *data, size_t len,
                              sngi_gallery **out) {
    *out = NULL;
    const unsigned char *buf = data;
    if (len < 32 || memcmp(buf, MAGIC, 8) != 0)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: not an sngraph gallery", path);
    uint64_t sum;
    memcpy(&sum, buf + len - 8, 8);
    if (fnv(0xcbf29ce484222325ULL, buf, len - 8) != sum)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: gallery is truncated or corrupt (checksum "
                                            "mismatch)",
                         path);
    sngi_gallery *gal = calloc(1, sizeof *gal);
    if (!gal) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status s = parse(ctx, path, buf, len, gal);
    if (s) {
        sngi_gallery_free(gal);
        return s;
    }
    *out = gal;
    return SNG_OK;
}

sng_status sngi_gallery_load(sng_ctx *ctx, const char *path, int create, sngi_gallery **out) {
    *out = NULL;
    unsigned char *buf;
    size_t len;
    int missing;
    sng_status s = read_all(ctx, path, create, &buf, &len, &missing);
    if (s) return s;
    if (missing) {
        *out = calloc(1, sizeof **out);
        return *out ? SNG_OK : sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    s = sngi_gallery_parse(ctx, path, buf, len, out);
    free(buf);
    return s;
}

static int put(FILE *f, uint64_t *h, const void *p, size_t n) {
    *h = fnv(*h, p, n);
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

sng_status sngi_gallery_save(sng_ctx *ctx, const sngi_gallery *gal, const char *path) {
    sngi_atomic a;
    sng_status s = sngi_atomic_open(ctx, path, &a);
    if (s) return s;
    FILE *f = a.f;
    uint64_t h = 0xcbf29ce484222325ULL;
    uint32_t dim = (uint32_t)gal->dim, count = (uint32_t)gal->n;
    int bad = put(f, &h, MAGIC, 8) || put(f, &h, &gal->fingerprint, 8) || put(f, &h, &dim, 4) ||
              put(f, &h, &count, 4);
    for (int i = 0; i < gal->n && !bad; i++) {
        size_t l = strlen(gal->names[i]);
        if (l == 0 || l > SNGI_GALLERY_NAME_MAX) { /* add refuses these; never truncate */
            sngi_atomic_abort(&a);
            return sngi_fail(ctx, SNG_ERR_INTERNAL, "gallery name of %zu bytes", l);
        }
        uint16_t nl = (uint16_t)l;
        bad = put(f, &h, &nl, 2) || put(f, &h, gal->names[i], nl) ||
              put(f, &h, gal->emb + (size_t)i * gal->dim, sizeof(float) * (size_t)gal->dim);
    }
    if (!bad) bad = fwrite(&h, 1, 8, f) != 8;
    if (bad) {
        int e = errno;
        sngi_atomic_abort(&a);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot save the gallery (%s); the previous file "
                                          "is unchanged",
                         path, strerror(e ? e : EIO));
    }
    return sngi_atomic_commit(ctx, &a);
}

sng_status sngi_gallery_update(sng_ctx *ctx, const char *path, int create,
                               sngi_gallery_edit edit, void *arg) {
    int lock;
    sng_status s = sngi_lock(ctx, path, &lock);
    if (s) return s;
    /* Read under the lock: every writer sees the enrolments of the writers before it. */
    sngi_gallery *gal = NULL;
    s = sngi_gallery_load(ctx, path, create, &gal);
    if (!s) s = edit(ctx, gal, arg);
    if (!s) s = sngi_gallery_save(ctx, gal, path);
    sngi_gallery_free(gal);
    sngi_unlock(lock);
    return s;
}
