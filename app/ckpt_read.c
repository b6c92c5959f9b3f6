/*
 * ckpt_read.c — reading a checkpoint archive (ckpt.c describes its entries). Each entry is
 * bounded by what it must hold before a byte of it is read: model.xml and manifest.json by fixed
 * limits, each parameter by its shape in manifest.json, the optimiser state by its slots. An
 * entry that no checkpoint has, or that the manifest does not list, is refused by name.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/ckpt.h"
#include "app/manifest.h"

#define MODEL_MAX_BYTES ((size_t)256 << 20)   /* model.xml, XIncludes expanded */
#define SETTINGS_MAX_BYTES ((size_t)1 << 20)  /* settings.txt */
#define MANIFEST_MAX_BYTES ((size_t)64 << 20)
#define NPY_OVERHEAD ((size_t)65536 + 12)      /* the longest .npy header the parser takes */

void sngi_ckpt_free(sngi_ckpt *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->names[i]);
        free(c->data[i]);
    }
    free(c->names);
    free(c->data);
    free(c->sizes);
    free(c);
}

const void *sngi_ckpt_entry(const sngi_ckpt *c, const char *name, size_t *len) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0) {
            if (len) *len = c->sizes[i];
            return c->data[i];
        }
    return NULL;
}

/* The most bytes the entry may hold, from what it must contain; 0 for an entry that no
 * checkpoint has (refused). man is NULL before manifest.json has been read. */
static size_t entry_cap(const char *name, const sngi_manifest *man) {
    if (!strcmp(name, "model.xml")) return MODEL_MAX_BYTES;
    if (!strcmp(name, "settings.txt")) return SETTINGS_MAX_BYTES; /* --set overrides */
    if (!man) return 0; /* only model.xml comes before the manifest */
    if (!strcmp(name, "manifest.json")) return 0;
    if (!strcmp(name, "END")) return 64;
    if (!strcmp(name, "optim/state.npy"))
        return NPY_OVERHEAD + (size_t)man->opt_slots * man->total * 4;
    size_t nl = strlen(name);
    if (nl > 11 && !strncmp(name, "params/", 7) && !strcmp(name + nl - 4, ".npy")) {
        char *pname = strndup(name + 7, nl - 11);
        const sngi_manifest_param *p = pname ? sngi_manifest_find(man, pname) : NULL;
        free(pname);
        return p ? NPY_OVERHEAD + p->numel * 4 : 0;
    }
    return 0;
}

