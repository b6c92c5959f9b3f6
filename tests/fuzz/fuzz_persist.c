/*
 * fuzz_persist.c — libFuzzer harness for the file formats the program reads back: galleries
 * (sngi_gallery_parse), .npy arrays (sngi_npy_parse, as in checkpoints and train.init_from) and
 * checkpoint archives (sngi_ckpt_read_memory, every entry bounded by its manifest). The first
 * input byte picks the target, so one corpus covers them all.
 *
 * Built by tests/fuzz/run_persist_fuzz.sh straight from the app sources with
 * `clang -fsanitize=fuzzer,address,undefined`. With -DSNG_FUZZ_SEEDGEN the same file is instead
 * a small program that writes a seed corpus into a folder.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ckpt.h"
#include "app/gallery.h"
#include "app/npy.h"

enum { T_GALLERY, T_NPY, T_CKPT, T_COUNT };

#ifndef SNG_FUZZ_SEEDGEN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    sng_ctx *ctx = sng_ctx_new();
    switch (data[0] % T_COUNT) {
    case T_GALLERY: {
        sngi_gallery *g = NULL;
        if (sngi_gallery_parse(ctx, "fuzz.gal", p, n, &g) == SNG_OK) {
            /* what was accepted must be usable: names bounded, embeddings in place */
            for (int i = 0; i < g->n; i++)
                if (strlen(g->names[i]) > SNGI_GALLERY_NAME_MAX || sngi_gallery_find(g, g->names[i]) != i)
                    abort();
            volatile float sum = 0;
            for (size_t i = 0; i < (size_t)g->n * (size_t)g->dim; i++) sum += g->emb[i];
            sngi_gallery_free(g);
        } else if (g) {
            abort();
        }
        break;
    }
    case T_NPY: {
        /* a private copy: the parser must not read past len */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, p, n);
        int dims[SNGI_NPY_MAX_DIMS], nd;
        const float *v;
        if (sngi_npy_parse(ctx, "fuzz.npy", copy, n, dims, &nd, &v) == SNG_OK) {
            size_t count = 1;
            for (int i = 0; i < nd; i++) count *= (size_t)dims[i];
            if ((const uint8_t *)v + count * 4 != copy + n) abort(); /* data fills the rest */
            volatile uint8_t last = count ? ((const uint8_t *)v)[count * 4 - 1] : 0;
            (void)last;
        }
        free(copy);
        break;
    }
    case T_CKPT: {
        sngi_ckpt *c = NULL;
        if (sngi_ckpt_read_memory(ctx, "fuzz.tar", p, n, &c) == SNG_OK) {
            for (int i = 0; i < c->n; i++) {
                int dims[SNGI_NPY_MAX_DIMS], nd;
                const float *v;
                sngi_npy_parse(ctx, c->names[i], c->data[i], c->sizes[i], dims, &nd, &v);
            }
            (void)sngi_ckpt_num(c, "threshold", 0.5);
            sngi_ckpt_free(c);
        }
        break;
    }
    }
    sng_ctx_free(ctx);
    return 0;
}

#else /* SNG_FUZZ_SEEDGEN: write a seed corpus */
#include <archive.h>
#include <archive_entry.h>

typedef struct mb {
    uint8_t *p;
    size_t n;
} mb;

static void mb_put(mb *m, const void *d, size_t n) {
    m->p = realloc(m->p, m->n + n);
    memcpy(m->p + m->n, d, n);
    m->n += n;
}

static uint64_t fnv(const uint8_t *b, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static mb make_gallery(int n, uint32_t dim) {
    mb m = {0};
    uint64_t fp = 0x1234;
    uint32_t count = (uint32_t)n;
    mb_put(&m, "SNGGAL01", 8);
    mb_put(&m, &fp, 8);
    mb_put(&m, &dim, 4);
    mb_put(&m, &count, 4);
    for (int i = 0; i < n; i++) {
        char name[32];
        uint16_t nl = (uint16_t)snprintf(name, sizeof name, "person/%d", i);
        mb_put(&m, &nl, 2);
        mb_put(&m, name, nl);
        for (uint32_t k = 0; k < dim; k++) {
            float v = (float)(i + 1) * 0.25f - (float)k;
            mb_put(&m, &v, 4);
        }
    }
    uint64_t h = fnv(m.p, m.n);
    mb_put(&m, &h, 8);
    return m;
}

static mb make_npy(const int *dims, int nd) {
    mb m = {0};
    char hdr[256];
    size_t hl = sngi_npy_header(hdr, sizeof hdr, dims, nd);
    mb_put(&m, hdr, hl);
    size_t count = 1;
    for (int i = 0; i < nd; i++) count *= (size_t)dims[i];
    for (size_t i = 0; i < count; i++) {
        float v = (float)i;
        mb_put(&m, &v, 4);
    }
    return m;
}

static la_ssize_t arch_w(struct archive *a, void *ud, const void *d, size_t n) {
    (void)a;
    mb_put(ud, d, n);
    return (la_ssize_t)n;
}

static void entry(struct archive *a, const char *name, const void *d, size_t n) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)n);
    archive_write_header(a, e);
    archive_write_data(a, d, n);
    archive_entry_free(e);
}

static mb make_ckpt(int gz) {
    mb m = {0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gz) archive_write_add_filter_gzip(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &m, NULL, arch_w, NULL);
    const char *xml = "<model name='m'><input name='a' shape='3'/>"
                      "<dense name='d' in='a' units='2'/><output name='d'/></model>";
    const char *man = "{\"format\":1,\"model\":\"m\",\"step\":5,\"seed\":1,\"threshold\":0.5,"
                      "\"optimizer\":\"sgd\",\"opt_slots\":1,\"metrics\":{},\"params\":["
                      "{\"name\":\"d/W\",\"shape\":[2,3],\"trainable\":true},"
                      "{\"name\":\"d/b\",\"shape\":[2],\"trainable\":true}]}\n";
    entry(a, "model.xml", xml, strlen(xml));
    entry(a, "manifest.json", man, strlen(man));
    int w[2] = {2, 3}, b[1] = {2}, o[1] = {8};
    mb pw = make_npy(w, 2), pb = make_npy(b, 1), po = make_npy(o, 1);
    entry(a, "params/d/W.npy", pw.p, pw.n);
    entry(a, "params/d/b.npy", pb.p, pb.n);
    entry(a, "optim/state.npy", po.p, po.n);
    entry(a, "END", "sngraph checkpoint end\n", 23);
    archive_write_close(a);
    archive_write_free(a);
    free(pw.p), free(pb.p), free(po.p);
    return m;
}

static void seed(const char *dir, const char *name, uint8_t target, mb m) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) exit(1);
    fputc(target, f);
    fwrite(m.p, 1, m.n, f);
    if (fclose(f) != 0) exit(1);
    free(m.p);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const char *d = argv[1];
    int d2[2] = {3, 4}, d1[1] = {5}, d4[4] = {2, 1, 3, 3};
    seed(d, "gallery_empty", T_GALLERY, make_gallery(0, 4));
    seed(d, "gallery_three", T_GALLERY, make_gallery(3, 8));
    seed(d, "npy_2d", T_NPY, make_npy(d2, 2));
    seed(d, "npy_1d", T_NPY, make_npy(d1, 1));
    seed(d, "npy_4d", T_NPY, make_npy(d4, 4));
    seed(d, "npy_scalar", T_NPY, make_npy(d1, 0));
    seed(d, "ckpt_tar", T_CKPT, make_ckpt(0));
    seed(d, "ckpt_targz", T_CKPT, make_ckpt(1));
    return 0;
}
#endif
