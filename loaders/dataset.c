/*
 * dataset.c — turns a walked source into a dataset: decodes each image once to uint8 (C,H,W) at
 * the target size into one slab, then works out the layout (common prefix, class depth, classes
 * and groups), sorts images by (class, entry path) in place so that image ids do not depend on
 * archive order, and records every entry it could not use with the reason.
 *
 * Memory: the slab grows by 1.5x while reading (glibc realloc of large blocks remaps pages rather
 * than copying) and is shrunk to the exact size at the end; per image we add an int label and the
 * entry path, so the dataset stays well under 1.2x the decoded pixel bytes for real images.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loaders/loader_int.h"

void sngi_dataset_opts_init(sngi_dataset_opts *o) {
    memset(o, 0, sizeof *o);
    o->resize = 1;
    o->scale = 1.0f / 255.0f;
    o->mean = 0.0f;
    o->std = 1.0f;
}

sng_status sngi_dataset_skip(sng_ctx *ctx, sngi_dataset *d, const char *entry, const char *fmt,
                             ...) {
    if (d->n_skips == d->cap_skips) {
        int nc = d->cap_skips ? d->cap_skips * 2 : 16;
        sngi_skip *ns = sngi_realloc(d->skips, sizeof *ns * (size_t)nc);
        if (!ns) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        d->skips = ns;
        d->cap_skips = nc;
    }
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    sngi_skip *s = &d->skips[d->n_skips];
    s->entry = sngi_strdup(entry ? entry : "");
    s->reason = sngi_strdup(why);
    if (!s->entry || !s->reason) {
        free(s->entry);
        free(s->reason);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    d->n_skips++;
    return SNG_OK;
}

void sngi_dataset_free(sngi_dataset *d) {
    if (!d) return;
    free(d->source);
    free(d->pix);
    free(d->label);
    if (d->entry)
        for (int i = 0; i < d->n_images; i++) free(d->entry[i]);
    free(d->entry);
    free(d->by_path);
    if (d->class_name)
        for (int i = 0; i < d->n_classes; i++) free(d->class_name[i]);
    free(d->class_name);
    free(d->class_group);
    free(d->class_first);
    free(d->class_count);
    if (d->group_name)
        for (int i = 0; i < d->n_groups; i++) free(d->group_name[i]);
    free(d->group_name);
    free(d->prefix);
    for (int i = 0; i < d->n_skips; i++) {
        free(d->skips[i].entry);
        free(d->skips[i].reason);
    }
    free(d->skips);
    free(d->pairs);
    free(d);
}

/* ---- reading --------------------------------------------------------------------------------- */
typedef struct load_st {
    sng_ctx *ctx;
    sngi_dataset *d;
    const sngi_dataset_opts *o;
    int cap_images;
    char **dirs;          /* folders seen (for empty classes), owned */
    int n_dirs, cap_dirs;
    char *csv;            /* the pairs CSV when found inside the source, owned */
    size_t csv_n;
    int want_csv_entry;
    char last_entry[4096]; /* the last file read, to place a break in an archive */
} load_st;

/* A bad entry: fails the load in strict mode, otherwise is recorded and skipped. */
static sng_status entry_bad(load_st *ls, const char *path, const char *why) {
    if (ls->o->strict)
        return sngi_fail(ls->ctx, SNG_ERR_DATA, "%s: entry '%s': %s", ls->d->source, path, why);
    return sngi_dataset_skip(ls->ctx, ls->d, path, "%s", why);
}

/* A broken archive loses data, so unlike a bad image it fails the load unless the caller
 * accepts partial data (allow_partial), even when not strict. */
