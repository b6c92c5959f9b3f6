/*
 * split.c — train / validation / test subsets. The default is class-disjoint (one-shot learning
 * is tested on classes never seen in training): classes — or whole groups, such as Omniglot
 * alphabets — are shuffled with the seed and cut by fractions, or assigned by name lists and
 * glob patterns. An image-level split (every class in every set) is there for verification
 * on known identities.
 *
 * Determinism: units start in name order (class ids and group ids are sorted by name) and are
 * shuffled by Fisher-Yates with sngi_rng seeded by `seed`; image-level splits shuffle each
 * class's images with the seed mixed with the class id. Same dataset + options = same split.
 */
#include "config.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

struct sngi_subset {
    const sngi_dataset *d;  /* borrowed */
    int n_classes;
    int *classes;          /* dataset class ids, ascending */
    int *first, *count;    /* each class's images: img[first[i] .. first[i]+count[i]) */
    int *img;
    int64_t n_img;
};

void sngi_split_opts_init(sngi_split_opts *o) {
    memset(o, 0, sizeof *o);
    o->frac[0] = 0.8;
    o->frac[1] = 0.1;
    o->frac[2] = 0.1;
    o->seed = 1;
}

void sngi_subset_free(sngi_subset *s) {
    if (!s) return;
    free(s->classes);
    free(s->first);
    free(s->count);
    free(s->img);
    free(s);
}

int sngi_subset_n_classes(const sngi_subset *s) { return s->n_classes; }
int sngi_subset_class(const sngi_subset *s, int i) { return s->classes[i]; }
int sngi_subset_n_images(const sngi_subset *s, int i) { return s->count[i]; }
const int *sngi_subset_images(const sngi_subset *s, int i) { return s->img + s->first[i]; }
int64_t sngi_subset_total_images(const sngi_subset *s) { return s->n_img; }

static sngi_subset *subset_alloc(const sngi_dataset *d, int n_classes, int64_t n_img) {
    sngi_subset *s = sngi_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->d = d;
    s->classes = sngi_malloc(sizeof(int) * (size_t)(n_classes ? n_classes : 1));
    s->first = sngi_malloc(sizeof(int) * (size_t)(n_classes ? n_classes : 1));
    s->count = sngi_malloc(sizeof(int) * (size_t)(n_classes ? n_classes : 1));
    s->img = sngi_malloc(sizeof(int) * (size_t)(n_img ? n_img : 1));
    if (!s->classes || !s->first || !s->count || !s->img) {
        sngi_subset_free(s);
        return NULL;
    }
    return s;
}

/* Appends a class with `n` images taken from ids (or the class's own run when ids is NULL). */
static void subset_add(sngi_subset *s, int cls, const int *ids, int n) {
    int i = s->n_classes++;
    s->classes[i] = cls;
    s->first[i] = (int)s->n_img;
    s->count[i] = n;
    for (int k = 0; k < n; k++)
        s->img[s->n_img++] = ids ? ids[k] : sngi_dataset_class_first(s->d, cls) + k;
}

sng_status sngi_subset_all(sng_ctx *ctx, const sngi_dataset *d, sngi_subset **out) {
    *out = NULL;
    sngi_subset *s = subset_alloc(d, d->n_classes, d->n_images);
    if (!s) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int c = 0; c < d->n_classes; c++) subset_add(s, c, NULL, d->class_count[c]);
    *out = s;
    return SNG_OK;
}

