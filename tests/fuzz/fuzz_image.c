/*
 * fuzz_image.c — libFuzzer harness for the loaders' untrusted-input paths: the PNG, PNM and JPEG
 * decoders (each directly, and through signature sniffing), resizing of whatever decodes, and a
 * whole dataset load from an archive in memory (libarchive walk, decode, layout, describe,
 * one sampled batch). The first input byte picks the target, so one corpus covers them all.
 *
 * Built by tests/fuzz/run_loader_fuzz.sh straight from the loader sources with
 * `clang -fsanitize=fuzzer,address,undefined`. With -DSNG_FUZZ_SEEDGEN the same file is instead
 * a small program that writes a seed corpus (PNG, PGM, PPM, JPEG, zip, tar.gz) into a folder.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

enum { T_SNIFF, T_PNG, T_PNM, T_JPEG, T_ARCHIVE, T_COUNT };

#ifndef SNG_FUZZ_SEEDGEN
static FILE *devnull;

static void decoded(sng_status st, sngi_image *im) {
    if (st != SNG_OK) {
        if (im->pix) abort(); /* a failed decode must not hand out pixels */
        return;
    }
    if (im->w < 1 || im->h < 1 || (im->c != 1 && im->c != 3)) abort();
    static uint8_t out[3 * 17 * 13];
    sngi_image_convert(im->pix, im->c, im->h, im->w, out, 3, 17, 13);
    sngi_image_convert(im->pix, im->c, im->h, im->w, out, 1, 3, 2);
    free(im->pix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!devnull) devnull = fopen("/dev/null", "w");
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    sngi_image im;
    char why[512];
    switch (data[0] % T_COUNT) {
    case T_SNIFF: decoded(sngi_decode_image(p, n, &im, why, sizeof why), &im); break;
    case T_PNG: decoded(sngi_decode_png(p, n, &im, why, sizeof why), &im); break;
    case T_PNM: decoded(sngi_decode_pnm(p, n, &im, why, sizeof why), &im); break;
    case T_JPEG: decoded(sngi_decode_jpeg(p, n, &im, why, sizeof why), &im); break;
    case T_ARCHIVE: {
        sng_ctx *ctx = sng_ctx_new();
        sngi_dataset_opts o;
        sngi_dataset_opts_init(&o);
        o.channels = 1;
        o.height = 8;
        o.width = 8;
        o.strict = data[0] & 0x80 ? 1 : 0;
        sngi_dataset *d = NULL;
        if (sngi_dataset_load_memory(ctx, "fuzz.archive", p, n, &o, &d) == SNG_OK) {
            sngi_data_describe(d, devnull, 0);
            sngi_data_describe(d, devnull, 1);
            sngi_sampler_opts so;
            sngi_sampler_opts_init(&so);
            so.aug.affine = 1;
            sngi_sampler *s = NULL;
            if (sngi_sampler_new(ctx, d, NULL, &so, &s) == SNG_OK) {
                static float a[4 * 64], b[4 * 64], l[4];
                float *bufs[3] = {a, b, l};
                sngi_sampler_fill(s, 4, 1, 0, bufs);
                sngi_sampler_free(s);
            }
            sngi_dataset_free(d);
        }
        sng_ctx_free(ctx);
        break;
    }
    }
    return 0;
}

#else /* SNG_FUZZ_SEEDGEN: write a seed corpus */
#include <archive.h>
#include <archive_entry.h>
#include <jpeglib.h>
#include <png.h>

typedef struct mb {
    uint8_t *p;
    size_t n;
} mb;

static void mb_put(mb *m, const void *d, size_t n) {
    m->p = realloc(m->p, m->n + n);
    memcpy(m->p + m->n, d, n);
    m->n += n;
}

static void png_w(png_structp png, png_bytep d, size_t n) { mb_put(png_get_io_ptr(png), d, n); }
static void png_f(png_structp png) { (void)png; }

