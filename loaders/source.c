/*
 * source.c — one walk over "a folder of labelled images" whatever holds it: a directory tree or
 * any archive libarchive reads (zip, tar with gzip/bzip2/xz/zstd, 7z, ...). Archives are
 * recognised by content, not by name, and read as a stream without unpacking. The walker only
 * reports files, folders and unreadable entries; what they mean is dataset.c's business.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loaders/loader_int.h"

#define WALK_MAX_DEPTH 32

int sngi_path_hidden(const char *path) {
    for (const char *p = path; *p;) {
        if (*p == '.' && p[1] != '/' && p[1]) return 1; /* ".x" but not "./" */
        if (!strncmp(p, "__MACOSX", 8) && (p[8] == '/' || !p[8])) return 1;
        const char *s = strchr(p, '/');
        if (!s) break;
        p = s + 1;
    }
    return 0;
}

/* ---- callbacks ------------------------------------------------------------------------------- */
/* Callers may leave dir or bad NULL: folders are then only walked, and a bad entry fails the
 * walk with the path and reason. */
static sng_status cb_dir(sng_ctx *ctx, const sngi_walk_cb *cb, const char *path) {
    (void)ctx;
    return cb->dir ? cb->dir(cb->ud, path) : SNG_OK;
}

static sng_status cb_bad(sng_ctx *ctx, const sngi_walk_cb *cb, const char *src, const char *path,
                         const char *why, int fatal) {
    if (cb->bad) return cb->bad(cb->ud, path, why, fatal);
    return sngi_fail(ctx, SNG_ERR_DATA, "%s%s%s: %s", src, path ? ":" : "", path ? path : "",
                     why);
}

/* ---- directories ----------------------------------------------------------------------------- */
static int name_cmp(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Opens path for reading without blocking (a FIFO or device would otherwise hang open or read)
 * and checks it is a regular file of at most SNGI_ENTRY_MAX_BYTES. Returns the descriptor, or -1
 * with *why set (static text or strerror). */
static int open_regular(const char *path, off_t *size, const char **why) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *why = "not a regular file";
        close(fd);
        return -1;
    }
    if ((uint64_t)sb.st_size > SNGI_ENTRY_MAX_BYTES) {
        *why = "larger than 256 MiB";
        close(fd);
        return -1;
    }
    *size = sb.st_size;
    return fd;
}

const char *sngi_read_regular(const char *path, uint8_t **buf, size_t *cap, size_t *n) {
    off_t size;
    const char *why;
    int fd = open_regular(path, &size, &why);
    if (fd < 0) return why;
    *n = 0;
    for (;;) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 65536;
            if (nc < (size_t)size + 1) nc = (size_t)size + 1;
            if (nc > SNGI_ENTRY_MAX_BYTES + 1) nc = SNGI_ENTRY_MAX_BYTES + 1;
            if (nc <= *cap) {
                close(fd);
                return "larger than 256 MiB";
            }
            uint8_t *nb = realloc(*buf, nc);
            if (!nb) {
                close(fd);
                return "out of memory";
            }
            *buf = nb;
            *cap = nc;
        }
        ssize_t k = read(fd, *buf + *n, *cap - *n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            why = strerror(errno);
            close(fd);
            return why;
        }
        if (k == 0) break;
        *n += (size_t)k;
    }
    close(fd);
    return NULL;
}

/* Folders already walked, by (device, inode): a symlink loop or a second link to a folder is
 * walked once. Open addressing, grown at half full. */
typedef struct dev_ino {
    dev_t dev;
    ino_t ino;
} dev_ino;

typedef struct visited_set {
    dev_ino *slot;
    unsigned char *used;
    size_t cap, n;
} visited_set;

