/*
 * idx.c — IDX files (MNIST, Fashion-MNIST): an images file (magic 0x00000803, N x H x W
 * unsigned bytes, or 0x00000804 with a trailing channel dimension) and a labels file
 * (0x00000801, N bytes), each gzipped or not — zlib's gzread reads both transparently. Images
 * are streamed straight into the slab, so no second copy of the file is ever held.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "loaders/loader_int.h"

/* Opens a regular file for gzread without blocking (a FIFO is refused, not waited on). NULL
 * with *why set on failure. */
static gzFile idx_open(const char *path, const char **why) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        *why = "not a regular file";
        return NULL;
    }
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        *why = "out of memory";
    }
    return f;
}

int sngi_idx_sniff(const char *path) {
    const char *why;
    gzFile f = idx_open(path, &why);
    if (!f) return 0;
    uint8_t b[4];
    int n = gzread(f, b, 4);
    gzclose(f);
    /* No tar member name or archive signature starts with two zero bytes. */
    return n == 4 && b[0] == 0 && b[1] == 0 && b[2] >= 0x08 && b[2] <= 0x0e && b[3] >= 1 &&
           b[3] <= 4;
}

/* Reads the header: type and dimensions. Returns 0 or -1 with why set. */
static int idx_header(gzFile f, int *type, int *nd, uint32_t dims[4], char *why, size_t nwhy) {
    uint8_t b[4];
    if (gzread(f, b, 4) != 4 || b[0] || b[1]) {
        snprintf(why, nwhy, "not an IDX file (bad magic)");
        return -1;
    }
    *type = b[2];
    *nd = b[3];
    if (*nd < 1 || *nd > 4) {
        snprintf(why, nwhy, "IDX with %d dimensions is not supported", *nd);
        return -1;
    }
    for (int i = 0; i < *nd; i++) {
        if (gzread(f, b, 4) != 4) {
            snprintf(why, nwhy, "truncated IDX header");
            return -1;
        }
        dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    return 0;
}

/* The labels file next to an images file: "...images-idx3-ubyte..." -> "...labels-idx1-ubyte". */
static char *labels_path(const char *images) {
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *hit = strstr(base, "images");
    if (!hit) return NULL;
    size_t n = strlen(images);
    char *p = sngi_malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, images, n + 1);
    memcpy(p + (hit - images), "labels", 6);
    char *i3 = strstr(p + (base - images), "idx3");
    if (!i3) i3 = strstr(p + (base - images), "idx4");
    if (i3) i3[3] = '1';
    return p;
}

static sng_status read_labels(sng_ctx *ctx, sngi_dataset *d, const char *path, uint32_t n,
                              uint8_t **out) {
    *out = NULL;
    char why[200];
    const char *oops;
    gzFile f = idx_open(path, &oops);
    if (!f) return sngi_fail(ctx, SNG_ERR_IO, "%s: IDX labels '%s': %s", d->source, path, oops);
    int type, nd;
    uint32_t dims[4];
    sng_status st = SNG_OK;
    if (idx_header(f, &type, &nd, dims, why, sizeof why))
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: IDX labels: %s", path, why);
    else if (type != 0x08 || nd != 1)
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: IDX labels must be 1-D unsigned bytes", path);
    else if (dims[0] != n)
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: %u labels for %u images in %s", path, dims[0], n,
                       d->source);
    /* Grown as the labels arrive: a forged count costs what the file holds, not 4 GiB. */
    uint8_t *lab = NULL;
    size_t cap = 0, got = 0;
    while (st == SNG_OK && got < n) {
        if (got == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            if (nc > n) nc = n;
            uint8_t *nl = sngi_realloc(lab, nc);
            if (!nl) {
                st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
                break;
            }
            lab = nl;
            cap = nc;
        }
        int k = gzread(f, lab + got, (unsigned)(cap - got));
        if (k <= 0)
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: truncated IDX labels file: %zu of %u labels",
                           path, got, n);
        else
            got += (size_t)k;
    }
    if (st == SNG_OK && !lab && !(lab = sngi_malloc(1)))
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    gzclose(f);
    if (st != SNG_OK) {
        free(lab);
        return st;
    }
    *out = lab;
    return SNG_OK;
}

