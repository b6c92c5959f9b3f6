/*
 * sampler.c — batches for Siamese training and one-shot evaluation: balanced same/different
 * pairs, triplets (anchor, positive, negative), N-way K-shot episodes drawn within one group
 * (alphabet) as in the Omniglot benchmark, and a user's pairs list in file order.
 *
 * Determinism: batch `step` of n samples is a pure function of (seed, step, n). Sample i draws
 * from its own sngi_rng seeded with mix(seed, step, i); the positions of the positive pairs in a
 * batch come from one more stream, mix(seed, step, ~0); augmentation of image j of sample i uses
 * mix(that sample's seed, j). Nothing is carried between batches, so a run resumes at step k by
 * asking for step k, and the prefetch thread cannot change the sequence.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

struct sngi_sampler {
    const sngi_dataset *d;   /* borrowed */
    sngi_sampler_opts o;
    int n_cls;              /* classes of the subset with at least one image */
    int *first, *count;     /* into img[] */
    int *img;               /* image ids */
    int *pos;               /* subset class indices with >= 2 images */
    int n_pos;
    int *eg_first, *eg_count, *eg_cls; /* episodes: per usable group, its usable classes */
    int n_eg;
    int max_cls_imgs;
    int mixed;              /* episodes: no group has n_way usable classes; draw across all */
    size_t chw;
};

void sngi_sampler_opts_init(sngi_sampler_opts *o) {
    memset(o, 0, sizeof *o);
    o->kind = SNG_SAMPLE_PAIRS;
    o->pos_fraction = 0.5f;
    o->n_way = 20;
    o->k_shot = 1;
    o->n_query = 1;
    o->same_group = 1;
    sngi_augment_opts_init(&o->aug);
}

void sngi_sampler_free(sngi_sampler *s) {
    if (!s) return;
    free(s->first);
    free(s->count);
    free(s->img);
    free(s->pos);
    free(s->eg_first);
    free(s->eg_count);
    free(s->eg_cls);
    free(s);
}

static uint64_t mix(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 31;
    x = (x ^ (c + 0x632be59bd9b4e019ULL)) * 0x94d049bb133111ebULL;
    x ^= x >> 29;
    x *= 0xd6e8feb86659fd93ULL;
    return x ^ (x >> 32);
}

static int below(sngi_rng *r, int n) { return (int)(sngi_rng_next(r) % (uint64_t)n); }