static sng_status on_bad(void *ud, const char *path, const char *why, int fatal) {
    load_st *ls = ud;
    int partial = ls->o->allow_partial && !ls->o->strict;
    if (!path) {
        if (!partial)
            return sngi_fail(ls->ctx, SNG_ERR_DATA, "%s: corrupt or truncated after entry '%s': "
                             "%s (data.allow_partial=1 keeps the entries before it)",
                             ls->d->source, ls->last_entry, why);
        return sngi_dataset_skip(ls->ctx, ls->d, "", "archive unreadable from here on (%s): "
                                 "later entries are missing", why);
    }
    if (fatal == SNGI_BAD_ENTRY) return entry_bad(ls, path, why);
    if (!partial)
        return sngi_fail(ls->ctx, SNG_ERR_DATA, "%s: entry '%s': %s (corrupt or truncated "
                         "archive; data.allow_partial=1 keeps the entries before it)",
                         ls->d->source, path, why);
    if (fatal == SNGI_BAD_STOP)
        return sngi_dataset_skip(ls->ctx, ls->d, path, "%s; archive unreadable from here on: "
                                 "later entries are missing", why);
    return sngi_dataset_skip(ls->ctx, ls->d, path, "%s", why);
}

static sng_status on_dir(void *ud, const char *path) {
    load_st *ls = ud;
    if (ls->n_dirs == ls->cap_dirs) {
        int nc = ls->cap_dirs ? ls->cap_dirs * 2 : 64;
        char **nd = sngi_realloc(ls->dirs, sizeof(char *) * (size_t)nc);
        if (!nd) return sngi_fail(ls->ctx, SNG_ERR_NOMEM, "out of memory");
        ls->dirs = nd;
        ls->cap_dirs = nc;
    }
    if (!(ls->dirs[ls->n_dirs] = sngi_strdup(path)))
        return sngi_fail(ls->ctx, SNG_ERR_NOMEM, "out of memory");
    ls->n_dirs++;
    return SNG_OK;
}