static mb make_png(int w, int h, int ct, int bits) {
    mb m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) exit(1);
    png_set_write_fn(png, &m, png_w, png_f);
    png_set_IHDR(png, info, w, h, bits, ct, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (ct == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        for (int i = 0; i < 16; i++) pal[i] = (png_color){(uint8_t)(i * 16), 3, 200};
        png_set_PLTE(png, info, pal, 16);
    }
    png_write_info(png, info);
    size_t rb = png_get_rowbytes(png, info);
    uint8_t *row = malloc(rb);
    for (int y = 0; y < h; y++) {
        for (size_t i = 0; i < rb; i++) row[i] = (uint8_t)(i * 31 + y * 7);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return m;
}

static mb make_jpeg(int w, int h, int ch) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long n = 0;
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = w;
    c.image_height = h;
    c.input_components = ch;
    c.in_color_space = ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * ch);
    while (c.next_scanline < c.image_height) {
        for (int i = 0; i < w * ch; i++) row[i] = (uint8_t)(i * 5 + c.next_scanline);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    mb m = {0};
    mb_put(&m, out, n);
    free(out);
    return m;
}

static mb make_pnm(const char *hdr, int nbytes) {
    mb m = {0};
    mb_put(&m, hdr, strlen(hdr));
    for (int i = 0; i < nbytes; i++) {
        uint8_t v = (uint8_t)(i * 13);
        mb_put(&m, &v, 1);
    }
    return m;
}

static void seed(const char *dir, const char *name, uint8_t target, mb m) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) exit(1);
    fputc(target, f);
    fwrite(m.p, 1, m.n, f);
    fclose(f);
}

static la_ssize_t arch_w(struct archive *a, void *ud, const void *d, size_t n) {
    (void)a;
    mb_put(ud, d, n);
    return (la_ssize_t)n;
}

static mb make_archive(int zip) {
    mb m = {0};
    struct archive *a = archive_write_new();
    if (zip) archive_write_set_format_zip(a);
    else {
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
    }
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &m, NULL, arch_w, NULL);
    const char *names[] = {"set/A/c1/1.png", "set/A/c1/2.pgm", "set/A/c2/1.png", "set/B/c1/1.jpg",
                           "set/B/c1/2.png", "set/B/c2/readme.txt"};
    for (int i = 0; i < 6; i++) {
        mb f = i == 1 ? make_pnm("P5\n4 3\n255\n", 12) : i == 3 ? make_jpeg(8, 8, 1)
             : i == 5 ? make_pnm("hello", 0) : make_png(4, 3, 0, i % 2 ? 8 : 1);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)f.n);
        archive_write_header(a, e);
        archive_write_data(a, f.p, f.n);
        archive_entry_free(e);
        free(f.p);
    }
    archive_write_close(a);
    archive_write_free(a);
    return m;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const char *d = argv[1];
    seed(d, "png_gray1", T_SNIFF, make_png(9, 5, PNG_COLOR_TYPE_GRAY, 1));
    seed(d, "png_gray16", T_PNG, make_png(5, 4, PNG_COLOR_TYPE_GRAY, 16));
    seed(d, "png_palette", T_PNG, make_png(6, 3, PNG_COLOR_TYPE_PALETTE, 4));
    seed(d, "png_rgba", T_SNIFF, make_png(4, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8));
    seed(d, "pgm_p5", T_PNM, make_pnm("P5\n# c\n4 3\n255\n", 12));
    seed(d, "pgm_p5_16", T_PNM, make_pnm("P5\n2 2\n1000\n", 8));
    seed(d, "pgm_p2", T_SNIFF, make_pnm("P2\n2 2\n9\n1 2\n3 9\n", 0));
    seed(d, "ppm_p6", T_PNM, make_pnm("P6\n2 2\n255\n", 12));
    seed(d, "ppm_p3", T_PNM, make_pnm("P3\n1 1\n255\n1 2 3\n", 0));
    seed(d, "pbm_p4", T_PNM, make_pnm("P4\n9 2\n", 4));
    seed(d, "jpeg_gray", T_JPEG, make_jpeg(16, 8, 1));
    seed(d, "jpeg_rgb", T_SNIFF, make_jpeg(8, 16, 3));
    seed(d, "zip", T_ARCHIVE, make_archive(1));
    seed(d, "targz", T_ARCHIVE | 0x80, make_archive(0));
    return 0;
}
#endif