sng_status sngi_sampler_new(sng_ctx *ctx, const sngi_dataset *d, const sngi_subset *sub,
                           const sngi_sampler_opts *o, sngi_sampler **out) {
    *out = NULL;
    sngi_subset *all = NULL;
    if (!sub) {
        sng_status st = sngi_subset_all(ctx, d, &all);
        if (st != SNG_OK) return st;
        sub = all;
    }
    sngi_sampler *s = sngi_calloc(1, sizeof *s);
    int nc = sngi_subset_n_classes(sub);
    int64_t ni = sngi_subset_total_images(sub);
    sng_status st = SNG_OK;
    if (s) {
        s->d = d;
        s->o = *o;
        s->chw = d->img_bytes;
        s->first = sngi_malloc(sizeof(int) * (size_t)(nc + 1));
        s->count = sngi_malloc(sizeof(int) * (size_t)(nc + 1));
        s->img = sngi_malloc(sizeof(int) * (size_t)(ni + 1));
        s->pos = sngi_malloc(sizeof(int) * (size_t)(nc + 1));
        s->eg_first = sngi_malloc(sizeof(int) * (size_t)(d->n_groups + 1));
        s->eg_count = sngi_malloc(sizeof(int) * (size_t)(d->n_groups + 1));
        s->eg_cls = sngi_malloc(sizeof(int) * (size_t)(nc + 1));
    }
    if (!s || !s->first || !s->count || !s->img || !s->pos || !s->eg_first || !s->eg_count ||
        !s->eg_cls) {
        sngi_sampler_free(s);
        sngi_subset_free(all);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    int64_t k = 0;
    for (int i = 0; i < nc; i++) {
        int n = sngi_subset_n_images(sub, i);
        if (!n) continue;
        const int *ids = sngi_subset_images(sub, i);
        s->first[s->n_cls] = (int)k;
        s->count[s->n_cls] = n;
        memcpy(s->img + k, ids, sizeof(int) * (size_t)n);
        k += n;
        if (n >= 2) s->pos[s->n_pos++] = s->n_cls;
        if (n > s->max_cls_imgs) s->max_cls_imgs = n;
        s->n_cls++;
    }
    sngi_subset_free(all);
    const char *src = d->source;
    switch (o->kind) {
    case SNG_SAMPLE_PAIRS:
    case SNG_SAMPLE_TRIPLETS:
        if (!(o->pos_fraction >= 0 && o->pos_fraction <= 1))
            st = sngi_fail(ctx, SNG_ERR_USAGE, "positive fraction %g is outside [0, 1]",
                           o->pos_fraction);
        else if (s->n_cls < 2)
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: %s need at least 2 classes (the set has %d)",
                           src, o->kind == SNG_SAMPLE_PAIRS ? "pairs" : "triplets", s->n_cls);
        else if (s->n_pos == 0 && (o->kind == SNG_SAMPLE_TRIPLETS || o->pos_fraction > 0))
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no class has 2 images: no positive pair",
                           src);
        break;
    case SNG_SAMPLE_EPISODES: {
        if (o->n_way < 2 || o->k_shot < 1 || o->n_query < 1) {
            st = sngi_fail(ctx, SNG_ERR_USAGE, "episodes need n_way >= 2, k_shot >= 1, "
                           "n_query >= 1 (got %d, %d, %d)", o->n_way, o->k_shot, o->n_query);
            break;
        }
        /* Usable classes have k_shot + 1 images, so any of them can also give the query. */
        int n_use = 0;
        for (int g = 0; g < d->n_groups; g++) {
            int start = n_use;
            for (int i = 0; i < s->n_cls; i++) {
                int cls = d->label[s->img[s->first[i]]];
                if (d->class_group[cls] == g && s->count[i] >= o->k_shot + 1)
                    s->eg_cls[n_use++] = i;
            }
            if (o->same_group && n_use - start >= o->n_way && d->n_groups < d->n_classes) {
                s->eg_first[s->n_eg] = start;
                s->eg_count[s->n_eg++] = n_use - start;
            }
        }
        if (s->n_eg == 0) {
            /* No group is big enough (or the layout has none): one pool of every usable class. */
            s->mixed = o->same_group && d->n_groups < d->n_classes;
            s->eg_first[0] = 0;
            s->eg_count[0] = n_use;
            s->n_eg = 1;
            if (n_use < o->n_way)
                st = sngi_fail(ctx, SNG_ERR_DATA, "%s: %d-way %d-shot episodes need %d classes "
                               "with at least %d images; the set has %d", src, o->n_way,
                               o->k_shot, o->n_way, o->k_shot + 1, n_use);
        }
        break;
    }
    case SNG_SAMPLE_LIST:
        if (d->n_pairs == 0)
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no pairs list was loaded (pairs_csv)", src);
        break;
    default:
        st = sngi_fail(ctx, SNG_ERR_USAGE, "unknown sampler kind %d", (int)o->kind);
    }
    if (st != SNG_OK) {
        sngi_sampler_free(s);
        return st;
    }
    *out = s;
    return SNG_OK;
}

int sngi_sampler_n_bufs(const sngi_sampler *s) { (void)s; return 3; }

int64_t sngi_sampler_buf_len(const sngi_sampler *s, int n, int i) {
    int64_t chw = (int64_t)s->chw;
    if (s->o.kind == SNG_SAMPLE_EPISODES) {
        if (i == 0) return (int64_t)n * s->o.n_way * s->o.k_shot * chw;
        if (i == 1) return (int64_t)n * s->o.n_query * chw;
        return (int64_t)n * s->o.n_query;
    }
    if (i == 2 && s->o.kind != SNG_SAMPLE_TRIPLETS) return n;
    return (int64_t)n * chw;
}