static void native_count(sngi_dataset *d, const sngi_image *im) {
    for (int i = 0; i < d->n_native; i++) {
        sngi_native *n = &d->native[i];
        if (n->w == im->w && n->h == im->h && n->bits == im->bits &&
            !strcmp(n->format, im->format) && !strcmp(n->mode, im->mode)) {
            n->count++;
            return;
        }
    }
    if (d->n_native == (int)(sizeof d->native / sizeof d->native[0])) {
        d->n_native_other++;
        return;
    }
    sngi_native *n = &d->native[d->n_native++];
    snprintf(n->format, sizeof n->format, "%s", im->format);
    snprintf(n->mode, sizeof n->mode, "%s", im->mode);
    n->w = im->w;
    n->h = im->h;
    n->bits = im->bits;
    n->count = 1;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static sng_status on_file(void *ud, const char *path, const uint8_t *data, size_t n) {
    load_st *ls = ud;
    sngi_dataset *d = ls->d;
    /* The pairs list (by name) is never an image: read it when it is not a file on disk. */
    if (ls->o->pairs_csv && (!strcmp(path, ls->o->pairs_csv) ||
                             !strcmp(base_name(path), base_name(ls->o->pairs_csv)))) {
        if (!ls->want_csv_entry || ls->csv) return SNG_OK;
        if (!(ls->csv = sngi_malloc(n + 1))) return sngi_fail(ls->ctx, SNG_ERR_NOMEM, "out of memory");
        memcpy(ls->csv, data, n);
        ls->csv[n] = 0;
        ls->csv_n = n;
        return SNG_OK;
    }
    if (ls->o->max_images > 0 && d->n_images >= ls->o->max_images) return SNG_ERR_INTERRUPTED;
    size_t lp = strlen(path);
    if (lp < sizeof ls->last_entry) memcpy(ls->last_entry, path, lp + 1);
    char why[512];
    sngi_image im;
    sng_status st = sngi_decode_image(data, n, &im, why, sizeof why);
    if (st == SNG_ERR_NOMEM) return sngi_fail(ls->ctx, st, "%s: entry '%s': %s", d->source, path, why);
    if (st != SNG_OK) return entry_bad(ls, path, why);
    if (!strchr(path, '/')) {
        free(im.pix);
        return entry_bad(ls, path, "image outside any class folder");
    }
    native_count(d, &im);
    if (!d->c) { /* the first image fixes what the options leave open */
        d->c = ls->o->channels > 0 ? ls->o->channels : (im.c == 1 ? 1 : 3);
        d->h = ls->o->height > 0 ? ls->o->height : im.h;
        d->w = ls->o->width > 0 ? ls->o->width : im.w;
        d->img_bytes = (size_t)d->c * d->h * d->w;
    }
    int sized = ls->o->height > 0 && ls->o->width > 0 && ls->o->resize;
    if (!sized && (im.w != d->w || im.h != d->h)) {
        snprintf(why, sizeof why, "wrong size %dx%d (width x height), expected %dx%d", im.w, im.h,
                 d->w, d->h);
        free(im.pix);
        return entry_bad(ls, path, why);
    }
    if (d->n_images == ls->cap_images) {
        int nc = ls->cap_images < 64 ? 64 : ls->cap_images + ls->cap_images / 2;
        uint8_t *np = sngi_realloc(d->pix, d->img_bytes * (size_t)nc);
        char **ne = np ? sngi_realloc(d->entry, sizeof(char *) * (size_t)nc) : NULL;
        if (np) d->pix = np;
        if (ne) d->entry = ne;
        if (!np || !ne) {
            free(im.pix);
            return sngi_fail(ls->ctx, SNG_ERR_NOMEM, "%s: out of memory after %d images",
                             d->source, d->n_images);
        }
        ls->cap_images = nc;
    }
    st = sngi_image_convert(im.pix, im.c, im.h, im.w, d->pix + d->img_bytes * d->n_images, d->c,
                            d->h, d->w);
    free(im.pix);
    if (st != SNG_OK) return sngi_fail(ls->ctx, st, "out of memory");
    if (!(d->entry[d->n_images] = sngi_strdup(path)))
        return sngi_fail(ls->ctx, SNG_ERR_NOMEM, "out of memory");
    d->n_images++;
    return SNG_OK;
}

/* ---- layout ---------------------------------------------------------------------------------- */
sng_status sngi_dataset_permute(sng_ctx *ctx, sngi_dataset *d, const int *perm) {
    int n = d->n_images;
    uint8_t *tmp = sngi_malloc(d->img_bytes), *done = sngi_calloc((size_t)n, 1);
    int *lab = d->label ? sngi_malloc(sizeof(int) * (size_t)n) : NULL;
    char **ent = d->entry ? sngi_malloc(sizeof(char *) * (size_t)n) : NULL;
    if (!tmp || !done || (d->label && !lab) || (d->entry && !ent)) {
        free(tmp);
        free(done);
        free(lab);
        free(ent);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        if (lab) lab[i] = d->label[perm[i]];
        if (ent) ent[i] = d->entry[perm[i]];
    }
    /* Follow each cycle of the permutation, holding one image aside. */
    size_t b = d->img_bytes;
    for (int i = 0; i < n; i++) {
        if (done[i] || perm[i] == i) continue;
        memcpy(tmp, d->pix + b * i, b);
        int j = i;
        for (;;) {
            done[j] = 1;
            int k = perm[j];
            if (k == i) {
                memcpy(d->pix + b * j, tmp, b);
                break;
            }
            memcpy(d->pix + b * j, d->pix + b * k, b);
            j = k;
        }
    }
    if (lab) {
        free(d->label);
        d->label = lab;
    }
    if (ent) {
        free(d->entry);
        d->entry = ent;
    }
    free(tmp);
    free(done);
    return SNG_OK;
}

typedef struct img_key {
    int idx;
    const char *path;
    int cofs, clen;   /* class key: path[cofs, cofs+clen) */
    int glen;         /* group key: path[cofs, cofs+glen) */
    int keep;
} img_key;

static int key_cmp(const void *pa, const void *pb) {
    const img_key *a = pa, *b = pb;
    if (a->keep != b->keep) return b->keep - a->keep; /* dropped images last */
    if (!a->keep) return a->idx - b->idx;
    int m = a->clen < b->clen ? a->clen : b->clen;
    int c = memcmp(a->path + a->cofs, b->path + b->cofs, (size_t)m);
    if (c) return c;
    if (a->clen != b->clen) return a->clen - b->clen;
    return strcmp(a->path, b->path);
}

static int n_dirs_of(const char *p) {
    int k = 0;
    for (; *p; p++) k += *p == '/';
    return k;
}

/* Offset just past the first `k` components of p (p[ofs] is '/' or NUL). */
static int comp_end(const char *p, int k) {
    int i = 0;
    for (int c = 0; c < k; c++) {
        while (p[i] && p[i] != '/') i++;
        if (c + 1 < k && p[i]) i++;
    }
    return i;
}

static int str_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Classes and groups from entry paths: see doc/loaders.md, "Layouts". */
static sng_status finish_layout(load_st *ls) {
    sng_ctx *ctx = ls->ctx;
    sngi_dataset *d = ls->d;
    int n = d->n_images;
    /* D: the most common folder depth of images (ties: the deeper). */
    int hist[64] = {0}, D = 1;
    for (int i = 0; i < n; i++) {
        int k = n_dirs_of(d->entry[i]);
        hist[k < 63 ? k : 63]++;
    }
    for (int k = 1; k < 64; k++)
        if (hist[k] && hist[k] >= hist[D]) D = k;
    /* P: leading folders shared by every image at least D deep (capped to leave a class). */
    const char *ref = NULL;
    int P = 0;
    for (int i = 0; i < n; i++)
        if (n_dirs_of(d->entry[i]) >= D) {
            ref = d->entry[i];
            break;
        }
    int depth = ls->o->class_depth;
    int pmax = depth > 0 ? D - depth : D - 1;
    if (pmax < 0) pmax = 0;
    while (P < pmax) {
        int e = comp_end(ref, P + 1);
        int all = 1;
        for (int i = 0; i < n && all; i++) {
            const char *p = d->entry[i];
            if (n_dirs_of(p) < D) continue;
            all = !strncmp(p, ref, (size_t)e) && p[e] == '/';
        }
        if (!all) break;
        P++;
    }
    if (depth <= 0) depth = D - P >= 2 ? 2 : 1;
    d->class_depth = depth;
    int pe = P ? comp_end(ref, P) : 0;
    if (!(d->prefix = sngi_malloc((size_t)pe + 1))) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    memcpy(d->prefix, ref, (size_t)pe);
    d->prefix[pe] = 0;

    img_key *keys = sngi_calloc((size_t)n, sizeof *keys);
    int *perm = sngi_malloc(sizeof(int) * (size_t)n);
    if (!keys || !perm) {
        free(keys);
        free(perm);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    sng_status st = SNG_OK;
    int kept = 0;
    for (int i = 0; i < n && st == SNG_OK; i++) {
        img_key *k = &keys[i];
        k->idx = i;
        k->path = d->entry[i];
        int nd = n_dirs_of(k->path);
        k->keep = nd >= P + depth && !strncmp(k->path, d->prefix, (size_t)pe) &&
                  (pe == 0 || k->path[pe] == '/');
        if (!k->keep) {
            char why[200];
            snprintf(why, sizeof why, "not inside a class folder (class depth %d below '%s')",
                     depth, d->prefix);
            st = entry_bad(ls, k->path, why);
            continue;
        }
        k->cofs = pe ? pe + 1 : 0;
        const char *c = k->path + k->cofs;
        k->clen = comp_end(c, depth);
        k->glen = depth >= 2 ? comp_end(c, depth - 1) : k->clen;
        kept++;
    }
    if (st == SNG_OK && kept == 0)
        st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no image inside a class folder (class depth %d)",
                       d->source, depth);
    if (st != SNG_OK) {
        free(keys);
        free(perm);
        return st;
    }
    qsort(keys, (size_t)n, sizeof *keys, key_cmp);
    for (int i = 0; i < n; i++) perm[i] = keys[i].idx;
    /* Classes in sorted order, groups sorted by name. */
    int nc = 0;
    for (int i = 0; i < kept; i++)
        if (i == 0 || keys[i].clen != keys[i - 1].clen ||
            memcmp(keys[i].path + keys[i].cofs, keys[i - 1].path + keys[i - 1].cofs,
                   (size_t)keys[i].clen))
            nc++;
    d->class_name = sngi_calloc((size_t)nc, sizeof(char *));
    d->class_group = sngi_calloc((size_t)nc, sizeof(int));
    d->class_first = sngi_calloc((size_t)nc, sizeof(int));
    d->class_count = sngi_calloc((size_t)nc, sizeof(int));
    d->label = sngi_malloc(sizeof(int) * (size_t)n);
    char **gnames = sngi_calloc((size_t)nc, sizeof(char *));
    if (!d->class_name || !d->class_group || !d->class_first || !d->class_count || !d->label ||
        !gnames) {
        free(keys);
        free(perm);
        free(gnames);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    d->n_classes = nc;
    int c = -1;
    for (int i = 0; i < kept; i++) {
        const img_key *k = &keys[i];
        if (c < 0 || strlen(d->class_name[c]) != (size_t)k->clen ||
            memcmp(d->class_name[c], k->path + k->cofs, (size_t)k->clen)) {
            c++;
            d->class_name[c] = strndup(k->path + k->cofs, (size_t)k->clen);
            gnames[c] = strndup(k->path + k->cofs, (size_t)k->glen);
            if (!d->class_name[c] || !gnames[c]) st = SNG_ERR_NOMEM;
            d->class_first[c] = i;
        }
        d->class_count[c]++;
    }
    for (int i = 0; i < n; i++) d->label[keys[i].idx] = -1;
    for (int cc = 0; cc < nc; cc++)
        for (int j = 0; j < d->class_count[cc]; j++) d->label[keys[d->class_first[cc] + j].idx] = cc;
    free(keys);
    if (st == SNG_OK) st = sngi_dataset_permute(ctx, d, perm);
    free(perm);
    if (st == SNG_OK) {
        /* Drop the images that belong to no class (they sort last). */
        for (int i = kept; i < n; i++) free(d->entry[i]);
        d->n_images = kept;
        uint8_t *np = realloc(d->pix, d->img_bytes * (size_t)kept);
        if (np) d->pix = np;
        char **ne = realloc(d->entry, sizeof(char *) * (size_t)kept);
        if (ne) d->entry = ne;
        /* Unique sorted group names; each class points at its group. */
        char **gs = sngi_malloc(sizeof(char *) * (size_t)nc);
        if (!gs) st = SNG_ERR_NOMEM;
        else {
            memcpy(gs, gnames, sizeof(char *) * (size_t)nc);
            qsort(gs, (size_t)nc, sizeof(char *), str_cmp);
            int ng = 0;
            for (int i = 0; i < nc; i++)
                if (!ng || strcmp(gs[ng - 1], gs[i])) gs[ng++] = gs[i];
            d->group_name = sngi_calloc((size_t)ng, sizeof(char *));
            if (!d->group_name) st = SNG_ERR_NOMEM;
            for (int i = 0; i < ng && st == SNG_OK; i++)
                if (!(d->group_name[i] = sngi_strdup(gs[i]))) st = SNG_ERR_NOMEM;
            d->n_groups = ng;
            for (int i = 0; i < nc && st == SNG_OK; i++) {
                char **hit = bsearch(&gnames[i], d->group_name, (size_t)ng, sizeof(char *),
                                     str_cmp);
                d->class_group[i] = hit ? (int)(hit - d->group_name) : 0;
            }
            free(gs);
        }
    }
    for (int i = 0; i < nc; i++) free(gnames[i]);
    free(gnames);
    if (st == SNG_ERR_NOMEM) return sngi_fail(ctx, st, "out of memory");
    return st;
}

static const sngi_dataset *sort_ds; /* qsort has no context argument; loads are serialised */
static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static int path_cmp(const void *a, const void *b) {
    return strcmp(sort_ds->entry[*(const int *)a], sort_ds->entry[*(const int *)b]);
}

/* Image ids sorted by entry path, so a pairs list of any length resolves in n log n. */
static sng_status index_paths(sng_ctx *ctx, sngi_dataset *d) {
    if (!(d->by_path = sngi_malloc(sizeof(int) * (size_t)d->n_images)))
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < d->n_images; i++) d->by_path[i] = i;
    pthread_mutex_lock(&sort_mu);
    sort_ds = d;
    qsort(d->by_path, (size_t)d->n_images, sizeof(int), path_cmp);
    pthread_mutex_unlock(&sort_mu);
    return SNG_OK;
}

/* Folders at class level holding no usable image, and classes of a single image. */
static sng_status check_classes(load_st *ls) {
    sngi_dataset *d = ls->d;
    size_t pe = strlen(d->prefix);
    sng_status st = SNG_OK;
    for (int i = 0; i < ls->n_dirs && st == SNG_OK; i++) {
        const char *p = ls->dirs[i];
        if (pe && (strncmp(p, d->prefix, pe) || p[pe] != '/')) continue;
        const char *c = p + (pe ? pe + 1 : 0);
        if (pe && !strcmp(p, d->prefix)) continue;
        if (n_dirs_of(c) + 1 != d->class_depth) continue;
        int found = 0;
        for (int k = 0; k < d->n_classes && !found; k++) found = !strcmp(d->class_name[k], c);
        if (found) continue;
        if (d->strict)
            st = sngi_fail(ls->ctx, SNG_ERR_DATA, "%s: class '%s' is empty (no usable image in "
                           "folder '%s')", d->source, c, p);
        else
            st = sngi_dataset_skip(ls->ctx, d, p, "empty class '%s': no usable image", c);
    }
    for (int k = 0; k < d->n_classes && st == SNG_OK; k++) {
        if (d->class_count[k] != 1) continue;
        if (d->strict)
            st = sngi_fail(ls->ctx, SNG_ERR_DATA, "%s: class '%s' has a single image ('%s'): no "
                           "positive pair", d->source, d->class_name[k],
                           d->entry[d->class_first[k]]);
        else
            st = sngi_dataset_skip(ls->ctx, d, d->entry[d->class_first[k]], "class '%s' has a "
                                   "single image: kept for negatives only", d->class_name[k]);
    }
    return st;
}

/* Reads the pairs CSV (from disk when such a file exists, else the captured entry). */
static sng_status load_pairs(load_st *ls) {
    const sngi_dataset_opts *o = ls->o;
    if (!o->pairs_csv) return SNG_OK;
    if (ls->csv) return sngi_pairs_csv_parse(ls->ctx, ls->d, o->pairs_csv, ls->csv, ls->csv_n);
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    const char *why = sngi_read_regular(o->pairs_csv, &buf, &cap, &n);
    if (why) {
        free(buf);
        return sngi_fail(ls->ctx, SNG_ERR_IO, "%s: pairs list '%s' is neither a readable file "
                         "(%s) nor an entry of the source", ls->d->source, o->pairs_csv, why);
    }
    char *text = (char *)buf;
    text[n] = 0;
    sng_status st = sngi_pairs_csv_parse(ls->ctx, ls->d, o->pairs_csv, text, n);
    free(text);
    return st;
}

static sng_status load_common(sng_ctx *ctx, const sngi_dataset_opts *o, const char *name,
                              const void *mem, size_t mem_n, sngi_dataset **out) {
    *out = NULL;
    if (!o || !name)
        return sngi_fail(ctx, SNG_ERR_USAGE, "sngi_dataset_load: no source given");
    if (o->channels != 0 && o->channels != 1 && o->channels != 3)
        return sngi_fail(ctx, SNG_ERR_USAGE, "%s: channels must be 1 or 3 (got %d)", name,
                         o->channels);
    if (o->height < 0 || o->width < 0 || o->height > SNGI_IMG_MAX_SIDE ||
        o->width > SNGI_IMG_MAX_SIDE || (o->height > 0) != (o->width > 0))
        return sngi_fail(ctx, SNG_ERR_USAGE, "%s: bad target size %dx%d", name, o->height,
                         o->width);
    if (!(o->std > 0) || !(o->scale > 0))
        return sngi_fail(ctx, SNG_ERR_USAGE, "%s: scale and std must be > 0", name);
    sngi_dataset *d = sngi_calloc(1, sizeof *d);
    if (!d || !(d->source = sngi_strdup(name))) {
        free(d);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    d->scale = o->scale;
    d->mean = o->mean;
    d->std = o->std;
    d->strict = o->strict;
    sng_status st;
    if (!mem && sngi_idx_sniff(name)) {
        snprintf(d->kind, sizeof d->kind, "IDX");
        st = sngi_idx_load(ctx, d, o);
        if (st == SNG_OK) *out = d;
        else sngi_dataset_free(d);
        return st;
    }
    load_st ls = {.ctx = ctx, .d = d, .o = o};
    if (o->pairs_csv) {
        struct stat sb;
        ls.want_csv_entry = stat(o->pairs_csv, &sb) != 0;
    }
    sngi_walk_cb cb = {&ls, on_file, on_dir, on_bad};
    st = mem ? sngi_walk_memory(ctx, name, mem, mem_n, &cb, d->kind, sizeof d->kind)
             : sngi_walk_path(ctx, name, &cb, d->kind, sizeof d->kind);
    if (st == SNG_ERR_INTERRUPTED) st = SNG_OK; /* max_images reached */
    if (st == SNG_OK && d->n_images == 0) {
        if (d->n_skips)
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no usable image (%d entries skipped; first: "
                           "'%s': %s)", name, d->n_skips, d->skips[0].entry, d->skips[0].reason);
        else
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no images found", name);
    }
    if (st == SNG_OK) st = finish_layout(&ls);
    if (st == SNG_OK) st = index_paths(ctx, d);
    if (st == SNG_OK) st = check_classes(&ls);
    if (st == SNG_OK) st = load_pairs(&ls);
    for (int i = 0; i < ls.n_dirs; i++) free(ls.dirs[i]);
    free(ls.dirs);
    free(ls.csv);
    if (st != SNG_OK) {
        sngi_dataset_free(d);
        return st;
    }
    *out = d;
    return SNG_OK;
}

sng_status sngi_dataset_load(sng_ctx *ctx, const sngi_dataset_opts *o, sngi_dataset **out) {
    if (out) *out = NULL;
    if (!out) return sngi_fail(ctx, SNG_ERR_USAGE, "sngi_dataset_load: out is NULL");
    return load_common(ctx, o, o ? o->source : NULL, NULL, 0, out);
}

sng_status sngi_dataset_load_memory(sng_ctx *ctx, const char *name, const void *buf, size_t n,
                                    const sngi_dataset_opts *o, sngi_dataset **out) {
    return load_common(ctx, o, name, buf ? buf : "", n, out);
}

/* ---- accessors ------------------------------------------------------------------------------- */
int sngi_dataset_n_images(const sngi_dataset *d) { return d->n_images; }
int sngi_dataset_n_classes(const sngi_dataset *d) { return d->n_classes; }
int sngi_dataset_n_groups(const sngi_dataset *d) { return d->n_groups; }
void sngi_dataset_shape(const sngi_dataset *d, int *c, int *h, int *w) {
    if (c) *c = d->c;
    if (h) *h = d->h;
    if (w) *w = d->w;
}
const char *sngi_dataset_class_name(const sngi_dataset *d, int cls) { return d->class_name[cls]; }
int sngi_dataset_class_group(const sngi_dataset *d, int cls) { return d->class_group[cls]; }
const char *sngi_dataset_group_name(const sngi_dataset *d, int g) { return d->group_name[g]; }
int sngi_dataset_class_first(const sngi_dataset *d, int cls) { return d->class_first[cls]; }
int sngi_dataset_class_count(const sngi_dataset *d, int cls) { return d->class_count[cls]; }
int sngi_dataset_label(const sngi_dataset *d, int img) { return d->label[img]; }
const uint8_t *sngi_dataset_pixels(const sngi_dataset *d, int img) {
    return d->pix + d->img_bytes * (size_t)img;
}
const char *sngi_dataset_entry(const sngi_dataset *d, int img) {
    return d->entry ? d->entry[img] : NULL;
}
int sngi_dataset_class_depth(const sngi_dataset *d) { return d->class_depth; }
int64_t sngi_dataset_pixel_bytes(const sngi_dataset *d) {
    return (int64_t)d->img_bytes * d->n_images;
}
int64_t sngi_dataset_total_bytes(const sngi_dataset *d) {
    /* malloc rounds each block up and keeps a header: count 16 bytes per string. */
    int64_t t = (int64_t)sizeof *d + sngi_dataset_pixel_bytes(d) + (int64_t)sizeof(int) * d->n_images;
    if (d->entry) {
        t += (int64_t)sizeof(char *) * d->n_images;
        for (int i = 0; i < d->n_images; i++) t += (int64_t)strlen(d->entry[i]) + 1 + 16;
    }
    for (int i = 0; i < d->n_classes; i++)
        t += (int64_t)strlen(d->class_name[i]) + 1 + 16 + 3 * sizeof(int) + sizeof(char *);
    for (int i = 0; i < d->n_groups; i++) t += (int64_t)strlen(d->group_name[i]) + 1 + 16 + 8;
    t += (int64_t)sizeof(sngi_pair) * d->n_pairs;
    return t;
}
int sngi_dataset_n_skipped(const sngi_dataset *d) { return d->n_skips; }
void sngi_dataset_skipped(const sngi_dataset *d, int i, const char **entry, const char **reason) {
    if (entry) *entry = d->skips[i].entry;
    if (reason) *reason = d->skips[i].reason;
}

int sngi_dataset_find(const sngi_dataset *d, const char *path) {
    if (!d->by_path || !path) return -1;
    while (path[0] == '.' && path[1] == '/') path += 2;
    /* The path as given, then with 1, 2, ... leading folders of the common prefix in front:
     * "c01/x.png", "G0/c01/x.png" and "top/G0/c01/x.png" all name the same entry. */
    size_t pe = strlen(d->prefix), pl = strlen(path);
    char *cand = malloc(pe + pl + 2);
    if (!cand) return -1;
    int found = -1;
    for (size_t k = 0; found < 0;) {
        if (k) {
            memcpy(cand, d->prefix, k);
            cand[k] = '/';
            memcpy(cand + k + 1, path, pl + 1);
        } else {
            memcpy(cand, path, pl + 1);
        }
        int lo = 0, hi = d->n_images - 1;
        while (lo <= hi) {
            int mid = (lo + hi) / 2, c = strcmp(d->entry[d->by_path[mid]], cand);
            if (!c) {
                found = d->by_path[mid];
                break;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        if (k == pe) break;
        do k++; while (k < pe && d->prefix[k] != '/');
    }
    free(cand);
    return found;
}