sng_status sngi_idx_load(sng_ctx *ctx, sngi_dataset *d, const sngi_dataset_opts *o) {
    char why[200];
    const char *oops;
    gzFile f = idx_open(d->source, &oops);
    if (!f) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", d->source, oops);
    int type, nd;
    uint32_t dims[4] = {0, 0, 0, 1};
    if (idx_header(f, &type, &nd, dims, why, sizeof why)) {
        gzclose(f);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: %s", d->source, why);
    }
    if (type != 0x08 || (nd != 3 && nd != 4) || (nd == 4 && dims[3] != 1 && dims[3] != 3) ||
        !dims[1] || !dims[2] || dims[1] > SNGI_IMG_MAX_SIDE || dims[2] > SNGI_IMG_MAX_SIDE ||
        (int64_t)dims[1] * dims[2] > SNGI_IMG_MAX_PIXELS) {
        gzclose(f);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: IDX images must be unsigned bytes of shape "
                         "(N, H, W) or (N, H, W, 1|3) with sides up to %d and at most %lld "
                         "pixels", d->source, SNGI_IMG_MAX_SIDE,
                         (long long)SNGI_IMG_MAX_PIXELS);
    }
    uint32_t n = dims[0];
    if (o->max_images > 0 && (int64_t)n > o->max_images) n = (uint32_t)o->max_images;
    if (n > (1u << 30)) {
        gzclose(f);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: absurd image count %u", d->source, n);
    }
    int sh = (int)dims[1], sw = (int)dims[2], sc = (int)dims[3];
    d->c = o->channels > 0 ? o->channels : sc;
    d->h = o->height > 0 ? o->height : sh;
    d->w = o->width > 0 ? o->width : sw;
    if ((d->h != sh || d->w != sw) && !o->resize) {
        gzclose(f);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: images are %dx%d, expected %dx%d (resize off)",
                         d->source, sw, sh, d->w, d->h);
    }
    d->img_bytes = (size_t)d->c * d->h * d->w;
    char *lp = o->idx_labels ? sngi_strdup(o->idx_labels) : labels_path(d->source);
    if (!lp) {
        gzclose(f);
        return sngi_fail(ctx, SNG_ERR_DATA, "%s: IDX images need a labels file (set idx_labels; "
                         "none derived from the name)", d->source);
    }
    uint8_t *lab = NULL;
    sng_status st = read_labels(ctx, d, lp, dims[0], &lab);
    free(lp);
    size_t sbytes = (size_t)sh * sw * sc;
    uint8_t *raw = st == SNG_OK ? sngi_malloc(sbytes) : NULL;
    if (st == SNG_OK && !raw)
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "%s: out of memory", d->source);
    /* The slab grows as images arrive (doubling, capped at n): a forged count in the header
     * costs at most twice what the file really holds. */
    uint32_t got = 0, cap = 0;
    for (; st == SNG_OK && got < n; got++) {
        if (got == cap) {
            uint32_t nc = cap ? (cap > n / 2 ? n : cap * 2) : (n < 1024 ? n : 1024);
            uint8_t *np = sngi_realloc(d->pix, d->img_bytes * nc);
            if (!np) {
                st = sngi_fail(ctx, SNG_ERR_NOMEM, "%s: out of memory for %u images",
                               d->source, nc);
                break;
            }
            d->pix = np;
            cap = nc;
        }
        if (gzread(f, raw, (unsigned)sbytes) != (int)sbytes) {
            if (o->strict || !o->allow_partial)
                st = sngi_fail(ctx, SNG_ERR_DATA, "%s: truncated IDX file: image %u of %u is "
                               "incomplete (data.allow_partial=1 keeps the images before it)",
                               d->source, got + 1, n);
            else
                st = sngi_dataset_skip(ctx, d, "", "truncated IDX file: %u of %u images read",
                                       got, n);
            break;
        }
        st = sngi_image_convert(raw, sc, sh, sw, d->pix + d->img_bytes * got, d->c, d->h, d->w);
        if (st != SNG_OK) st = sngi_fail(ctx, st, "out of memory");
    }
    free(raw);
    gzclose(f);
    if (st == SNG_OK && got == 0) st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no images", d->source);
    d->n_images = (int)got;
    /* Classes are the distinct label values in numeric order; images are counting-sorted by
     * label (stable, so file order within a class). */
    int count[256] = {0}, id[256], *perm = NULL;
    if (st == SNG_OK) {
        for (uint32_t i = 0; i < got; i++) count[lab[i]]++;
        int nc = 0;
        for (int v = 0; v < 256; v++) id[v] = count[v] ? nc++ : -1;
        d->n_classes = d->n_groups = nc;
        d->class_name = sngi_calloc((size_t)nc, sizeof(char *));
        d->group_name = sngi_calloc((size_t)nc, sizeof(char *));
        d->class_group = sngi_malloc(sizeof(int) * (size_t)nc);
        d->class_first = sngi_malloc(sizeof(int) * (size_t)nc);
        d->class_count = sngi_malloc(sizeof(int) * (size_t)nc);
        d->label = sngi_malloc(sizeof(int) * got);
        perm = sngi_malloc(sizeof(int) * got);
        if (!d->class_name || !d->group_name || !d->class_group || !d->class_first ||
            !d->class_count || !d->label || !perm)
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        int pos = 0;
        for (int v = 0; v < 256 && st == SNG_OK; v++) {
            if (id[v] < 0) continue;
            char nm[16];
            snprintf(nm, sizeof nm, "%d", v);
            d->class_name[id[v]] = sngi_strdup(nm);
            d->group_name[id[v]] = sngi_strdup(nm);
            if (!d->class_name[id[v]] || !d->group_name[id[v]])
                st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
            d->class_group[id[v]] = id[v];
            d->class_first[id[v]] = pos;
            d->class_count[id[v]] = count[v];
            pos += count[v];
        }
        if (st == SNG_OK) {
            int fill[256];
            for (int v = 0; v < 256; v++) fill[v] = id[v] >= 0 ? d->class_first[id[v]] : 0;
            for (uint32_t i = 0; i < got; i++) {
                perm[fill[lab[i]]++] = (int)i;
                d->label[i] = id[lab[i]];
            }
            st = sngi_dataset_permute(ctx, d, perm);
        }
    }
    if (st == SNG_OK) {
        d->class_depth = 1;
        d->prefix = sngi_strdup("");
        sngi_native *nv = &d->native[d->n_native++];
        snprintf(nv->format, sizeof nv->format, "idx");
        snprintf(nv->mode, sizeof nv->mode, sc == 1 ? "gray" : "rgb");
        nv->w = sw;
        nv->h = sh;
        nv->bits = 8;
        nv->count = (int)got;
        if (!d->prefix) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    free(perm);
    free(lab);
    return st;
}