const char *sngi_sampler_buf_name(const sngi_sampler *s, int i) {
    static const char *names[4][3] = {{"a", "b", "label"}, {"anchor", "positive", "negative"},
                                      {"support", "query", "label"}, {"a", "b", "label"}};
    return names[s->o.kind][i];
}

int sngi_sampler_mixed_groups(const sngi_sampler *s) { return s->mixed; }

/* Packs image `img` into dst with augmentation stream `seed`. */
static void put(const sngi_sampler *s, int img, uint64_t seed, float *dst) {
    const sngi_dataset *d = s->d;
    sngi_augment_pack(sngi_dataset_pixels(d, img), d->c, d->h, d->w, &s->o.aug, seed, d->scale,
                     d->mean, d->std, dst);
}

/* Two distinct images of subset class ci. */
static void two_of(const sngi_sampler *s, sngi_rng *r, int ci, int *a, int *b) {
    int n = s->count[ci], i = below(r, n), j = below(r, n - 1);
    if (j >= i) j++;
    *a = s->img[s->first[ci] + i];
    *b = s->img[s->first[ci] + j];
}

static int one_of(const sngi_sampler *s, sngi_rng *r, int ci) {
    return s->img[s->first[ci] + below(r, s->count[ci])];
}

static void fill_pairs(const sngi_sampler *s, int n, uint64_t seed, int64_t step,
                       float *const *bufs) {
    /* Exactly round(n * pos_fraction) positives per batch, at shuffled positions. */
    int npos = (int)lround((double)n * s->o.pos_fraction);
    if (s->n_pos == 0) npos = 0;
    sngi_rng br;
    sngi_rng_seed(&br, mix(seed, (uint64_t)step, ~0ULL));
    /* Selection sampling: position i is positive with probability need / left. */
    int need = npos;
    for (int i = 0; i < n; i++) {
        int positive = below(&br, n - i) < need;
        need -= positive;
        uint64_t ss = mix(seed, (uint64_t)step, (uint64_t)i);
        sngi_rng r;
        sngi_rng_seed(&r, ss);
        int a, b;
        if (positive) {
            two_of(s, &r, s->pos[below(&r, s->n_pos)], &a, &b);
        } else {
            int ca = below(&r, s->n_cls), cb = below(&r, s->n_cls - 1);
            if (cb >= ca) cb++;
            a = one_of(s, &r, ca);
            b = one_of(s, &r, cb);
        }
        if (sngi_rng_uniform(&r) < 0.5f) { /* both orders */
            int t = a;
            a = b;
            b = t;
        }
        put(s, a, mix(ss, 1, 0), bufs[0] + (size_t)i * s->chw);
        put(s, b, mix(ss, 2, 0), bufs[1] + (size_t)i * s->chw);
        bufs[2][i] = positive ? 1.0f : 0.0f;
    }
}

static void fill_triplets(const sngi_sampler *s, int n, uint64_t seed, int64_t step,
                          float *const *bufs) {
    for (int i = 0; i < n; i++) {
        uint64_t ss = mix(seed, (uint64_t)step, (uint64_t)i);
        sngi_rng r;
        sngi_rng_seed(&r, ss);
        int ca = s->pos[below(&r, s->n_pos)], a, p;
        two_of(s, &r, ca, &a, &p);
        int cn = below(&r, s->n_cls - 1);
        if (cn >= ca) cn++;
        int ng = one_of(s, &r, cn);
        put(s, a, mix(ss, 1, 0), bufs[0] + (size_t)i * s->chw);
        put(s, p, mix(ss, 2, 0), bufs[1] + (size_t)i * s->chw);
        put(s, ng, mix(ss, 3, 0), bufs[2] + (size_t)i * s->chw);
    }
}