static size_t di_hash(dev_t d, ino_t i, size_t cap) {
    uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15ull ^ (uint64_t)d * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Adds (dev, ino): 1 when new, 0 when already there, -1 out of memory. */
static int visited_add(visited_set *v, dev_t dev, ino_t ino) {
    if (2 * (v->n + 1) > v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        visited_set nv = {calloc(nc, sizeof(dev_ino)), calloc(nc, 1), nc, 0};
        if (!nv.slot || !nv.used) {
            free(nv.slot);
            free(nv.used);
            return -1;
        }
        for (size_t i = 0; i < v->cap; i++)
            if (v->used[i]) visited_add(&nv, v->slot[i].dev, v->slot[i].ino);
        free(v->slot);
        free(v->used);
        *v = nv;
    }
    size_t i = di_hash(dev, ino, v->cap);
    for (; v->used[i]; i = (i + 1) & (v->cap - 1))
        if (v->slot[i].dev == dev && v->slot[i].ino == ino) return 0;
    v->used[i] = 1;
    v->slot[i].dev = dev;
    v->slot[i].ino = ino;
    v->n++;
    return 1;
}

typedef struct dir_walk {
    sng_ctx *ctx;
    const sngi_walk_cb *cb;
    const char *src;
    uint8_t *buf;
    size_t cap;
    visited_set seen;
    char rel[4096];
    char full[8192];
} dir_walk;

/* Walks dw->full (whose relative path is dw->rel) in sorted name order. */
static sng_status walk_dir(dir_walk *dw, int depth) {
    struct dirent **names;
    char why[300];
    int n = scandir(dw->full, &names, NULL, name_cmp);
    if (n < 0) {
        int e = errno;
        if (depth == 0) /* the source itself: an error, not a bad entry */
            return sngi_fail(dw->ctx, SNG_ERR_IO, "%s: cannot list folder: %s", dw->src,
                             strerror(e));
        snprintf(why, sizeof why, "cannot list folder: %s", strerror(e));
        return cb_bad(dw->ctx, dw->cb, dw->src, dw->rel, why, SNGI_BAD_ENTRY);
    }
    sng_status st = SNG_OK;
    size_t lrel = strlen(dw->rel), lfull = strlen(dw->full);
    for (int i = 0; i < n && st == SNG_OK; i++) {
        const char *nm = names[i]->d_name;
        if (nm[0] == '.' || !strcmp(nm, "__MACOSX")) continue;
        if (lrel + strlen(nm) + 2 >= sizeof dw->rel || lfull + strlen(nm) + 2 >= sizeof dw->full) {
            st = cb_bad(dw->ctx, dw->cb, dw->src, nm, "path too long", 0);
            continue;
        }
        /* Lengths checked above: neither snprintf can truncate. */
        snprintf(dw->rel + lrel, sizeof dw->rel - lrel, "%s%s", lrel ? "/" : "", nm);
        snprintf(dw->full + lfull, sizeof dw->full - lfull, "/%s", nm);
        struct stat sb;
        if (stat(dw->full, &sb) != 0) {
            snprintf(why, sizeof why, "cannot stat: %s", strerror(errno));
            st = cb_bad(dw->ctx, dw->cb, dw->src, dw->rel, why, 0);
        } else if (S_ISDIR(sb.st_mode)) {
            int fresh = visited_add(&dw->seen, sb.st_dev, sb.st_ino);
            if (fresh < 0)
                st = sngi_fail(dw->ctx, SNG_ERR_NOMEM, "out of memory");
            else if (!fresh)
                st = cb_bad(dw->ctx, dw->cb, dw->src, dw->rel,
                            "folder already walked (a symlink loop or second link): skipped", 0);
            else if (depth + 1 >= WALK_MAX_DEPTH)
                st = cb_bad(dw->ctx, dw->cb, dw->src, dw->rel, "folders nested too deep", 0);
            else if ((st = cb_dir(dw->ctx, dw->cb, dw->rel)) == SNG_OK)
                st = walk_dir(dw, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            size_t len = 0;
            const char *e = sngi_read_regular(dw->full, &dw->buf, &dw->cap, &len);
            if (e) {
                snprintf(why, sizeof why, "cannot read: %s", e);
                st = cb_bad(dw->ctx, dw->cb, dw->src, dw->rel, why, 0);
            } else {
                st = dw->cb->file(dw->cb->ud, dw->rel, dw->buf, len);
            }
        } else {
            st = cb_bad(dw->ctx, dw->cb, dw->src, dw->rel, "not a regular file: skipped", 0);
        }
        dw->rel[lrel] = 0;
        dw->full[lfull] = 0;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return st;
}

/* ---- archives -------------------------------------------------------------------------------- */
/* Normalises an entry path in place: drops leading "/" and "./", and trailing "/". Returns NULL
 * for a path with a ".." component or nothing left. */
static char *clean_path(char *p) {
    while (*p == '/' || (p[0] == '.' && p[1] == '/')) p += *p == '/' ? 1 : 2;
    size_t n = strlen(p);
    while (n && p[n - 1] == '/') p[--n] = 0;
    if (!n) return NULL;
    for (const char *s = p; s; s = strchr(s, '/')) {
        if (*s == '/') s++;
        if (s[0] == '.' && s[1] == '.' && (s[2] == '/' || !s[2])) return NULL;
    }
    return p;
}

/* The archive family ("zip archive"): archive_format_name names the first entry's variant
 * ("ZIP 1.0 (uncompressed)" for a stored folder), which misdescribes the whole file. */
static const char *family_name(struct archive *a) {
    switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_ZIP: return "zip archive";
    case ARCHIVE_FORMAT_TAR: return "tar archive";
    case ARCHIVE_FORMAT_7ZIP: return "7z archive";
    case ARCHIVE_FORMAT_CPIO: return "cpio archive";
    case ARCHIVE_FORMAT_ISO9660: return "ISO 9660 image";
    case ARCHIVE_FORMAT_RAR: return "rar archive";
    case ARCHIVE_FORMAT_RAR_V5: return "rar5 archive";
    case ARCHIVE_FORMAT_AR: return "ar archive";
    case ARCHIVE_FORMAT_XAR: return "xar archive";
    case ARCHIVE_FORMAT_CAB: return "cab archive";
    case ARCHIVE_FORMAT_LHA: return "lha archive";
    default: {
        const char *n = archive_format_name(a);
        return n ? n : "archive";
    }
    }
}

/* The message for an archive that fails before its first entry: unknown format, or a known
 * format or compression whose stream is broken. */
static const char *magic_name(const uint8_t *b, size_t n) {
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return "gzip data";
    if (n >= 3 && !memcmp(b, "BZh", 3)) return "bzip2 data";
    if (n >= 6 && !memcmp(b, "\xfd" "7zXZ\0", 6)) return "xz data";
    if (n >= 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4)) return "zstd data";
    if (n >= 4 && !memcmp(b, "PK\3\4", 4)) return "zip archive";
    if (n >= 6 && !memcmp(b, "7z\xbc\xaf\x27\x1c", 6)) return "7z archive";
    return NULL;
}

/* `head`: the first bytes of the source (may be NULL), to name a broken compressed stream that
 * libarchive gave up on before it reported a format. */
static sng_status archive_fail(sng_ctx *ctx, struct archive *a, const char *name,
                               const uint8_t *head, size_t nhead) {
    const char *m = archive_error_string(a);
    if (!m) m = "unknown error";
    if (archive_format(a) != 0)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: corrupt or truncated %s: %s", name,
                         family_name(a), m);
    const char *what = head ? magic_name(head, nhead) : NULL;
    if (what)
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: corrupt or truncated %s: %s", name, what, m);
    return sngi_fail(ctx, SNG_ERR_DATA, "%s: not a directory, IDX file or readable archive: %s",
                     name, m);
}

