/*
 * store.c — gallery file + journal (see store.h). Journal layout, little-endian:
 *   "SNGJRN01" | u64 fingerprint | u32 dim | u32 0 |
 *   records: u8 op ('A' add, 'R' remove) | u8 0 | u16 name_len | name | (add: dim x f32) |
 *            u64 FNV-1a of the record's bytes before it
 * A torn last record (crash mid-append, never acknowledged) fails its checksum and is cut off.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/store.h"

#define JMAGIC "SNGJRN01"
#define JHEAD 24

static uint64_t fnv(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* fsync of the directory holding path, so a created or renamed entry survives a crash. */
static int sync_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        c += k, n -= (size_t)k;
    }
    return 0;
}

/* Applies one change with replay semantics: an add replaces, removing an absent name is nothing. */
static sng_status apply(sng_ctx *ctx, sngi_gallery *gal, int op, const char *name, const float *emb) {
    if (sngi_gallery_find(gal, name) >= 0) {
        sng_status st = sngi_gallery_remove(ctx, gal, name);
        if (st) return st;
    }
    return op == 'A' ? sngi_gallery_add(ctx, gal, name, emb) : SNG_OK;
}

/* Replays the journal over s->gal and cuts a torn tail. Returns the records applied, or -1. */
static long replay(sng_ctx *ctx, sngi_store *s) {
    struct stat st;
    if (fstat(s->jfd, &st)) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", s->jpath, strerror(errno)), -1;
    size_t n = (size_t)st.st_size;
    if (n < JHEAD) { /* new, or torn while being created (nothing acknowledged yet) */
        unsigned char h[JHEAD] = {0};
        memcpy(h, JMAGIC, 8);
        memcpy(h + 8, &s->fingerprint, 8);
        uint32_t d = (uint32_t)s->dim;
        memcpy(h + 16, &d, 4);
        if (ftruncate(s->jfd, 0) || lseek(s->jfd, 0, SEEK_SET) || write_all(s->jfd, h, JHEAD) ||
            fsync(s->jfd) || sync_dir(s->jpath))
            return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot write: %s", s->jpath, strerror(errno)), -1;
        return 0;
    }
    unsigned char *b = malloc(n);
    if (!b) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory"), -1;
    if (pread(s->jfd, b, n, 0) != (ssize_t)n) {
        free(b);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: read error", s->jpath), -1;
    }
    uint64_t fp;
    uint32_t dim;
    memcpy(&fp, b + 8, 8);
    memcpy(&dim, b + 16, 4);
    if (memcmp(b, JMAGIC, 8) || fp != s->fingerprint || (int)dim != s->dim) {
        free(b);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s is not a journal of this checkpoint's gallery "
                         "(fingerprint %016llx, want %016llx)", s->jpath,
                         (unsigned long long)fp, (unsigned long long)s->fingerprint), -1;
    }
    size_t off = JHEAD, esz = sizeof(float) * (size_t)s->dim;
    long applied = 0;
    char name[65536];
    float *emb = malloc(esz ? esz : 1);
    if (!emb) {
        free(b);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory"), -1;
    }
    while (off + 4 <= n) {
        int op = b[off];
        size_t nl = (size_t)b[off + 2] | (size_t)b[off + 3] << 8;
        size_t len = 4 + nl + (op == 'A' ? esz : 0);
        uint64_t sum;
        if ((op != 'A' && op != 'R') || nl == 0 || off + len + 8 > n) break;
        memcpy(&sum, b + off + len, 8);
        if (sum != fnv(b + off, len)) break;
        memcpy(name, b + off + 4, nl);
        name[nl] = 0;
        if (op == 'A') memcpy(emb, b + off + 4 + nl, esz);
        if (apply(ctx, s->gal, op, name, emb)) {
            free(emb), free(b);
            return -1;
        }
        applied++;
        off += len + 8;
    }
    free(emb);
    free(b);
    if (off < n && (ftruncate(s->jfd, (off_t)off) || fsync(s->jfd)))
        return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot cut the torn tail: %s", s->jpath,
                         strerror(errno)), -1;
    return applied;
}

sng_status sngi_store_compact(sng_ctx *ctx, sngi_store *s) {
    sng_status st = sngi_gallery_save(ctx, s->gal, s->path);
    if (st) return st;
    if (sync_dir(s->path) || ftruncate(s->jfd, JHEAD) || fsync(s->jfd))
        return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", s->jpath, strerror(errno));
    s->jrecords = 0;
    return SNG_OK;
}

/* Loads the gallery file, checking it belongs to the model. */
static sng_status load_gallery(sng_ctx *ctx, sngi_store *s, const char *ckpt, sngi_gallery **out) {
    struct stat st;
    int existed = stat(s->path, &st) == 0;
    sng_status r = sngi_gallery_load(ctx, s->path, 1, out);
    if (r) return r;
    sngi_gallery *g = *out;
    if (!existed) {
        g->fingerprint = s->fingerprint;
        g->dim = s->dim;
    } else if (g->fingerprint != s->fingerprint || g->dim != s->dim) {
        r = sngi_fail(ctx, SNG_ERR_DATA, "%s was made with another checkpoint (fingerprint %016llx), "
                      "not %s (%016llx): embeddings would not be comparable", s->path,
                      (unsigned long long)g->fingerprint, ckpt ? ckpt : "this checkpoint",
                      (unsigned long long)s->fingerprint);
        sngi_gallery_free(g);
        *out = NULL;
    }
    return r;
}