/* Reads the opened archive a (and frees it); path names it in messages. */
static sng_status read_archive(sng_ctx *ctx, const char *path, struct archive *a,
                               sngi_ckpt **out) {
    sngi_ckpt *c = calloc(1, sizeof *c);
    sng_status st = c ? SNG_OK : sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sngi_manifest man = {0};
    int have_man = 0;
    struct archive_entry *e;
    int r = ARCHIVE_OK;
    while (!st && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        la_int64_t size = archive_entry_size(e);
        if (!name || !*name) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: entry %d has no name", path, c->n + 1);
            break;
        }
        if (sngi_ckpt_entry(c, name, NULL)) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: entry '%s' appears twice", path, name);
            break;
        }
        /* Bound the entry by what it must hold before reading a byte of it. */
        size_t cap = !have_man && !strcmp(name, "manifest.json") ? MANIFEST_MAX_BYTES
                                                                 : entry_cap(name, have_man ? &man : NULL);
        if (!cap) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: unexpected entry '%s' (not part of an sngraph "
                                              "checkpoint, or not listed in its manifest.json)",
                           path, name);
            break;
        }
        if (archive_entry_filetype(e) != AE_IFREG || size < 0 || (uint64_t)size > cap) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: entry '%s' has a bad type or size (%lld bytes, "
                                              "at most %zu)",
                           path, name, (long long)size, cap);
            break;
        }
        char **nn = realloc(c->names, sizeof(char *) * (size_t)(c->n + 1));
        if (nn) c->names = nn;
        void **dd = realloc(c->data, sizeof(void *) * (size_t)(c->n + 1));
        if (dd) c->data = dd;
        size_t *ss = realloc(c->sizes, sizeof(size_t) * (size_t)(c->n + 1));
        if (ss) c->sizes = ss;
        void *buf = malloc((size_t)size + 1);
        char *nm = strdup(name);
        if (!nn || !dd || !ss || !buf || !nm) {
            free(buf);
            free(nm);
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
            break;
        }
        la_ssize_t got = archive_read_data(a, buf, (size_t)size);
        if (got != size) {
            free(buf);
            free(nm);
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: entry '%s' is truncated (%lld of %lld bytes)",
                           path, name, (long long)(got < 0 ? 0 : got), (long long)size);
            break;
        }
        ((char *)buf)[size] = 0;
        c->names[c->n] = nm;
        c->data[c->n] = buf;
        c->sizes[c->n] = (size_t)size;
        c->n++;
        if (!strcmp(name, "manifest.json")) {
            if (memchr(buf, 0, (size_t)size))
                st = sngi_fail(ctx, SNG_ERR_DATA, "%s: manifest.json holds a NUL byte", path);
            else if (!(st = sngi_manifest_parse(ctx, path, buf, &man)))
                have_man = 1;
        }
    }
    if (!st && r != ARCHIVE_EOF)
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: corrupt or truncated checkpoint: %s", path,
                       archive_error_string(a) ? archive_error_string(a) : "read error");
    archive_read_free(a);
    sngi_manifest_free(&man);
    if (!st && sngi_ckpt_entry(c, "manifest.json", NULL) && !sngi_ckpt_entry(c, "END", NULL))
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: truncated checkpoint (%d entries, no end marker)",
                       path, c->n);
    if (!st && (!sngi_ckpt_entry(c, "manifest.json", NULL) || !sngi_ckpt_entry(c, "model.xml", NULL)))
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: not an sngraph checkpoint (no manifest.json or "
                                          "model.xml)",
                       path);
    if (st) {
        sngi_ckpt_free(c);
        return st;
    }
    *out = c;
    return SNG_OK;
}

/* Finds `"key":` in the manifest and parses the number after it. */
double sngi_ckpt_num(const sngi_ckpt *c, const char *key, double def) {
    const char *m = sngi_ckpt_entry(c, "manifest.json", NULL);
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = m ? strstr(m, pat) : NULL;
    if (!p) return def;
    char *end;
    double v = strtod(p + strlen(pat), &end);
    return end == p + strlen(pat) ? def : v; /* null: absent */
}

static struct archive *new_reader(void) {
    struct archive *a = archive_read_new();
    if (a) {
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
    }
    return a;
}

sng_status sngi_ckpt_read(sng_ctx *ctx, const char *path, sngi_ckpt **out) {
    *out = NULL;
    /* O_NONBLOCK so that a FIFO is refused instead of blocking the open. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot open checkpoint: %s", path,
                                 strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: not a regular file", path);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct archive *a = new_reader();
    if (!a) {
        close(fd);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    sng_status st;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
        st = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot open checkpoint: %s", path,
                       archive_error_string(a));
        archive_read_free(a);
    } else {
        st = read_archive(ctx, path, a, out);
    }
    close(fd); /* libarchive leaves descriptors it was given open */
    return st;
}

sng_status sngi_ckpt_read_memory(sng_ctx *ctx, const char *name, const void *data, size_t len,
                                 sngi_ckpt **out) {
    *out = NULL;
    struct archive *a = new_reader();
    if (!a) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        sng_status st = sngi_fail(ctx, SNG_ERR_DATA, "%s: cannot open checkpoint: %s", name,
                                  archive_error_string(a));
        archive_read_free(a);
        return st;
    }
    return read_archive(ctx, name, a, out);
}