static void shuffle(int *a, int n, uint64_t seed) {
    sngi_rng r;
    sngi_rng_seed(&r, seed);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(sngi_rng_next(&r) % (uint64_t)(i + 1));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* 1 when name matches an item of a comma-separated list of names / fnmatch patterns. */
static int list_match(const char *list, const char *name) {
    const char *p = list;
    char item[512];
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (*p == ' ')) p++, n--;
        while (n && p[n - 1] == ' ') n--;
        if (n && n < sizeof item) {
            memcpy(item, p, n);
            item[n] = 0;
            if (!strcmp(item, name) || !fnmatch(item, name, 0)) return 1;
        }
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static const char *set_name[3] = {"training", "validation", "test"};

sng_status sngi_split(sng_ctx *ctx, const sngi_dataset *d, const sngi_split_opts *o,
                     sngi_subset *out[3]) {
    out[0] = out[1] = out[2] = NULL;
    double fs = 0;
    for (int k = 0; k < 3; k++) {
        if (!(o->frac[k] >= 0 && o->frac[k] <= 1))
            return sngi_fail(ctx, SNG_ERR_USAGE, "split: %s fraction %g is outside [0, 1]",
                             set_name[k], o->frac[k]);
        fs += o->frac[k];
    }
    if (fs > 1 + 1e-6) return sngi_fail(ctx, SNG_ERR_USAGE, "split: fractions sum to %g > 1", fs);
    int use_lists = o->lists[1] || o->lists[2];
    if (o->by_image && use_lists)
        return sngi_fail(ctx, SNG_ERR_USAGE, "split: class lists need a class-level split");
    sngi_subset *s[3] = {0};
    for (int k = 0; k < 3; k++)
        if (!(s[k] = subset_alloc(d, d->n_classes, d->n_images))) {
            for (int j = 0; j < k; j++) sngi_subset_free(s[j]);
            return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        }
    sng_status st = SNG_OK;
    int *tmp = sngi_malloc(sizeof(int) * (size_t)(d->n_images > d->n_classes ? d->n_images
                                                                                : d->n_classes) +
                           sizeof(int));
    int n_units = o->by_group ? d->n_groups : d->n_classes;
    int *where = sngi_malloc(sizeof(int) * (size_t)(n_units + 1)); /* set of each unit, -1 none */
    if (!tmp || !where) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    if (st == SNG_OK && o->by_image) {
        for (int c = 0; c < d->n_classes; c++) {
            int n = d->class_count[c];
            for (int i = 0; i < n; i++) tmp[i] = d->class_first[c] + i;
            shuffle(tmp, n, o->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(c + 1)));
            int nv = (int)lround(o->frac[1] * n), nt = (int)lround(o->frac[2] * n);
            if (nv + nt > n) nt = n - nv;
            int ntr = o->frac[0] > 0 ? n - nv - nt : 0;
            /* Sorted ids within each set keep batches reproducible and caches warm. */
            int *part[3] = {tmp + nv + nt, tmp, tmp + nv};
            int len[3] = {ntr, nv, nt};
            for (int k = 0; k < 3; k++) {
                if (!len[k]) continue;
                int *p = part[k];
                for (int i = 1; i < len[k]; i++) /* insertion sort: classes are small */
                    for (int j = i; j > 0 && p[j - 1] > p[j]; j--) {
                        int t = p[j];
                        p[j] = p[j - 1];
                        p[j - 1] = t;
                    }
                subset_add(s[k], c, p, len[k]);
            }
        }
    } else if (st == SNG_OK) {
        const char *unit = o->by_group ? "group" : "class";
        for (int u = 0; u < n_units; u++) where[u] = -1;
        if (use_lists) {
            for (int u = 0; u < n_units; u++) {
                const char *nm = o->by_group ? d->group_name[u] : d->class_name[u];
                if (o->lists[1] && list_match(o->lists[1], nm)) where[u] = 1;
                else if (o->lists[2] && list_match(o->lists[2], nm)) where[u] = 2;
                else if (!o->lists[0] || list_match(o->lists[0], nm)) where[u] = 0;
            }
        } else {
            for (int u = 0; u < n_units; u++) tmp[u] = u;
            shuffle(tmp, n_units, o->seed);
            int nv = (int)lround(o->frac[1] * n_units), nt = (int)lround(o->frac[2] * n_units);
            if (nv + nt > n_units) nt = n_units - nv;
            for (int i = 0; i < n_units; i++)
                where[tmp[i]] = i < nv ? 1 : i < nv + nt ? 2 : o->frac[0] > 0 ? 0 : -1;
        }
        for (int c = 0; c < d->n_classes; c++) {
            int k = where[o->by_group ? d->class_group[c] : c];
            if (k >= 0) subset_add(s[k], c, NULL, d->class_count[c]);
        }
        for (int k = 0; k < 3 && st == SNG_OK; k++) {
            int wanted = use_lists ? (k == 0 || o->lists[k] != NULL) : o->frac[k] > 0;
            if (wanted && s[k]->n_classes == 0) {
                if (use_lists)
                    st = sngi_fail(ctx, SNG_ERR_DATA, "%s: split leaves the %s set empty: no %s "
                                   "matches '%s'", d->source, set_name[k], unit,
                                   k ? o->lists[k] : o->lists[0] ? o->lists[0]
                                                                 : "(every unlisted one)");
                else
                    st = sngi_fail(ctx, SNG_ERR_DATA, "%s: split leaves the %s set empty: "
                                   "fraction %g of %d %s rounds to 0", d->source, set_name[k],
                                   o->frac[k], n_units,
                                   n_units == 1 ? unit : o->by_group ? "groups" : "classes");
            }
        }
    }
    if (st == SNG_OK && o->by_image)
        for (int k = 0; k < 3 && st == SNG_OK; k++)
            if (o->frac[k] > 0 && s[k]->n_img == 0)
                st = sngi_fail(ctx, SNG_ERR_DATA, "%s: image-level split leaves the %s set empty "
                               "(fraction %g of each class rounds to 0)", d->source,
                               set_name[k], o->frac[k]);
    free(tmp);
    free(where);
    if (st != SNG_OK) {
        for (int k = 0; k < 3; k++) sngi_subset_free(s[k]);
        return st;
    }
    for (int k = 0; k < 3; k++) out[k] = s[k];
    return SNG_OK;
}
