/*
 * fuzz_readers.c — libFuzzer harness for the data readers that take a file: the pairs CSV
 * (parsed against a small fixed dataset) and IDX images + labels (written to two temporary
 * files and loaded as a source, so sniffing, gzip and the archive fallback are covered too).
 *
 * Built by tests/fuzz/run_loader_fuzz.sh with -DSNG_FUZZ_TARGET=0 (pairs CSV) or 1 (IDX): one
 * binary per reader, each fuzzed for its own time. IDX input layout: two bytes (big-endian) give
 * the length of the labels file, then its bytes, then the images file. With -DSNG_FUZZ_SEEDGEN
 * the same file writes a seed corpus for the chosen target into a folder.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loaders/loader_int.h"

#ifndef SNG_FUZZ_TARGET
#define SNG_FUZZ_TARGET 0
#endif

#ifndef SNG_FUZZ_SEEDGEN
#include <archive.h>
#include <archive_entry.h>

/* A dataset of 2 classes x 2 tiny PGM images, built once from a tar in memory. */
static sngi_dataset *fixed_dataset(void) {
    static sngi_dataset *d;
    if (d) return d;
    static uint8_t tar[65536];
    size_t used = 0;
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_memory(a, tar, sizeof tar, &used);
    const char *names[] = {"set/a/1.pgm", "set/a/2.pgm", "set/b/1.pgm", "set/b/2.pgm"};
    for (int i = 0; i < 4; i++) {
        uint8_t img[32];
        int k = snprintf((char *)img, sizeof img, "P5 4 4 255\n");
        for (int j = 0; j < 16; j++) img[k + j] = (uint8_t)(i * 40 + j);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, k + 16);
        archive_write_header(a, e);
        archive_write_data(a, img, (size_t)k + 16);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    sng_ctx *ctx = sng_ctx_new();
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    if (sngi_dataset_load_memory(ctx, "fixed.tar", tar, used, &o, &d) != SNG_OK) abort();
    sng_ctx_free(ctx);
    return d;
}

/* Forgets what one parse added (pairs and skips), so every input starts from the same dataset. */
static void reset_dataset(sngi_dataset *d) {
    free(d->pairs);
    d->pairs = NULL;
    d->n_pairs = 0;
    for (int i = 0; i < d->n_skips; i++) {
        free(d->skips[i].entry);
        free(d->skips[i].reason);
    }
    d->n_skips = 0;
}

static void fuzz_csv(const uint8_t *data, size_t size) {
    sngi_dataset *d = fixed_dataset();
    sng_ctx *ctx = sng_ctx_new();
    d->strict = size && (data[0] & 1);
    /* The parser is given text of n bytes with a terminating NUL after it, as load_pairs does. */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    if (sngi_pairs_csv_parse(ctx, d, "fuzz.csv", text, size) == SNG_OK) {
        for (int i = 0; i < d->n_pairs; i++)
            if (d->pairs[i].a < 0 || d->pairs[i].a >= d->n_images || d->pairs[i].b < 0 ||
                d->pairs[i].b >= d->n_images)
                abort(); /* every pair must name images of the dataset */
    }
    free(text);
    reset_dataset(d);
    sng_ctx_free(ctx);
}

static void write_all(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

static void fuzz_idx(const uint8_t *data, size_t size) {
    static char dir[64], img[96], lab[96];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/sng-fuzz-idx.XXXXXX");
        if (!mkdtemp(dir)) abort();
        snprintf(img, sizeof img, "%s/x-images-idx3-ubyte", dir);
        snprintf(lab, sizeof lab, "%s/x-labels-idx1-ubyte", dir);
    }
    if (size < 3) return;
    size_t nl = (size_t)data[0] << 8 | data[1];
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    if (nl > n) nl = n;
    write_all(lab, p, nl);
    write_all(img, p + nl, n - nl);
    sng_ctx *ctx = sng_ctx_new();
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = img;
    o.idx_labels = lab;
    o.allow_partial = (int)(n & 1);
    o.height = (n & 2) ? 5 : 0; /* sometimes resized */
    o.width = (n & 2) ? 3 : 0;
    sngi_dataset *d = NULL;
    if (sngi_dataset_load(ctx, &o, &d) == SNG_OK) {
        for (int i = 0; i < d->n_images; i++)
            if (sngi_dataset_label(d, i) < 0 || sngi_dataset_label(d, i) >= d->n_classes) abort();
        sngi_dataset_free(d);
    }
    sng_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (SNG_FUZZ_TARGET == 0)
        fuzz_csv(data, size);
    else
        fuzz_idx(data, size);
    return 0;
}

#else /* SNG_FUZZ_SEEDGEN: write a seed corpus for the target */
static void seed(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) exit(1);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    if (SNG_FUZZ_TARGET == 0) {
        static const char *csv[] = {
            "path_a,path_b,label\nset/a/1.pgm,set/a/2.pgm,1\nset/a/1.pgm,set/b/1.pgm,0\n",
            "a/1.pgm,b/2.pgm,0\r\n# comment\n\n\"a/2.pgm\",\"b/1.pgm\",1.5\n",
            "\"set/a/1.pgm\"\"x\",set/b/2.pgm,1\nset/a/1.pgm,missing.pgm,1\nx,y\n\"open,1,1\n"};
        for (int i = 0; i < 3; i++) {
            char name[32];
            snprintf(name, sizeof name, "csv%d", i);
            seed(argv[1], name, csv[i], strlen(csv[i]));
        }
        return 0;
    }
    /* IDX: 3 images of 4x2 with labels 7, 6, 7; then the same with a 4-D (N,H,W,3) header. */
    uint8_t b[256];
    size_t k = 0;
    const uint8_t lab[] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 6, 7};
    b[k++] = 0, b[k++] = sizeof lab;
    memcpy(b + k, lab, sizeof lab), k += sizeof lab;
    const uint8_t hdr[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 2};
    memcpy(b + k, hdr, sizeof hdr), k += sizeof hdr;
    for (int i = 0; i < 24; i++) b[k++] = (uint8_t)(i * 9);
    seed(argv[1], "idx3", b, k);
    const uint8_t hdr4[] = {0, 0, 8, 4, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
    k = 2 + sizeof lab;
    memcpy(b + k, hdr4, sizeof hdr4), k += sizeof hdr4;
    for (int i = 0; i < 36; i++) b[k++] = (uint8_t)(i * 5);
    seed(argv[1], "idx4", b, k);
    return 0;
}
#endif
