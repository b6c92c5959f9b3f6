/*
 * util.c — shapes and deterministic random numbers.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sng_int.h"

int64_t sngi_shape_numel(const sngi_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->nd; i++) n *= s->d[i];
    return n;
}

int sngi_shape_eq(const sngi_shape *a, const sngi_shape *b) {
    if (a->nd != b->nd) return 0;
    for (int i = 0; i < a->nd; i++)
        if (a->d[i] != b->d[i]) return 0;
    return 1;
}

char *sngi_shape_str(const sngi_shape *s, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < s->nd && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ",%d" : "%d", s->d[i]);
    if (k < n) snprintf(buf + k, n - k, ")");
    return buf;
}

int sngi_shape_parse(const char *txt, sngi_shape *out) {
    memset(out, 0, sizeof *out);
    const char *p = txt;
    while (*p == ' ') p++;
    if (!*p) return -1;
    for (;;) {
        if (out->nd == SNG_MAX_DIMS) return -1;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > (1L << 24)) return -1;
        out->d[out->nd++] = (int)v;
        p = end;
        while (*p == ' ') p++;
        if (!*p) break;
        if (*p != ',' && *p != 'x') return -1;
        p++;
        while (*p == ' ') p++;
    }
    if (sngi_shape_numel(out) > (1LL << 31)) return -1;
    return 0;
}

/* ---- random numbers: xoroshiro128+ seeded by splitmix64 ------------------------------------- */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sngi_rng_seed(sngi_rng *r, uint64_t seed) {
    uint64_t x = seed;
    r->s[0] = splitmix64(&x);
    r->s[1] = splitmix64(&x);
    if (!r->s[0] && !r->s[1]) r->s[1] = 1;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sngi_rng_next(sngi_rng *r) {
    uint64_t s0 = r->s[0], s1 = r->s[1], res = s0 + s1;
    s1 ^= s0;
    r->s[0] = rotl(s0, 24) ^ s1 ^ (s1 << 16);
    r->s[1] = rotl(s1, 37);
    return res;
}

float sngi_rng_uniform(sngi_rng *r) { return (float)(sngi_rng_next(r) >> 40) * (1.0f / 16777216.0f); }

float sngi_rng_normal(sngi_rng *r) {
    /* Box-Muller; one value per call keeps the stream simple and deterministic. */
    double u1 = ((double)(sngi_rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(sngi_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

float sngi_hash_uniform(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed ^ (a * 0xd1342543de82ef95ULL) ^ (b * 0x9e3779b97f4a7c15ULL);
    uint64_t z = splitmix64(&x);
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

/* Fills data[lo, hi) of a parameter from its own stream: chunk c of every tensor is seeded from
 * (run seed, parameter name, c), so the values do not depend on the declaration order, on other
 * parameters, or on how many threads fill the chunks. */
#define INIT_CHUNK 8192
static void init_chunk(float *data, int64_t lo, int64_t hi, uint64_t seed, int normal, double sd,
                       double lim) {
    sngi_rng rng;
    sngi_rng_seed(&rng, seed);
    if (!normal) {
        for (int64_t i = lo; i < hi; i++)
            data[i] = (float)(lim * (2.0 * sngi_rng_uniform(&rng) - 1.0));
        return;
    }
    /* Box-Muller, both values of each pair (start-up is dominated by this loop: 17 M values
     * for VGG16). */
    for (int64_t i = lo; i < hi; i += 2) {
        float u1 = ((float)(sngi_rng_next(&rng) >> 40) + 1.0f) * (1.0f / 16777217.0f);
        float u2 = (float)(sngi_rng_next(&rng) >> 40) * (1.0f / 16777216.0f);
        float r = sqrtf(-2.0f * logf(u1)), s, c;
        sincosf(6.2831853f * u2, &s, &c);
        data[i] = (float)(sd * r * c);
        if (i + 1 < hi) data[i + 1] = (float)(sd * r * s);
    }
}

void sngi_param_init(const sngi_param *p, float *data, uint64_t seed) {
    int64_t n = sngi_shape_numel(&p->shape);
    double fi = p->fan_in > 0 ? p->fan_in : 1, fo = p->fan_out > 0 ? p->fan_out : 1;
    double sd = 0, lim = 0;
    int normal = 0;
    switch (p->init) {
    case SNGI_INIT_ZEROS:
        memset(data, 0, (size_t)n * sizeof(float));
        return;
    case SNGI_INIT_ONES:
        for (int64_t i = 0; i < n; i++) data[i] = 1.0f;
        return;
    case SNGI_INIT_HE_NORMAL: sd = sqrt(2.0 / fi); normal = 1; break;
    case SNGI_INIT_HE_UNIFORM: lim = sqrt(6.0 / fi); break;
    case SNGI_INIT_GLOROT_UNIFORM: lim = sqrt(6.0 / (fi + fo)); break;
    case SNGI_INIT_GLOROT_NORMAL: sd = sqrt(2.0 / (fi + fo)); normal = 1; break;
    case SNGI_INIT_NORMAL: sd = p->init_scale; normal = 1; break;
    case SNGI_INIT_UNIFORM: lim = p->init_scale; break;
    }
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (const char *c = p->name; *c; c++) h = (h ^ (uint8_t)*c) * 0x100000001b3ULL;
    int64_t chunks = (n + INIT_CHUNK - 1) / INIT_CHUNK;
#pragma omp parallel for schedule(static) if (chunks > 8)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * INIT_CHUNK, hi = lo + INIT_CHUNK < n ? lo + INIT_CHUNK : n;
        init_chunk(data, lo, hi, h + 0x9e3779b97f4a7c15ULL * (uint64_t)c, normal, sd, lim);
    }
}

/* Edit distance of two short strings, capped at 9. */
int sngi_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 62 || lb > 62) return 9;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            d[i][j] = v;
        }
    return d[la][lb] < 9 ? d[la][lb] : 9;
}
