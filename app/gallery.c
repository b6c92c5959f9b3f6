/*
 * gallery.c — the gallery file:
 *   "SNGGAL01" | u64 fingerprint | u32 dim | u32 count |
 *   count x ( u16 name_len | name | dim x f32 ) | u64 FNV-1a of everything before
 * little-endian. Adding or removing an identity never retrains: it rewrites this file.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/gallery.h"

#define MAGIC "SNGGAL01"

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
    if (!*name || strlen(name) > 1000)
        return sngi_fail(ctx, SNG_ERR_USAGE, "identity names are 1 to 1000 bytes");
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

sng_status sngi_gallery_load(sng_ctx *ctx, const char *path, int create, sngi_gallery **out) {
    *out = NULL;
    sngi_gallery *gal = calloc(1, sizeof *gal);
    if (!gal) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && create) {
            *out = gal;
            return SNG_OK;
        }
        free(gal);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    fstat(fileno(f), &st);
    size_t len = (size_t)st.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    sng_status s = SNG_OK;
    if (!buf || fread(buf, 1, len, f) != len) {
        s = sngi_fail(ctx, SNG_ERR_IO, "%s: read error", path);
        goto out;
    }
    if (len < 32 || memcmp(buf, MAGIC, 8) != 0) {
        s = sngi_fail(ctx, SNG_ERR_DATA, "%s: not an sngraph gallery", path);
        goto out;
    }
    uint64_t sum;
    memcpy(&sum, buf + len - 8, 8);
    if (fnv(0xcbf29ce484222325ULL, buf, len - 8) != sum) {
        s = sngi_fail(ctx, SNG_ERR_DATA, "%s: gallery is truncated or corrupt (checksum mismatch)",
                      path);
        goto out;
    }
    uint32_t dim, count;
    memcpy(&gal->fingerprint, buf + 8, 8);
    memcpy(&dim, buf + 16, 4);
    memcpy(&count, buf + 20, 4);
    if (dim == 0 || dim > (1u << 24)) {
        s = sngi_fail(ctx, SNG_ERR_DATA, "%s: bad embedding size %u", path, dim);
        goto out;
    }
    gal->dim = (int)dim;
    size_t p = 24, end = len - 8;
    for (uint32_t i = 0; i < count; i++) {
        uint16_t nl;
        if (p + 2 > end) goto trunc;
        memcpy(&nl, buf + p, 2);
        p += 2;
        if (p + nl + (size_t)dim * 4 > end || nl == 0) goto trunc;
        char name[1024];
        memcpy(name, buf + p, nl);
        name[nl] = 0;
        p += nl;
        if ((s = sngi_gallery_add(ctx, gal, name, (const float *)(buf + p)))) goto out;
        p += (size_t)dim * 4;
    }
    if (p != end) goto trunc;
    goto out;
trunc:
    s = sngi_fail(ctx, SNG_ERR_DATA, "%s: gallery is truncated or corrupt", path);
out:
    fclose(f);
    free(buf);
    if (s) {
        sngi_gallery_free(gal);
        return s;
    }
    *out = gal;
    return SNG_OK;
}

static int put(FILE *f, uint64_t *h, const void *p, size_t n) {
    *h = fnv(*h, p, n);
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

sng_status sngi_gallery_save(sng_ctx *ctx, const sngi_gallery *gal, const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", tmp, strerror(errno));
    }
    uint64_t h = 0xcbf29ce484222325ULL;
    uint32_t dim = (uint32_t)gal->dim, count = (uint32_t)gal->n;
    int bad = put(f, &h, MAGIC, 8) || put(f, &h, &gal->fingerprint, 8) || put(f, &h, &dim, 4) ||
              put(f, &h, &count, 4);
    for (int i = 0; i < gal->n && !bad; i++) {
        uint16_t nl = (uint16_t)strlen(gal->names[i]);
        bad = put(f, &h, &nl, 2) || put(f, &h, gal->names[i], nl) ||
              put(f, &h, gal->emb + (size_t)i * gal->dim, sizeof(float) * (size_t)gal->dim);
    }
    if (!bad) bad = fwrite(&h, 1, 8, f) != 8;
    if (!bad) bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) {
        if (!bad) e = errno;
        unlink(tmp);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot save the gallery (%s); the previous file is "
                                          "unchanged",
                         path, strerror(e ? e : EIO));
    }
    return SNG_OK;
}