static sng_status walk_archive(sng_ctx *ctx, struct archive *a, const char *name,
                               const uint8_t *head, size_t nhead, const sngi_walk_cb *cb,
                               char *kind, size_t nkind) {
    uint8_t *buf = NULL;
    size_t cap = 0;
    sng_status st = SNG_OK;
    int first = 1;
    char path[4096];
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r == ARCHIVE_RETRY) continue;
        if (first && kind) {
            const char *fmt = family_name(a), *flt = archive_filter_name(a, 0);
            if (flt && strcmp(flt, "none"))
                snprintf(kind, nkind, "%s, %s", fmt, flt);
            else
                snprintf(kind, nkind, "%s", fmt);
        }
        if (r < ARCHIVE_WARN) {
            if (first)
                st = archive_fail(ctx, a, name, head, nhead);
            else {
                const char *m = archive_error_string(a);
                st = cb_bad(ctx, cb, name, NULL, m ? m : "archive read error", SNGI_BAD_STOP);
            }
            break;
        }
        first = 0;
        const char *pn = archive_entry_pathname(e);
        if (!pn) pn = archive_entry_pathname_utf8(e);
        if (!pn) pn = "";
        if (strlen(pn) >= sizeof path) {
            if ((st = cb_bad(ctx, cb, name, pn, "entry path longer than 4095 bytes", 0)))
                break;
            continue;
        }
        memcpy(path, pn, strlen(pn) + 1);
        char *p = clean_path(path);
        if (!p) {
            if (*pn && strcmp(pn, "./") && strcmp(pn, "/") && strcmp(pn, "."))
                if ((st = cb_bad(ctx, cb, name, pn, "unsafe or empty entry path", 0))) break;
            continue;
        }
        if (sngi_path_hidden(p)) continue;
        mode_t ft = archive_entry_filetype(e);
        if (ft == AE_IFDIR) {
            if ((st = cb_dir(ctx, cb, p)) != SNG_OK) break;
            continue;
        }
        if (ft != AE_IFREG) {
            if ((st = cb_bad(ctx, cb, name, p, "not a regular file", 0)) != SNG_OK) break;
            continue;
        }
        size_t n = 0;
        int fatal = SNGI_BAD_DATA;
        const char *err = NULL;
        for (;;) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 65536;
                if (nc > SNGI_ENTRY_MAX_BYTES + 1) nc = SNGI_ENTRY_MAX_BYTES + 1;
                uint8_t *nb = nc > cap ? realloc(buf, nc) : NULL;
                if (!nb) {
                    err = nc > cap ? "out of memory" : "entry larger than 256 MiB";
                    fatal = SNGI_BAD_ENTRY;
                    break;
                }
                buf = nb;
                cap = nc;
            }
            la_ssize_t k = archive_read_data(a, buf + n, cap - n);
            if (k == 0) break;
            if (k < 0) {
                if (k == ARCHIVE_WARN) continue;
                err = archive_error_string(a);
                if (!err) err = "read error";
                if (k == ARCHIVE_FATAL) fatal = SNGI_BAD_STOP;
                break;
            }
            n += (size_t)k;
        }
        if (err) {
            char why[600];
            snprintf(why, sizeof why, "cannot read entry: %s", err);
            st = cb_bad(ctx, cb, name, p, why, fatal);
            if (st != SNG_OK || fatal == SNGI_BAD_STOP) break;
            continue;
        }
        if ((st = cb->file(cb->ud, p, buf, n)) != SNG_OK) break;
    }
    free(buf);
    return st;
}