sng_status sngi_store_open(sng_ctx *ctx, const char *path, const char *ckpt, uint64_t fingerprint,
                           int dim, sngi_store **out) {
    *out = NULL;
    sngi_store *s = calloc(1, sizeof *s);
    if (!s) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    s->jfd = -1;
    s->fingerprint = fingerprint;
    s->dim = dim;
    s->compact_every = 1024;
    pthread_mutex_init(&s->mu, NULL);
    sng_status st = SNG_OK;
    s->path = strdup(path);
    if (s->path && asprintf(&s->jpath, "%s.journal", path) < 0) s->jpath = NULL;
    if (!s->path || !s->jpath || !(s->ctx = sng_ctx_new())) {
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = load_gallery(ctx, s, ckpt, &s->gal))) goto fail;
    s->jfd = open(s->jpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->jfd < 0) {
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", s->jpath, strerror(errno));
        goto fail;
    }
    if (flock(s->jfd, LOCK_EX | LOCK_NB)) {
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: in use by another server (%s)", s->path,
                       strerror(errno));
        goto fail;
    }
    struct stat fst;
    int existed = stat(s->path, &fst) == 0;
    long n = replay(ctx, s);
    if (n < 0) {
        st = SNG_ERR_DATA;
        goto fail;
    }
    /* Recovered changes, or a new gallery: write the file now so that it exists and loads. */
    if ((n > 0 || !existed) && (st = sngi_store_compact(ctx, s))) goto fail;
    *out = s;
    return SNG_OK;
fail:
    sngi_store_close(NULL, s);
    return st ? st : SNG_ERR_IO;
}

/* Appends one record and fsyncs it; on failure the journal is cut back to where it was. */
static int append(sngi_store *s, int op, const char *name, const float *emb, char *why, size_t nwhy) {
    size_t nl = strlen(name), esz = op == 'A' ? sizeof(float) * (size_t)s->dim : 0;
    size_t len = 4 + nl + esz;
    unsigned char *r = malloc(len + 8);
    if (!r) return snprintf(why, nwhy, "out of memory"), SNGI_STORE_FAIL;
    r[0] = (unsigned char)op, r[1] = 0, r[2] = (unsigned char)nl, r[3] = (unsigned char)(nl >> 8);
    memcpy(r + 4, name, nl);
    if (esz) memcpy(r + 4 + nl, emb, esz);
    uint64_t sum = fnv(r, len);
    memcpy(r + len, &sum, 8);
    off_t end = lseek(s->jfd, 0, SEEK_END);
    int bad = end < 0 || write_all(s->jfd, r, len + 8) || fdatasync(s->jfd);
    free(r);
    if (bad) {
        snprintf(why, nwhy, "%s: cannot write the journal: %s", s->jpath, strerror(errno));
        if (end >= 0 && ftruncate(s->jfd, end) == 0) (void)fsync(s->jfd);
        return SNGI_STORE_FAIL;
    }
    return SNGI_STORE_OK;
}

/* After an acknowledged change: fold a long journal into the file. A failure here loses nothing
 * (the journal still holds the change) and is retried at the next change. */
static void maybe_compact(sngi_store *s) {
    if (++s->jrecords >= s->compact_every) (void)sngi_store_compact(s->ctx, s);
}

int sngi_store_add(sngi_store *s, const char *name, const float *emb, char *why, size_t nwhy) {
    pthread_mutex_lock(&s->mu);
    int r = SNGI_STORE_EXISTS;
    if (sngi_gallery_find(s->gal, name) < 0 && (r = append(s, 'A', name, emb, why, nwhy)) == 0) {
        if (sngi_gallery_add(s->ctx, s->gal, name, emb)) {
            /* Durable but not in memory (OOM): the next start replays it. */
            snprintf(why, nwhy, "%s", sng_ctx_errmsg(s->ctx));
            r = SNGI_STORE_FAIL;
        } else {
            maybe_compact(s);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

int sngi_store_remove(sngi_store *s, const char *name, char *why, size_t nwhy) {
    pthread_mutex_lock(&s->mu);
    int r = SNGI_STORE_ABSENT;
    if (sngi_gallery_find(s->gal, name) >= 0 && (r = append(s, 'R', name, NULL, why, nwhy)) == 0) {
        (void)sngi_gallery_remove(s->ctx, s->gal, name);
        maybe_compact(s);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

sng_status sngi_store_reload(sng_ctx *ctx, sngi_store *s) {
    pthread_mutex_lock(&s->mu);
    sngi_gallery *g = NULL;
    sng_status st = load_gallery(ctx, s, NULL, &g);
    if (!st) {
        sngi_gallery *old = s->gal;
        s->gal = g;
        /* Our acknowledged changes since the last compaction go over the file as reread. */
        if (replay(ctx, s) < 0) {
            s->gal = old;
            sngi_gallery_free(g);
            st = SNG_ERR_DATA;
        } else {
            sngi_gallery_free(old);
            st = sngi_store_compact(ctx, s);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

int sngi_store_count(sngi_store *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->gal->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

sng_status sngi_store_close(sng_ctx *ctx, sngi_store *s) {
    if (!s) return SNG_OK;
    sng_status st = SNG_OK;
    if (ctx && s->gal && s->jfd >= 0) st = sngi_store_compact(ctx, s);
    if (s->jfd >= 0) close(s->jfd);
    sngi_gallery_free(s->gal);
    sng_ctx_free(s->ctx);
    free(s->path);
    free(s->jpath);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return st;
}