static void fill_episodes(const sngi_sampler *s, int n, uint64_t seed, int64_t step,
                          float *const *bufs) {
    int N = s->o.n_way, K = s->o.k_shot, Q = s->o.n_query;
    int maxg = 0;
    for (int g = 0; g < s->n_eg; g++)
        if (s->eg_count[g] > maxg) maxg = s->eg_count[g];
    /* Scratch on the heap: groups and classes can be large; a failed malloc leaves zeros. */
    int *cand = malloc(sizeof(int) * (size_t)maxg), *pick = malloc(sizeof(int) * (size_t)s->max_cls_imgs);
    int *qcls = malloc(sizeof(int) * (size_t)Q), *used = malloc(sizeof(int) * (size_t)N);
    if (!cand || !pick || !qcls || !used) {
        for (int b = 0; b < 3; b++) memset(bufs[b], 0, sizeof(float) * (size_t)sngi_sampler_buf_len(s, n, b));
        goto out;
    }
    for (int e = 0; e < n; e++) {
        uint64_t ss = mix(seed, (uint64_t)step, (uint64_t)e);
        sngi_rng r;
        sngi_rng_seed(&r, ss);
        int g = below(&r, s->n_eg), m = s->eg_count[g];
        memcpy(cand, s->eg_cls + s->eg_first[g], sizeof(int) * (size_t)m);
        for (int j = 0; j < N; j++) { /* partial Fisher-Yates: N distinct classes */
            int t = j + below(&r, m - j), x = cand[j];
            cand[j] = cand[t];
            cand[t] = x;
        }
        for (int q = 0; q < Q; q++) {
            qcls[q] = below(&r, N);
            bufs[2][(size_t)e * Q + q] = (float)qcls[q];
        }
        uint64_t slot = 0;
        for (int j = 0; j < N; j++) {
            int ci = cand[j], cnt = s->count[ci];
            used[j] = 0;
            for (int q = 0; q < Q; q++) used[j] += qcls[q] == j;
            /* K support images then this class's queries, all distinct while images last;
             * extra queries beyond the class size reuse query images, never support ones. */
            int want = K + used[j] < cnt ? K + used[j] : cnt;
            for (int t = 0; t < cnt; t++) pick[t] = s->img[s->first[ci] + t];
            for (int t = 0; t < want; t++) {
                int u = t + below(&r, cnt - t), x = pick[t];
                pick[t] = pick[u];
                pick[u] = x;
            }
            for (int k = 0; k < K; k++)
                put(s, pick[k], mix(ss, ++slot, 0),
                    bufs[0] + ((size_t)e * N * K + (size_t)j * K + k) * s->chw);
            int qi = 0;
            for (int q = 0; q < Q; q++) {
                if (qcls[q] != j) continue;
                int img = pick[K + (qi++ % (want - K))];
                put(s, img, mix(ss, 1000003 + (uint64_t)q, 0),
                    bufs[1] + ((size_t)e * Q + q) * s->chw);
            }
        }
    }
out:
    free(cand);
    free(pick);
    free(qcls);
    free(used);
}

static void fill_list(const sngi_sampler *s, int n, int64_t step, float *const *bufs) {
    const sngi_dataset *d = s->d;
    for (int i = 0; i < n; i++) {
        const sngi_pair *p = &d->pairs[((uint64_t)step * (uint64_t)n + (uint64_t)i) % (uint64_t)d->n_pairs];
        /* The list is for evaluation: no augmentation. */
        sngi_augment_pack(sngi_dataset_pixels(d, p->a), d->c, d->h, d->w, NULL, 0, d->scale,
                         d->mean, d->std, bufs[0] + (size_t)i * s->chw);
        sngi_augment_pack(sngi_dataset_pixels(d, p->b), d->c, d->h, d->w, NULL, 0, d->scale,
                         d->mean, d->std, bufs[1] + (size_t)i * s->chw);
        bufs[2][i] = p->label;
    }
}

void sngi_sampler_fill(const sngi_sampler *s, int n, uint64_t seed, int64_t step,
                      float *const *bufs) {
    switch (s->o.kind) {
    case SNG_SAMPLE_PAIRS: fill_pairs(s, n, seed, step, bufs); break;
    case SNG_SAMPLE_TRIPLETS: fill_triplets(s, n, seed, step, bufs); break;
    case SNG_SAMPLE_EPISODES: fill_episodes(s, n, seed, step, bufs); break;
    case SNG_SAMPLE_LIST: fill_list(s, n, step, bufs); break;
    }
}