static struct archive *archive_open_reader(void) {
    struct archive *a = archive_read_new();
    if (!a) return NULL;
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    return a;
}

sng_status sngi_walk_memory(sng_ctx *ctx, const char *name, const void *buf, size_t n,
                            const sngi_walk_cb *cb, char *kind, size_t nkind) {
    struct archive *a = archive_open_reader();
    if (!a) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st;
    if (archive_read_open_memory(a, buf, n) != ARCHIVE_OK) {
        st = archive_fail(ctx, a, name, buf, n);
    } else {
        st = walk_archive(ctx, a, name, buf, n, cb, kind, nkind);
    }
    archive_read_free(a);
    return st;
}

sng_status sngi_walk_path(sng_ctx *ctx, const char *path, const sngi_walk_cb *cb, char *kind,
                          size_t nkind) {
    /* Non-blocking open, then fstat: a FIFO or device given as a source is refused, not read. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        if (kind) snprintf(kind, nkind, "directory");
        dir_walk *dw = calloc(1, sizeof *dw);
        if (!dw) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        dw->ctx = ctx;
        dw->cb = cb;
        dw->src = path;
        if (strlen(path) >= sizeof dw->full) {
            free(dw);
            return sngi_fail(ctx, SNG_ERR_IO, "%s: path too long", path);
        }
        memcpy(dw->full, path, strlen(path) + 1);
        sng_status st = visited_add(&dw->seen, sb.st_dev, sb.st_ino) < 0
                            ? sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory")
                            : walk_dir(dw, 0);
        free(dw->seen.slot);
        free(dw->seen.used);
        free(dw->buf);
        free(dw);
        return st;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: not a regular file or directory", path);
    }
    uint8_t head[8];
    ssize_t k = pread(fd, head, sizeof head, 0);
    size_t nhead = k > 0 ? (size_t)k : 0;
    struct archive *a = archive_open_reader();
    if (!a) {
        close(fd);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    sng_status st;
    if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
        st = archive_fail(ctx, a, path, head, nhead);
    } else {
        st = walk_archive(ctx, a, path, head, nhead, cb, kind, nkind);
    }
    archive_read_free(a);
    close(fd);
    return st;
}
