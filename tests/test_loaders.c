/*
 * test_loaders.c — the data-loading layer: decoders (PNG in every colour type and depth, PGM/PPM
 * P1-P6, JPEG), resizing, sources (directory and every archive format, detected by content),
 * IDX, pairs lists, bad input in strict and lenient modes, splits, samplers (balance, class
 * disjointness, determinism), augmentation, the prefetch thread, `sngraph data`, and the real
 * datasets in ../shared/data when present.
 *
 * Every image and archive is generated here (libpng, libjpeg, our own PNM writer, libarchive's
 * writer), so the tests need no fixtures. Synthetic images carry their own identity: pixel 0 is
 * the image number and pixel 1 its class, so a sampled batch can be checked image by image.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <jpeglib.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "loaders/loader_int.h"

/* ---- generators ------------------------------------------------------------------------------ */
typedef struct membuf {
    uint8_t *p;
    size_t n, cap;
} membuf;

static void mb_put(membuf *m, const void *d, size_t n) {
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2 + 64;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}

static void png_mem_write(png_structp png, png_bytep d, size_t n) { mb_put(png_get_io_ptr(png), d, n); }
static void png_mem_flush(png_structp png) { (void)png; }

/* Encodes a PNG: samples (h, w, ch) at `bits` per sample (16-bit given as uint16 values). */
static membuf make_png(int w, int h, int color_type, int bits, const uint16_t *samples,
                       int interlace) {
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) abort();
    png_set_write_fn(png, &m, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, w, h, bits, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    int ch = color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_PALETTE ? 1
           : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : color_type == PNG_COLOR_TYPE_RGB ? 3 : 4;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < 256; i++) pal[i] = (png_color){(uint8_t)i, (uint8_t)(255 - i), 7};
        png_set_PLTE(png, info, pal, 1 << bits);
    }
    png_write_info(png, info);
    if (bits == 16) png_set_swap(png); /* rows are host-order uint16 */
    size_t rb = png_get_rowbytes(png, info);
    uint8_t *rows = calloc(h, rb);
    png_bytep *rp = malloc(sizeof(png_bytep) * h);
    for (int y = 0; y < h; y++) {
        rp[y] = rows + y * rb;
        for (int x = 0; x < w * ch; x++) {
            uint16_t v = samples[(size_t)y * w * ch + x];
            if (bits == 16) ((uint16_t *)rp[y])[x] = v;
            else if (bits == 8) rp[y][x] = (uint8_t)v;
            else {
                int per = 8 / bits, sh = (per - 1 - x % per) * bits;
                rp[y][x / per] |= (uint8_t)(v << sh);
            }
        }
    }
    png_write_image(png, rp);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(rp);
    return m;
}

/* An 8-bit gray PNG from bytes. */
static membuf png_gray(int w, int h, const uint8_t *pix) {
    uint16_t *s = malloc(sizeof(uint16_t) * w * h);
    for (int i = 0; i < w * h; i++) s[i] = pix[i];
    membuf m = make_png(w, h, PNG_COLOR_TYPE_GRAY, 8, s, 0);
    free(s);
    return m;
}

/* PNM in any of P2/P3/P5/P6 with maxval; samples (h, w, ch). */
static membuf make_pnm(int kind, int w, int h, int maxval, const uint16_t *s) {
    membuf m = {0};
    char hdr[128];
    int ch = kind == 3 || kind == 6 ? 3 : 1;
    int k = snprintf(hdr, sizeof hdr, "P%d\n# made by test_loaders\n%d %d\n%d\n", kind, w, h, maxval);
    mb_put(&m, hdr, k);
    for (int i = 0; i < w * h * ch; i++) {
        if (kind <= 3) {
            k = snprintf(hdr, sizeof hdr, "%u%c", s[i], (i + 1) % 12 ? ' ' : '\n');
            mb_put(&m, hdr, k);
        } else if (maxval > 255) {
            uint8_t b[2] = {(uint8_t)(s[i] >> 8), (uint8_t)s[i]};
            mb_put(&m, b, 2);
        } else {
            uint8_t b = (uint8_t)s[i];
            mb_put(&m, &b, 1);
        }
    }
    return m;
}

static membuf pgm_gray(int w, int h, const uint8_t *pix) {
    membuf m = {0};
    char hdr[64];
    int k = snprintf(hdr, sizeof hdr, "P5\n%d %d\n255\n", w, h);
    mb_put(&m, hdr, k);
    mb_put(&m, pix, (size_t)w * h);
    return m;
}

static membuf make_jpeg(int w, int h, int ch, const uint8_t *pix, int quality) {
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
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + (size_t)c.next_scanline * w * ch);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    membuf m = {0};
    mb_put(&m, out, n);
    free(out);
    return m;
}

/* ---- synthetic datasets ---------------------------------------------------------------------- */
typedef struct tfile {
    char path[256];
    membuf data;
    int is_dir;
} tfile;

typedef struct tset {
    tfile f[512];
    int n;
} tset;

static void ts_add(tset *t, const char *path, membuf data) {
    tfile *f = &t->f[t->n++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->data = data;
    f->is_dir = 0;
}

static void ts_dir(tset *t, const char *path) {
    tfile *f = &t->f[t->n++];
    snprintf(f->path, sizeof f->path, "%s", path);
    memset(&f->data, 0, sizeof f->data);
    f->is_dir = 1;
}

static void ts_free(tset *t) {
    for (int i = 0; i < t->n; i++) free(t->f[i].data.p);
    t->n = 0;
}

/* An identity image: pixel 0 = id, pixel 1 = class, the rest a pattern. */
static void ident_pixels(uint8_t *p, int w, int h, int id, int cls) {
    for (int i = 0; i < w * h; i++) p[i] = (uint8_t)((i * 37 + id * 11) & 0xff);
    p[0] = (uint8_t)id;
    p[1] = (uint8_t)cls;
}

/* Omniglot-like: root/G<g>/c<k>/img<i>.{png,pgm}: `ng` groups of `nc` classes of `ni` images,
 * 12x10 (w x h); ids run over all images in path order. Alternate formats per image. */
static void make_omni(tset *t, const char *root, int ng, int nc, int ni, int mixed) {
    int id = 0, cls = 0;
    uint8_t pix[120];
    for (int g = 0; g < ng; g++)
        for (int c = 0; c < nc; c++, cls++)
            for (int i = 0; i < ni; i++, id++) {
                char path[256];
                int fmt = mixed ? id % 2 : 0;
                snprintf(path, sizeof path, "%s%sG%d/c%02d/img%02d.%s", root, *root ? "/" : "", g,
                         c, i, fmt ? "pgm" : "png");
                ident_pixels(pix, 12, 10, id, cls);
                ts_add(t, path, fmt ? pgm_gray(12, 10, pix) : png_gray(12, 10, pix));
            }
}

static void mkdirs(const char *path) {
    char b[1024];
    snprintf(b, sizeof b, "%s", path);
    for (char *p = b + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(b, 0755);
            *p = '/';
        }
    mkdir(b, 0755);
}

/* Writes the set under <tmp>/<name>/ and returns that directory (static buffer per slot). */
static const char *write_dir(const tset *t, const char *name) {
    static char out[4][512];
    static int slot;
    char *d = out[slot++ & 3];
    snprintf(d, 512, "%s/%s", sngt_tmpdir(), name);
    mkdirs(d);
    for (int i = 0; i < t->n; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", d, t->f[i].path);
        if (t->f[i].is_dir) {
            mkdirs(p);
            continue;
        }
        char *s = strrchr(p, '/');
        *s = 0;
        mkdirs(p);
        *s = '/';
        FILE *f = fopen(p, "wb");
        fwrite(t->f[i].data.p, 1, t->f[i].data.n, f);
        fclose(f);
    }
    return d;
}

/* Writes the set as an archive: fmt "zip", "tar", "7z"; filter "none", "gzip", "bzip2", "xz",
 * "zstd". Returns the path (static per slot). */
static const char *write_archive(const tset *t, const char *name, const char *fmt,
                                 const char *filter) {
    static char out[4][512];
    static int slot;
    char *path = out[slot++ & 3];
    snprintf(path, 512, "%s/%s", sngt_tmpdir(), name);
    struct archive *a = archive_write_new();
    if (!strcmp(fmt, "zip")) archive_write_set_format_zip(a);
    else if (!strcmp(fmt, "7z")) archive_write_set_format_7zip(a);
    else archive_write_set_format_pax_restricted(a);
    if (!strcmp(filter, "gzip")) archive_write_add_filter_gzip(a);
    else if (!strcmp(filter, "bzip2")) archive_write_add_filter_bzip2(a);
    else if (!strcmp(filter, "xz")) archive_write_add_filter_xz(a);
    else if (!strcmp(filter, "zstd")) archive_write_add_filter_zstd(a);
    CU_ASSERT_EQUAL_FATAL(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < t->n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, t->f[i].path);
        archive_entry_set_filetype(e, t->f[i].is_dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(e, t->f[i].is_dir ? 0755 : 0644);
        archive_entry_set_size(e, (la_int64_t)t->f[i].data.n);
        archive_write_header(a, e);
        if (t->f[i].data.n) archive_write_data(a, t->f[i].data.p, t->f[i].data.n);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return path;
}

static sngi_dataset *load_opts(const sngi_dataset_opts *o, sng_status want, const char *must_say) {
    sng_ctx *ctx = sng_ctx_new();
    sngi_dataset *d = NULL;
    sng_status st = sngi_dataset_load(ctx, o, &d);
    if (st != want || (must_say && !strstr(sng_ctx_errmsg(ctx), must_say)))
        fprintf(stderr, "\n  load %s: got %s '%s' (wanted %s%s%s)\n", o->source, sng_status_str(st),
                sng_ctx_errmsg(ctx), sng_status_str(want), must_say ? " saying " : "",
                must_say ? must_say : "");
    CU_ASSERT_EQUAL(st, want);
    if (must_say) CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), must_say));
    if (st != SNG_OK) CU_ASSERT_PTR_NULL(d);
    sng_ctx_free(ctx);
    return d;
}

static sngi_dataset *load(const char *src, int strict) {
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = src;
    o.strict = strict;
    return load_opts(&o, SNG_OK, NULL);
}

/* 1 when the dataset has a skip whose entry contains `entry` and reason contains `why`. */
static int has_skip(const sngi_dataset *d, const char *entry, const char *why) {
    for (int i = 0; i < sngi_dataset_n_skipped(d); i++) {
        const char *e, *r;
        sngi_dataset_skipped(d, i, &e, &r);
        if (strstr(e, entry) && strstr(r, why)) return 1;
    }
    fprintf(stderr, "\n  no skip '%s' / '%s' among %d\n", entry, why, sngi_dataset_n_skipped(d));
    return 0;
}

/* ---- decoders -------------------------------------------------------------------------------- */
static void test_png_modes(void) {
    const int w = 7, h = 5;
    uint16_t s[7 * 5 * 4];
    struct { int ct, bits; } cases[] = {
        {PNG_COLOR_TYPE_GRAY, 1}, {PNG_COLOR_TYPE_GRAY, 2}, {PNG_COLOR_TYPE_GRAY, 4},
        {PNG_COLOR_TYPE_GRAY, 8}, {PNG_COLOR_TYPE_GRAY, 16}, {PNG_COLOR_TYPE_GRAY_ALPHA, 8},
        {PNG_COLOR_TYPE_PALETTE, 4}, {PNG_COLOR_TYPE_PALETTE, 8}, {PNG_COLOR_TYPE_RGB, 8},
        {PNG_COLOR_TYPE_RGB, 16}, {PNG_COLOR_TYPE_RGB_ALPHA, 8}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int il = 0; il < 2; il++) {
            int ct = cases[k].ct, bits = cases[k].bits, maxv = (1 << bits) - 1;
            int ch = ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_PALETTE ? 1
                   : ct == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : ct == PNG_COLOR_TYPE_RGB ? 3 : 4;
            for (int i = 0; i < w * h * ch; i++) s[i] = (uint16_t)((i * 7919u) % (maxv + 1u));
            membuf m = make_png(w, h, ct, bits, s, il);
            sngi_image im;
            char why[256];
            CU_ASSERT_EQUAL_FATAL(sngi_decode_png(m.p, m.n, &im, why, sizeof why), SNG_OK);
            int want_c = ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA ? 1 : 3;
            CU_ASSERT_EQUAL(im.c, want_c);
            CU_ASSERT_EQUAL(im.w, w);
            CU_ASSERT_EQUAL(im.h, h);
            CU_ASSERT_EQUAL(im.bits, bits);
            int bad = 0;
            for (int p = 0; p < w * h; p++)
                for (int c = 0; c < want_c; c++) {
                    int got = im.pix[p * want_c + c], exp;
                    if (ct == PNG_COLOR_TYPE_PALETTE) {
                        int idx = s[p];
                        exp = c == 0 ? idx : c == 1 ? 255 - idx : 7;
                    } else {
                        int v = s[p * ch + c]; /* alpha is the last sample: dropped */
                        exp = bits == 16 ? (v * 255 + 32767) / 65535 : v * 255 / maxv;
                    }
                    if (abs(got - exp) > (bits == 16 ? 1 : 0)) bad++;
                }
            if (bad) fprintf(stderr, "\n  PNG ct %d bits %d il %d: %d wrong\n", ct, bits, il, bad);
            CU_ASSERT_EQUAL(bad, 0);
            free(im.pix);
            free(m.p);
        }
}

static void test_png_corrupt(void) {
    uint8_t pix[64 * 64];
    for (int i = 0; i < 64 * 64; i++) pix[i] = (uint8_t)(i * 13);
    membuf m = png_gray(64, 64, pix);
    char why[256];
    sngi_image im;
    /* Every truncation fails cleanly (or, past the last IDAT, still decodes correctly). */
    for (size_t n = 0; n < m.n; n += (n < 64 ? 1 : 7)) {
        sng_status st = sngi_decode_image(m.p, n, &im, why, sizeof why);
        if (st == SNG_OK) {
            CU_ASSERT(n > m.n - 20);
            free(im.pix);
        } else {
            CU_ASSERT_EQUAL(st, SNG_ERR_DATA);
            CU_ASSERT_PTR_NULL(im.pix);
            CU_ASSERT(n < 8 ? strstr(why, "not an image") != NULL
                            : strstr(why, "PNG decode failed") != NULL);
        }
    }
    /* A flipped byte in the image data: a CRC or zlib error, never a crash. */
    uint8_t *c = malloc(m.n);
    memcpy(c, m.p, m.n);
    c[m.n / 2] ^= 0x5a;
    CU_ASSERT_EQUAL(sngi_decode_png(c, m.n, &im, why, sizeof why), SNG_ERR_DATA);
    /* Absurd width in IHDR (CRC fixed up so libpng reaches the limit check). */
    memcpy(c, m.p, m.n);
    c[16] = 0x00; c[17] = 0x01; c[18] = 0x86; c[19] = 0xa0; /* width 100000 */
    uint32_t crc = (uint32_t)crc32(0, c + 12, 17);
    c[29] = crc >> 24; c[30] = crc >> 16; c[31] = crc >> 8; c[32] = crc;
    CU_ASSERT_EQUAL(sngi_decode_png(c, m.n, &im, why, sizeof why), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "PNG decode failed"));
    free(c);
    free(m.p);
}

static void test_pnm(void) {
    const int w = 5, h = 3;
    uint16_t s[5 * 3 * 3];
    int kinds[] = {2, 3, 5, 6}, maxvals[] = {1, 255, 1000, 65535};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            int kind = kinds[a], mv = maxvals[b], ch = kind == 3 || kind == 6 ? 3 : 1;
            for (int i = 0; i < w * h * ch; i++) s[i] = (uint16_t)((i * 977u) % (mv + 1u));
            membuf m = make_pnm(kind, w, h, mv, s);
            sngi_image im;
            char why[256];
            CU_ASSERT_EQUAL_FATAL(sngi_decode_image(m.p, m.n, &im, why, sizeof why), SNG_OK);
            CU_ASSERT_EQUAL(im.c, ch);
            CU_ASSERT_EQUAL(im.w, w);
            CU_ASSERT_EQUAL(im.h, h);
            int bad = 0;
            for (int i = 0; i < w * h * ch; i++)
                bad += im.pix[i] != (s[i] * 255 + mv / 2) / mv;
            CU_ASSERT_EQUAL(bad, 0);
            free(im.pix);
            /* Truncated raster: an error naming it, never a read past the end. */
            if (kind >= 5) {
                CU_ASSERT_EQUAL(sngi_decode_image(m.p, m.n - 1, &im, why, sizeof why), SNG_ERR_DATA);
                CU_ASSERT_PTR_NOT_NULL(strstr(why, "truncated"));
            }
            free(m.p);
        }
    /* P1 and P4 bitmaps: 1 is black. */
    const char *p1 = "P1\n3 2\n1 0 1\n010\n";
    sngi_image im;
    char why[256];
    CU_ASSERT_EQUAL_FATAL(sngi_decode_image((const uint8_t *)p1, strlen(p1), &im, why, sizeof why), SNG_OK);
    CU_ASSERT(im.pix[0] == 0 && im.pix[1] == 255 && im.pix[2] == 0 && im.pix[4] == 0);
    free(im.pix);
    const uint8_t p4[] = {'P', '4', '\n', '3', ' ', '2', '\n', 0xa0, 0x40};
    CU_ASSERT_EQUAL_FATAL(sngi_decode_image(p4, sizeof p4, &im, why, sizeof why), SNG_OK);
    CU_ASSERT(im.pix[0] == 0 && im.pix[1] == 255 && im.pix[2] == 0 && im.pix[3] == 255 &&
              im.pix[4] == 0);
    free(im.pix);
    /* Absurd sizes, bad maxval, bad samples. */
    const char *bad[] = {"P5\n99999 2\n255\n", "P5\n0 2\n255\n", "P5\n2 2\n70000\n",
                         "P2\n2 1\n10\n5 11\n", "P2\n2 1\n10\n5 x\n", "P7\nWIDTH 2\n", "P5\n2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(sngi_decode_image((const uint8_t *)bad[i], strlen(bad[i]), &im, why,
                                          sizeof why), SNG_ERR_DATA);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "PNM decode failed"));
    }
}

static void test_jpeg(void) {
    const int w = 32, h = 24;
    uint8_t pix[32 * 24 * 3];
    for (int ch = 1; ch <= 3; ch += 2) {
        for (int i = 0; i < w * h * ch; i++) pix[i] = (uint8_t)(100 + (i % (w * ch)) / ch * 2);
        membuf m = make_jpeg(w, h, ch, pix, 95);
        sngi_image im;
        char why[256];
        CU_ASSERT_EQUAL_FATAL(sngi_decode_image(m.p, m.n, &im, why, sizeof why), SNG_OK);
        CU_ASSERT_EQUAL(im.c, ch);
        CU_ASSERT_EQUAL(im.w, w);
        CU_ASSERT_EQUAL(im.h, h);
        double err = 0;
        for (int i = 0; i < w * h * ch; i++) err += abs(im.pix[i] - pix[i]);
        CU_ASSERT(err / (w * h * ch) < 3.0);
        free(im.pix);
        /* Truncations and corruptions fail with a message; none exits the process. */
        for (size_t n = 3; n < m.n - 2; n += 23) {
            sng_status st = sngi_decode_image(m.p, n, &im, why, sizeof why);
            CU_ASSERT_EQUAL(st, SNG_ERR_DATA);
            if (st == SNG_OK) free(im.pix);
            else CU_ASSERT_PTR_NOT_NULL(strstr(why, "JPEG decode failed"));
        }
        for (size_t k = 20; k < m.n; k += 97) {
            uint8_t *c = malloc(m.n);
            memcpy(c, m.p, m.n);
            c[k] ^= 0xff;
            if (sngi_decode_image(c, m.n, &im, why, sizeof why) == SNG_OK) free(im.pix);
            free(c);
        }
        free(m.p);
    }
}

static void test_resize(void) {
    uint8_t src[16], dst[64];
    /* Area down 4x4 -> 2x2: exact block means. */
    for (int i = 0; i < 16; i++) src[i] = (uint8_t)(i * 10);
    CU_ASSERT_EQUAL(sngi_image_convert(src, 1, 4, 4, dst, 1, 2, 2), SNG_OK);
    CU_ASSERT_EQUAL(dst[0], (0 + 10 + 40 + 50) / 4 + 0);
    CU_ASSERT_EQUAL(dst[3], (100 + 110 + 140 + 150 + 2) / 4);
    /* Bilinear up: a constant stays constant, a ramp stays monotone within its range. */
    memset(src, 77, sizeof src);
    CU_ASSERT_EQUAL(sngi_image_convert(src, 1, 2, 2, dst, 1, 8, 8), SNG_OK);
    int ok = 1;
    for (int i = 0; i < 64; i++) ok &= dst[i] == 77;
    CU_ASSERT(ok);
    uint8_t ramp[2] = {0, 200};
    CU_ASSERT_EQUAL(sngi_image_convert(ramp, 1, 1, 2, dst, 1, 1, 8), SNG_OK);
    for (int i = 1; i < 8; i++) CU_ASSERT(dst[i] >= dst[i - 1]);
    CU_ASSERT(dst[0] == 0 && dst[7] == 200);
    /* Channels: gray to RGB replicates; RGB to gray is Rec. 601 luma. */
    uint8_t g[1] = {90}, rgb[3] = {255, 0, 0}, o3[3], o1[1];
    CU_ASSERT_EQUAL(sngi_image_convert(g, 1, 1, 1, o3, 3, 1, 1), SNG_OK);
    CU_ASSERT(o3[0] == 90 && o3[1] == 90 && o3[2] == 90);
    CU_ASSERT_EQUAL(sngi_image_convert(rgb, 3, 1, 1, o1, 1, 1, 1), SNG_OK);
    CU_ASSERT_EQUAL(o1[0], 76);
}

/* ---- sources ----------------------------------------------------------------------------------- */
/* Compares two datasets: same classes, groups, labels, pixels. */
static void same_dataset(const sngi_dataset *a, const sngi_dataset *b) {
    CU_ASSERT_EQUAL_FATAL(sngi_dataset_n_images(a), sngi_dataset_n_images(b));
    CU_ASSERT_EQUAL_FATAL(sngi_dataset_n_classes(a), sngi_dataset_n_classes(b));
    CU_ASSERT_EQUAL(sngi_dataset_n_groups(a), sngi_dataset_n_groups(b));
    for (int c = 0; c < sngi_dataset_n_classes(a); c++)
        CU_ASSERT_STRING_EQUAL(sngi_dataset_class_name(a, c), sngi_dataset_class_name(b, c));
    int diff = 0;
    for (int i = 0; i < sngi_dataset_n_images(a); i++) {
        diff += sngi_dataset_label(a, i) != sngi_dataset_label(b, i);
        diff += memcmp(sngi_dataset_pixels(a, i), sngi_dataset_pixels(b, i), 120) != 0;
    }
    CU_ASSERT_EQUAL(diff, 0);
}

static void test_sources_all_formats(void) {
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "set", 2, 3, 4, 1);
    /* Written in reverse order: image ids must not depend on the order in the source. */
    tset *r = calloc(1, sizeof *r);
    for (int i = t->n - 1; i >= 0; i--) r->f[r->n++] = t->f[i];
    sngi_dataset *dir = load(write_dir(t, "fmt_dir"), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(sngi_dataset_n_classes(dir), 6);
    CU_ASSERT_EQUAL(sngi_dataset_n_groups(dir), 2);
    CU_ASSERT_EQUAL(sngi_dataset_n_images(dir), 24);
    CU_ASSERT_EQUAL(sngi_dataset_class_depth(dir), 2);
    CU_ASSERT_STRING_EQUAL(sngi_dataset_class_name(dir, 0), "G0/c00");
    CU_ASSERT_STRING_EQUAL(sngi_dataset_group_name(dir, sngi_dataset_class_group(dir, 5)), "G1");
    /* Identity pixels: image i is the i-th in path order, its class pixel matches its label. */
    for (int i = 0; i < 24; i++) {
        CU_ASSERT_EQUAL(sngi_dataset_pixels(dir, i)[0], i);
        CU_ASSERT_EQUAL(sngi_dataset_pixels(dir, i)[1], sngi_dataset_label(dir, i));
    }
    const char *fmts[][3] = {{"zip", "none", "a.zip"}, {"tar", "none", "a.tar"},
                             {"tar", "gzip", "a.tar.gz"}, {"tar", "bzip2", "a.tar.bz2"},
                             {"tar", "xz", "a.tar.xz"}, {"tar", "zstd", "a.tar.zst"},
                             {"7z", "none", "a.7z"}, {"zip", "none", "misnamed.jpg"},
                             {"tar", "gzip", "no_extension"}};
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        const char *p = write_archive(k % 2 ? r : t, fmts[k][2], fmts[k][0], fmts[k][1]);
        sngi_dataset *d = load(p, 1);
        if (!d) {
            fprintf(stderr, "\n  format %s/%s failed\n", fmts[k][0], fmts[k][1]);
            continue;
        }
        same_dataset(dir, d);
        CU_ASSERT_PTR_NOT_NULL(strstr(d->kind, fmts[k][0]));
        sngi_dataset_free(d);
    }
    /* Explicit depth 1 on the same layout: the groups become the classes. */
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = write_dir(t, "fmt_dir");
    o.class_depth = 1;
    sngi_dataset *d1 = load_opts(&o, SNG_OK, NULL);
    CU_ASSERT_EQUAL(sngi_dataset_n_classes(d1), 2);
    CU_ASSERT_EQUAL(sngi_dataset_class_count(d1, 0), 12);
    sngi_dataset_free(d1);
    /* Finding entries with or without the common prefix. */
    CU_ASSERT_EQUAL(sngi_dataset_find(dir, "set/G0/c01/img02.png"), 6);
    CU_ASSERT_EQUAL(sngi_dataset_find(dir, "G0/c01/img03.pgm"), 7);
    CU_ASSERT_EQUAL(sngi_dataset_find(dir, "G0/c01/nope.png"), -1);
    sngi_dataset_free(dir);
    ts_free(t);
    free(t);
    free(r);
}

static void test_resize_on_load(void) {
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "", 1, 2, 3, 0);
    /* Add a colour JPEG of another size: with a target size it is converted and resized. */
    uint8_t rgb[20 * 16 * 3];
    for (int i = 0; i < 20 * 16 * 3; i++) rgb[i] = (uint8_t)(i % 3 == 0 ? 200 : 50);
    ts_add(t, "G0/c01/big.jpg", make_jpeg(20, 16, 3, rgb, 90));
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = write_archive(t, "resize.zip", "zip", "none");
    o.channels = 3;
    o.height = 21;
    o.width = 23;
    o.strict = 1;
    sngi_dataset *d = load_opts(&o, SNG_OK, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int c, h, w;
    sngi_dataset_shape(d, &c, &h, &w);
    CU_ASSERT(c == 3 && h == 21 && w == 23);
    CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 7);
    CU_ASSERT_EQUAL(sngi_dataset_pixel_bytes(d), 7 * 3 * 21 * 23);
    int big = sngi_dataset_find(d, "G0/c01/big.jpg");
    CU_ASSERT_FATAL(big >= 0);
    const uint8_t *p = sngi_dataset_pixels(d, big);
    CU_ASSERT(abs(p[0] - 200) < 8 && abs(p[21 * 23 + 5] - 50) < 8); /* planar R then G */
    sngi_dataset_free(d);
    /* Without a target size, the odd-sized image is a "wrong size" entry. */
    sngi_dataset_opts_init(&o);
    o.source = write_archive(t, "resize2.zip", "zip", "none");
    o.strict = 1;
    load_opts(&o, SNG_ERR_DATA, "entry 'G0/c01/big.jpg': wrong size 20x16");
    o.strict = 0;
    d = load_opts(&o, SNG_OK, NULL);
    CU_ASSERT(has_skip(d, "G0/c01/big.jpg", "wrong size"));
    CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 6);
    sngi_dataset_free(d);
    ts_free(t);
    free(t);
}

/* ---- bad input ----------------------------------------------------------------------------------- */
static void test_bad_entries(void) {
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "root", 2, 3, 3, 0);
    uint8_t pix[120] = {0};
    membuf good = png_gray(12, 10, pix);
    membuf trunc = {0};
    mb_put(&trunc, good.p, good.n / 2);
    ts_add(t, "root/G0/c00/notes.txt", (membuf){(uint8_t *)strdup("hello"), 5, 6});
    ts_add(t, "root/G0/c01/broken.png", trunc);
    membuf badpgm = {0};
    mb_put(&badpgm, "P5\n12 10\n255\n\1\2", 15);
    ts_add(t, "root/G0/c02/short.pgm", badpgm);
    ts_dir(t, "root/G0/c03");                      /* an empty class */
    ts_add(t, "root/G0/c04/only.png", good);       /* a single-image class */
    ts_add(t, "root/G0/stray.png", png_gray(12, 10, pix)); /* not inside a class folder */
    const char *zip = write_archive(t, "bad.zip", "zip", "none");
    const char *dir = write_dir(t, "bad_dir");
    const char *srcs[2] = {zip, dir};
    for (int k = 0; k < 2; k++) {
        sngi_dataset *d = load(srcs[k], 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_EQUAL(sngi_dataset_n_classes(d), 7); /* 2 x 3 and the single-image one */
        CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 19);
        CU_ASSERT(has_skip(d, "root/G0/c00/notes.txt", "not an image"));
        CU_ASSERT(has_skip(d, "root/G0/c01/broken.png", "PNG decode failed"));
        CU_ASSERT(has_skip(d, "root/G0/c02/short.pgm", "truncated raster"));
        CU_ASSERT(has_skip(d, "root/G0/c03", "empty class 'G0/c03'"));
        CU_ASSERT(has_skip(d, "root/G0/c04/only.png", "single image"));
        CU_ASSERT(has_skip(d, "root/G0/stray.png", "not inside a class folder"));
        /* `sngraph data` lists them. */
        char *txt = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&txt, &n);
        sngi_data_describe(d, f, 0);
        fclose(f);
        CU_ASSERT_PTR_NOT_NULL(strstr(txt, "root/G0/c01/broken.png: PNG decode failed"));
        free(txt);
        sngi_dataset_free(d);
    }
    /* Strict: each problem alone fails, naming the source and the entry. */
    struct { const char *path; const char *say; } one[] = {
        {"root/G0/c00/notes.txt", "entry 'root/G0/c00/notes.txt': not an image"},
        {"root/G0/c01/broken.png", "entry 'root/G0/c01/broken.png': PNG decode failed"},
        {"root/G0/c02/short.pgm", "entry 'root/G0/c02/short.pgm': PNM decode failed"},
        {"root/G0/c03", "class 'G0/c03' is empty"},
        {"root/G0/c04/only.png", "class 'G0/c04' has a single image"},
        {"root/G0/stray.png", "entry 'root/G0/stray.png': not inside a class folder"}};
    for (size_t k = 0; k < sizeof one / sizeof one[0]; k++) {
        tset *s = calloc(1, sizeof *s);
        make_omni(s, "root", 2, 3, 3, 0);
        for (int i = 0; i < t->n; i++)
            if (!strcmp(t->f[i].path, one[k].path)) {
                s->f[s->n] = t->f[i];
                s->f[s->n].data.p = malloc(t->f[i].data.n + 1);
                if (t->f[i].data.n) memcpy(s->f[s->n].data.p, t->f[i].data.p, t->f[i].data.n);
                s->n++;
            }
        char name[64];
        snprintf(name, sizeof name, "strict%zu.tar", k);
        sngi_dataset_opts o;
        sngi_dataset_opts_init(&o);
        o.source = write_archive(s, name, "tar", "none");
        o.strict = 1;
        load_opts(&o, SNG_ERR_DATA, one[k].say);
        load_opts(&o, SNG_ERR_DATA, name);
        o.strict = 0;
        sngi_dataset_free(load_opts(&o, SNG_OK, NULL));
        ts_free(s);
        free(s);
    }
    ts_free(t);
    free(t);
}

static void test_bad_archives(void) {
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "x", 2, 2, 5, 0);
    const char *zip = write_archive(t, "whole.zip", "zip", "none");
    const char *tgz = write_archive(t, "whole.tar.gz", "tar", "gzip");
    /* Truncated copies. */
    const char *srcs[2] = {zip, tgz};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(srcs[k], "rb");
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *b = malloc(n);
        CU_ASSERT_EQUAL(fread(b, 1, n, f), (size_t)n);
        fclose(f);
        char path[600];
        snprintf(path, sizeof path, "%s.cut", srcs[k]);
        f = fopen(path, "wb");
        fwrite(b, 1, n * 6 / 10, f);
        fclose(f);
        sngi_dataset_opts o;
        sngi_dataset_opts_init(&o);
        o.source = path;
        o.strict = 1;
        load_opts(&o, SNG_ERR_DATA, ".cut");
        o.strict = 0;
        if (k == 0) { /* zip: fails naming the entry; with allow_partial the entries before the
                         cut are read and the loss is reported */
            load_opts(&o, SNG_ERR_DATA, "whole.zip.cut: corrupt or truncated after entry 'x/G");
            load_opts(&o, SNG_ERR_DATA, "data.allow_partial=1");
            o.allow_partial = 1;
            sngi_dataset *d = load_opts(&o, SNG_OK, NULL);
            o.allow_partial = 0;
            if (d) {
                CU_ASSERT(sngi_dataset_n_images(d) > 0 && sngi_dataset_n_images(d) < 20);
                CU_ASSERT(has_skip(d, "", "later entries are missing"));
                sngi_dataset_free(d);
            }
        } else { /* a small tar.gz is cut before its first header can be read */
            sng_ctx *ctx = sng_ctx_new();
            sngi_dataset *d = NULL;
            o.allow_partial = 1;
            sng_status st = sngi_dataset_load(ctx, &o, &d);
            o.allow_partial = 0;
            if (st == SNG_OK) {
                CU_ASSERT(has_skip(d, "", "later entries are missing"));
                sngi_dataset_free(d);
            } else {
                CU_ASSERT_EQUAL(st, SNG_ERR_DATA);
                if (!strstr(sng_ctx_errmsg(ctx), "whole.tar.gz.cut: corrupt or truncated"))
                    fprintf(stderr, "\n  %s\n", sng_ctx_errmsg(ctx));
                CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "whole.tar.gz.cut: corrupt or "
                                                                   "truncated"));
            }
            sng_ctx_free(ctx);
        }
        /* Garbage in the middle of the compressed stream. */
        for (long i = n / 3; i < n / 3 + 64 && i < n; i++) b[i] ^= 0xa5;
        snprintf(path, sizeof path, "%s.bad", srcs[k]);
        f = fopen(path, "wb");
        fwrite(b, 1, n, f);
        fclose(f);
        o.source = path;
        o.strict = 1;
        sng_ctx *ctx = sng_ctx_new();
        sngi_dataset *bd = NULL;
        CU_ASSERT_EQUAL(sngi_dataset_load(ctx, &o, &bd), SNG_ERR_DATA);
        CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), ".bad"));
        o.strict = 0;
        if (sngi_dataset_load(ctx, &o, &bd) == SNG_OK) sngi_dataset_free(bd);
        sng_ctx_free(ctx);
        free(b);
    }
    /* Not an archive at all; an empty file; a missing path; an empty directory. */
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = sngt_write_file("random.bin", "this is not an archive, not an image, not IDX\n");
    load_opts(&o, SNG_ERR_DATA, "random.bin: not a directory, IDX file or readable archive");
    o.source = sngt_write_file("empty.zip", "");
    load_opts(&o, SNG_ERR_DATA, "no images found");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/does/not/exist.zip", sngt_tmpdir());
    o.source = missing;
    load_opts(&o, SNG_ERR_IO, "exist.zip: No such file or directory");
    char empty[600];
    snprintf(empty, sizeof empty, "%s/emptydir", sngt_tmpdir());
    mkdir(empty, 0755);
    o.source = empty;
    load_opts(&o, SNG_ERR_DATA, "no images found");
    ts_free(t);
    free(t);
}

/* ---- the walker itself -------------------------------------------------------------------------- */
typedef struct walk_count {
    int files, bad;
    char last_bad[512];
} walk_count;

static sng_status count_file(void *ud, const char *path, const uint8_t *data, size_t n) {
    (void)path, (void)data, (void)n;
    ((walk_count *)ud)->files++;
    return SNG_OK;
}

static sng_status count_bad(void *ud, const char *path, const char *why, int fatal) {
    walk_count *w = ud;
    (void)fatal;
    w->bad++;
    snprintf(w->last_bad, sizeof w->last_bad, "%s: %s", path ? path : "", why);
    return SNG_OK;
}

/* Subfolders and folder entries with no dir callback (as embed, gallery add --from and
 * init_from walk); symlink loops walked once; a FIFO neither blocks nor is read. */
static void test_walker_dirs_loops_fifo(void) {
    alarm(60); /* a walk that blocks on the FIFO or loops fails the test instead of hanging */
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "people", 1, 2, 3, 0);
    ts_dir(t, "people");
    ts_dir(t, "people/G0");
    const char *dir = write_dir(t, "walk_dir");
    const char *zip = write_archive(t, "walk_dirs.zip", "zip", "none");
    sng_ctx *ctx = sng_ctx_new();
    walk_count w = {0};
    sngi_walk_cb only_files = {.ud = &w, .file = count_file};
    CU_ASSERT_EQUAL(sngi_walk_path(ctx, dir, &only_files, NULL, 0), SNG_OK);
    CU_ASSERT_EQUAL(w.files, 6);
    memset(&w, 0, sizeof w);
    CU_ASSERT_EQUAL(sngi_walk_path(ctx, zip, &only_files, NULL, 0), SNG_OK);
    CU_ASSERT_EQUAL(w.files, 6);
    /* Loops: x -> ., y -> ., up -> .. each reached folder is walked once. */
    char p[1024];
    snprintf(p, sizeof p, "%s/people/x", dir);
    CU_ASSERT_EQUAL(symlink(".", p), 0);
    snprintf(p, sizeof p, "%s/people/y", dir);
    CU_ASSERT_EQUAL(symlink(".", p), 0);
    snprintf(p, sizeof p, "%s/people/G0/up", dir);
    CU_ASSERT_EQUAL(symlink("..", p), 0);
    snprintf(p, sizeof p, "%s/people/G0/c00/fifo.png", dir);
    CU_ASSERT_EQUAL(mkfifo(p, 0644), 0);
    sngi_walk_cb counting = {.ud = &w, .file = count_file, .bad = count_bad};
    memset(&w, 0, sizeof w);
    CU_ASSERT_EQUAL(sngi_walk_path(ctx, dir, &counting, NULL, 0), SNG_OK);
    CU_ASSERT_EQUAL(w.files, 6);
    CU_ASSERT_EQUAL(w.bad, 4); /* fifo, up, x, y */
    /* With no bad callback the first such entry fails the walk, naming it. */
    memset(&w, 0, sizeof w);
    CU_ASSERT_EQUAL(sngi_walk_path(ctx, dir, &only_files, NULL, 0), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "people/G0/c00/fifo.png: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "not a regular file"));
    /* The FIFO as the source itself is refused at once. */
    CU_ASSERT_EQUAL(sngi_walk_path(ctx, p, &counting, NULL, 0), SNG_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "not a regular file or directory"));
    /* The dataset loader skips the loops with a warning and keeps every image once. */
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = dir;
    sngi_dataset *d = load_opts(&o, SNG_OK, NULL);
    if (d) {
        CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 6);
        sngi_dataset_free(d);
    }
    /* A FIFO as the pairs list is refused, not read. */
    o.pairs_csv = p;
    load_opts(&o, SNG_ERR_IO, "fifo.png' is neither a readable file (not a regular file)");
    alarm(0);
    sng_ctx_free(ctx);
    ts_free(t);
    free(t);
}

/* ---- IDX -------------------------------------------------------------------------------------- */
static void write_idx(const char *path, int gz, int n, int h, int w, int trunc) {
    gzFile f = gzopen(path, gz ? "wb" : "wbT");
    uint8_t hdr[16] = {0, 0, 8, 3};
    uint32_t dims[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w};
    for (int i = 0; i < 3; i++) {
        hdr[4 + 4 * i] = dims[i] >> 24;
        hdr[5 + 4 * i] = dims[i] >> 16;
        hdr[6 + 4 * i] = dims[i] >> 8;
        hdr[7 + 4 * i] = dims[i];
    }
    gzwrite(f, hdr, 16);
    for (int i = 0; i < n * h * w - trunc; i++) {
        uint8_t v = (uint8_t)(i / (h * w));
        gzwrite(f, &v, 1);
    }
    gzclose(f);
    char lp[600];
    snprintf(lp, sizeof lp, "%s", path);
    memcpy(strstr(lp, "images-idx3"), "labels-idx1", 11);
    f = gzopen(lp, gz ? "wb" : "wbT");
    uint8_t lh[8] = {0, 0, 8, 1, 0, 0, (uint8_t)(n >> 8), (uint8_t)n};
    gzwrite(f, lh, 8);
    for (int i = 0; i < n; i++) {
        uint8_t v = (uint8_t)(7 - i % 3); /* labels 7, 6, 5 */
        gzwrite(f, &v, 1);
    }
    gzclose(f);
}

/* Writes an IDX header with the given count and dims plus `extra` bytes of data. */
static void write_idx_header(const char *path, uint8_t kind, uint32_t n, uint32_t h, uint32_t w,
                             int extra) {
    FILE *f = fopen(path, "wb");
    uint8_t hdr[16] = {0, 0, 8, kind};
    uint32_t dims[3] = {n, h, w};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++) hdr[4 + 4 * i + b] = (uint8_t)(dims[i] >> (24 - 8 * b));
    fwrite(hdr, 1, kind == 3 ? 16 : 8, f);
    for (int i = 0; i < extra; i++) fputc(i & 7, f);
    fclose(f);
}

/* Forged counts and sizes: a tiny file claiming a billion images or labels fails as truncated
 * (memory grows with what the file holds), and an image over the pixel limit is refused
 * before anything is allocated for it. */
static void test_idx_forged_header(void) {
    char img[600], lab[600];
    snprintf(img, sizeof img, "%s/forged-images-idx3-ubyte", sngt_tmpdir());
    snprintf(lab, sizeof lab, "%s/forged-labels-idx1-ubyte", sngt_tmpdir());
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = img;
    write_idx_header(img, 3, 1000000000u, 4096, 4096, 100);
    write_idx_header(lab, 1, 1000000000u, 0, 0, 100);
    load_opts(&o, SNG_ERR_DATA, "truncated IDX labels file: 100 of 1000000000 labels");
    /* Labels that are all there, images that are not: truncated at the first image. */
    write_idx_header(img, 3, 3, 4096, 4096, 100);
    write_idx_header(lab, 1, 3, 0, 0, 3);
    load_opts(&o, SNG_ERR_DATA, "image 1 of 3 is incomplete");
    write_idx_header(img, 3, 200000000u, 16, 16, 16 * 16 * 5);
    write_idx_header(lab, 1, 200000000u, 0, 0, 5);
    load_opts(&o, SNG_ERR_DATA, "truncated IDX labels file");
    /* A FIFO as the labels file is refused, not waited on. */
    write_idx_header(img, 3, 3, 4, 4, 48);
    char fifo[700];
    snprintf(fifo, sizeof fifo, "%s/labels.fifo", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0644), 0);
    o.idx_labels = fifo;
    alarm(30);
    load_opts(&o, SNG_ERR_IO, "labels.fifo': not a regular file");
    alarm(0);
    o.idx_labels = NULL;
    /* 16384 x 16384 is within the side limit but over the pixel limit. */
    write_idx_header(img, 3, 1, 16384, 16384, 0);
    load_opts(&o, SNG_ERR_DATA, "pixels");
}

static void test_idx(void) {
    char p[600];
    for (int gz = 0; gz < 2; gz++) {
        snprintf(p, sizeof p, "%s/t-images-idx3-ubyte%s", sngt_tmpdir(), gz ? ".gz" : "");
        write_idx(p, gz, 30, 6, 4, 0);
        sngi_dataset *d = load(p, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 30);
        CU_ASSERT_EQUAL(sngi_dataset_n_classes(d), 3);
        CU_ASSERT_STRING_EQUAL(sngi_dataset_class_name(d, 0), "5");
        CU_ASSERT_STRING_EQUAL(sngi_dataset_class_name(d, 2), "7");
        int c, h, w;
        sngi_dataset_shape(d, &c, &h, &w);
        CU_ASSERT(c == 1 && h == 6 && w == 4);
        /* Sorted by class, file order within: class "5" holds images 2, 5, 8, ... */
        CU_ASSERT_EQUAL(sngi_dataset_class_count(d, 0), 10);
        CU_ASSERT_EQUAL(sngi_dataset_pixels(d, 0)[0], 2);
        CU_ASSERT_EQUAL(sngi_dataset_pixels(d, 1)[0], 5);
        CU_ASSERT_EQUAL(sngi_dataset_label(d, 29), 2);
        sngi_dataset_free(d);
    }
    snprintf(p, sizeof p, "%s/cut-images-idx3-ubyte.gz", sngt_tmpdir());
    write_idx(p, 1, 10, 6, 4, 30);
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = p;
    o.strict = 1;
    load_opts(&o, SNG_ERR_DATA, "truncated IDX file");
    o.strict = 0; /* not strict: a truncated file still fails, unless partial data is allowed */
    load_opts(&o, SNG_ERR_DATA, "image 9 of 10 is incomplete (data.allow_partial=1");
    o.allow_partial = 1;
    sngi_dataset *d = load_opts(&o, SNG_OK, NULL);
    CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 8);
    CU_ASSERT(has_skip(d, "", "truncated IDX"));
    sngi_dataset_free(d);
    o.allow_partial = 0;
    o.idx_labels = "/nonexistent/labels";
    load_opts(&o, SNG_ERR_IO, "IDX labels '/nonexistent/labels'");
}

/* ---- pairs list ---------------------------------------------------------------------------------- */
static void test_pairs_csv(void) {
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "top", 1, 2, 3, 0);
    const char *csv = "path_a,path_b,label\n"
                      "top/G0/c00/img00.png,top/G0/c00/img01.png,1\n"
                      "\"G0/c00/img02.png\", G0/c01/img00.png ,0\n"
                      "# a comment\n\n"
                      "G0/c01/img01.png,G0/c01/img02.png,1\r\n";
    ts_add(t, "top/pairs.csv", (membuf){(uint8_t *)strdup(csv), strlen(csv), 0});
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = write_archive(t, "pairs.tar.xz", "tar", "xz");
    o.pairs_csv = "pairs.csv"; /* an entry of the archive */
    o.strict = 1;
    o.scale = 1.0f;
    sngi_dataset *d = load_opts(&o, SNG_OK, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(d->n_pairs, 3);
    CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 6); /* the CSV is not an image entry */
    sng_ctx *ctx = sng_ctx_new();
    sngi_sampler_opts so;
    sngi_sampler_opts_init(&so);
    so.kind = SNG_SAMPLE_LIST;
    sngi_sampler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_sampler_new(ctx, d, NULL, &so, &s), SNG_OK);
    size_t chw = 120;
    float *a = malloc(sizeof(float) * 4 * chw), *b = malloc(sizeof(float) * 4 * chw), lab[4];
    float *bufs[3] = {a, b, lab};
    sngi_sampler_fill(s, 4, 1, 0, bufs);
    CU_ASSERT(a[0] == 0 && b[0] == 1 && lab[0] == 1);
    CU_ASSERT(a[chw] == 2 && b[chw] == 3 && lab[1] == 0);
    CU_ASSERT(a[2 * chw] == 4 && b[2 * chw] == 5 && lab[2] == 1);
    CU_ASSERT(a[3 * chw] == 0 && lab[3] == 1); /* wraps around */
    free(a);
    free(b);
    sngi_sampler_free(s);
    sngi_dataset_free(d);
    /* On disk, with an unresolvable line: strict fails naming file:line, lenient skips. */
    o.pairs_csv = sngt_write_file("disk/pairs.csv", "G0/c00/img00.png,G0/c00/img01.png,1\n"
                                                 "G0/c00/img00.png,G0/c09/missing.png,0\n");
    load_opts(&o, SNG_ERR_DATA, "pairs.csv:2: 'G0/c09/missing.png' is not an image");
    o.strict = 0;
    d = load_opts(&o, SNG_OK, NULL);
    CU_ASSERT_EQUAL(d->n_pairs, 1);
    CU_ASSERT(has_skip(d, "disk/pairs.csv:2", "missing.png"));
    sngi_dataset_free(d);
    o.pairs_csv = "nowhere.csv";
    load_opts(&o, SNG_ERR_IO, "nowhere.csv");
    sng_ctx_free(ctx);
    ts_free(t);
    free(t);
}

/* ---- splits ---------------------------------------------------------------------------------------- */
static sngi_dataset *synthetic(int ng, int nc, int ni, const char *name) {
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "", ng, nc, ni, 0);
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = write_archive(t, name, "zip", "none");
    o.scale = 1.0f; /* floats equal the stored bytes: identities can be read back */
    sngi_dataset *d = load_opts(&o, SNG_OK, NULL);
    ts_free(t);
    free(t);
    return d;
}

static void test_splits(void) {
    sngi_dataset *d = synthetic(4, 5, 3, "split.zip"); /* 4 groups x 5 classes x 3 images */
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    sng_ctx *ctx = sng_ctx_new();
    sngi_split_opts o;
    sngi_split_opts_init(&o);
    o.frac[0] = 0.6;
    o.frac[1] = 0.2;
    o.frac[2] = 0.2;
    sngi_subset *s[3], *s2[3];
    CU_ASSERT_EQUAL_FATAL(sngi_split(ctx, d, &o, s), SNG_OK);
    CU_ASSERT_EQUAL(sngi_subset_n_classes(s[0]), 12);
    CU_ASSERT_EQUAL(sngi_subset_n_classes(s[1]), 4);
    CU_ASSERT_EQUAL(sngi_subset_n_classes(s[2]), 4);
    int seen[20] = {0};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < sngi_subset_n_classes(s[k]); i++) seen[sngi_subset_class(s[k], i)]++;
    for (int c = 0; c < 20; c++) CU_ASSERT_EQUAL(seen[c], 1); /* disjoint and complete */
    /* Same seed, same split; another seed, another split. */
    CU_ASSERT_EQUAL_FATAL(sngi_split(ctx, d, &o, s2), SNG_OK);
    int same = 1;
    for (int i = 0; i < 4; i++) same &= sngi_subset_class(s[1], i) == sngi_subset_class(s2[1], i);
    CU_ASSERT(same);
    for (int k = 0; k < 3; k++) sngi_subset_free(s2[k]);
    o.seed = 99;
    CU_ASSERT_EQUAL_FATAL(sngi_split(ctx, d, &o, s2), SNG_OK);
    same = 1;
    for (int i = 0; i < 4; i++) same &= sngi_subset_class(s[1], i) == sngi_subset_class(s2[1], i);
    CU_ASSERT(!same);
    for (int k = 0; k < 3; k++) {
        sngi_subset_free(s[k]);
        sngi_subset_free(s2[k]);
    }
    /* By group: whole alphabets. */
    o.by_group = 1;
    o.frac[0] = 0.5;
    o.frac[1] = 0.25;
    o.frac[2] = 0.25;
    CU_ASSERT_EQUAL_FATAL(sngi_split(ctx, d, &o, s), SNG_OK);
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(sngi_subset_n_classes(s[k]), k ? 5 : 10);
        int g = sngi_dataset_class_group(d, sngi_subset_class(s[k], 0)), one = 1;
        for (int i = 0; i < sngi_subset_n_classes(s[k]); i++)
            one &= k == 0 || sngi_dataset_class_group(d, sngi_subset_class(s[k], i)) == g;
        CU_ASSERT(one);
        sngi_subset_free(s[k]);
    }
    /* Lists and patterns. */
    sngi_split_opts_init(&o);
    o.lists[1] = "G1/*";
    o.lists[2] = "G2/c00, G3/c0[12]";
    CU_ASSERT_EQUAL_FATAL(sngi_split(ctx, d, &o, s), SNG_OK);
    CU_ASSERT_EQUAL(sngi_subset_n_classes(s[0]), 12);
    CU_ASSERT_EQUAL(sngi_subset_n_classes(s[1]), 5);
    CU_ASSERT_EQUAL(sngi_subset_n_classes(s[2]), 3);
    for (int k = 0; k < 3; k++) sngi_subset_free(s[k]);
    /* Empty sets are errors naming the set. */
    o.lists[1] = "Hebrew/*";
    CU_ASSERT_EQUAL(sngi_split(ctx, d, &o, s), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "validation set empty"));
    CU_ASSERT_PTR_NULL(s[0]);
    sngi_split_opts_init(&o);
    o.frac[1] = 0.01;
    CU_ASSERT_EQUAL(sngi_split(ctx, d, &o, s), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "fraction 0.01 of 20 classes rounds to 0"));
    o.frac[1] = 0.7;
    o.frac[2] = 0.7;
    CU_ASSERT_EQUAL(sngi_split(ctx, d, &o, s), SNG_ERR_USAGE);
    /* Image level: every class everywhere, images disjoint. */
    sngi_split_opts_init(&o);
    o.by_image = 1;
    o.frac[0] = 1.0 / 3;
    o.frac[1] = 1.0 / 3;
    o.frac[2] = 1.0 / 3;
    CU_ASSERT_EQUAL_FATAL(sngi_split(ctx, d, &o, s), SNG_OK);
    int img_seen[60] = {0};
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(sngi_subset_n_classes(s[k]), 20);
        for (int i = 0; i < sngi_subset_n_classes(s[k]); i++) {
            CU_ASSERT_EQUAL(sngi_subset_n_images(s[k], i), 1);
            for (int j = 0; j < sngi_subset_n_images(s[k], i); j++) {
                int id = sngi_subset_images(s[k], i)[j];
                img_seen[id]++;
                CU_ASSERT_EQUAL(sngi_dataset_label(d, id), sngi_subset_class(s[k], i));
            }
        }
        sngi_subset_free(s[k]);
    }
    for (int i = 0; i < 60; i++) CU_ASSERT_EQUAL(img_seen[i], 1);
    sng_ctx_free(ctx);
    sngi_dataset_free(d);
}

/* ---- samplers --------------------------------------------------------------------------------------- */
static int img_of(const float *p) { return (int)p[0]; }
static int cls_of(const float *p) { return (int)p[1]; }

static void test_pair_sampler(void) {
    sngi_dataset *d = synthetic(2, 6, 4, "pairs.zip");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    sng_ctx *ctx = sng_ctx_new();
    sngi_split_opts so;
    sngi_split_opts_init(&so);
    so.frac[0] = 0.5;
    so.frac[1] = 0.5;
    so.frac[2] = 0;
    sngi_subset *sub[3];
    CU_ASSERT_EQUAL_FATAL(sngi_split(ctx, d, &so, sub), SNG_OK);
    int in_train[12] = {0};
    for (int i = 0; i < sngi_subset_n_classes(sub[0]); i++) in_train[sngi_subset_class(sub[0], i)] = 1;
    sngi_sampler_opts o;
    sngi_sampler_opts_init(&o);
    o.pos_fraction = 0.25f;
    sngi_sampler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_sampler_new(ctx, d, sub[0], &o, &s), SNG_OK);
    const int n = 32;
    size_t chw = 120;
    CU_ASSERT_EQUAL(sngi_sampler_buf_len(s, n, 0), n * 120);
    CU_ASSERT_EQUAL(sngi_sampler_buf_len(s, n, 2), n);
    float *a = malloc(sizeof(float) * n * chw), *b = malloc(sizeof(float) * n * chw), lab[32];
    float *bufs[3] = {a, b, lab};
    int bad = 0, pos = 0, order_ab = 0, order_ba = 0, batches_exact = 1;
    for (int step = 0; step < 200; step++) {
        sngi_sampler_fill(s, n, 7, step, bufs);
        int p = 0;
        for (int i = 0; i < n; i++) {
            const float *x = a + i * chw, *y = b + i * chw;
            int same = cls_of(x) == cls_of(y);
            bad += same != (lab[i] == 1.0f);
            bad += img_of(x) == img_of(y);
            bad += !in_train[cls_of(x)] || !in_train[cls_of(y)];
            bad += sngi_dataset_label(d, img_of(x)) != cls_of(x);
            p += lab[i] == 1.0f;
            if (same) {
                order_ab += img_of(x) < img_of(y);
                order_ba += img_of(x) > img_of(y);
            }
        }
        batches_exact &= p == 8;
        pos += p;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(batches_exact);
    CU_ASSERT(order_ab > 500 && order_ba > 500);
    /* Determinism: batch k is a function of (seed, k). */
    float *a2 = malloc(sizeof(float) * n * chw), *b2 = malloc(sizeof(float) * n * chw), lab2[32];
    float *bufs2[3] = {a2, b2, lab2};
    sngi_sampler_fill(s, n, 7, 123, bufs);
    sngi_sampler_fill(s, n, 7, 5, bufs2);
    sngi_sampler_fill(s, n, 7, 123, bufs2);
    CU_ASSERT(!memcmp(a, a2, sizeof(float) * n * chw) && !memcmp(lab, lab2, sizeof lab));
    sngi_sampler_fill(s, n, 8, 123, bufs2);
    CU_ASSERT(memcmp(a, a2, sizeof(float) * n * chw) != 0);
    free(a2);
    free(b2);
    sngi_sampler_free(s);
    /* Triplets. */
    o.kind = SNG_SAMPLE_TRIPLETS;
    CU_ASSERT_EQUAL_FATAL(sngi_sampler_new(ctx, d, sub[1], &o, &s), SNG_OK);
    float *c = malloc(sizeof(float) * n * chw);
    float *tb[3] = {a, b, c};
    bad = 0;
    for (int step = 0; step < 50; step++) {
        sngi_sampler_fill(s, n, 3, step, tb);
        for (int i = 0; i < n; i++) {
            const float *x = a + i * chw, *y = b + i * chw, *z = c + i * chw;
            bad += cls_of(x) != cls_of(y) || img_of(x) == img_of(y) || cls_of(x) == cls_of(z);
            bad += in_train[cls_of(x)] || in_train[cls_of(z)];
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    sngi_sampler_free(s);
    free(c);
    free(a);
    free(b);
    for (int k = 0; k < 3; k++) sngi_subset_free(sub[k]);
    /* Not enough to sample from. */
    sngi_dataset *one = synthetic(1, 1, 3, "oneclass.zip");
    sngi_sampler_opts_init(&o);
    CU_ASSERT_EQUAL(sngi_sampler_new(ctx, one, NULL, &o, &s), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "at least 2 classes"));
    sngi_dataset_free(one);
    sng_ctx_free(ctx);
    sngi_dataset_free(d);
}

static void test_episode_sampler(void) {
    sngi_dataset *d = synthetic(3, 6, 4, "episodes.zip"); /* 3 alphabets x 6 characters x 4 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    sng_ctx *ctx = sng_ctx_new();
    sngi_sampler_opts o;
    sngi_sampler_opts_init(&o);
    o.kind = SNG_SAMPLE_EPISODES;
    o.n_way = 5;
    o.k_shot = 2;
    o.n_query = 3;
    sngi_sampler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_sampler_new(ctx, d, NULL, &o, &s), SNG_OK);
    CU_ASSERT_EQUAL(sngi_sampler_mixed_groups(s), 0);
    const int n = 8, N = 5, K = 2, Q = 3;
    size_t chw = 120;
    float *sup = malloc(sizeof(float) * sngi_sampler_buf_len(s, n, 0));
    float *qry = malloc(sizeof(float) * sngi_sampler_buf_len(s, n, 1));
    float *lab = malloc(sizeof(float) * sngi_sampler_buf_len(s, n, 2));
    CU_ASSERT_EQUAL(sngi_sampler_buf_len(s, n, 0), n * N * K * 120);
    float *bufs[3] = {sup, qry, lab};
    int bad = 0, groups_used[3] = {0};
    for (int step = 0; step < 40; step++) {
        sngi_sampler_fill(s, n, 11, step, bufs);
        for (int e = 0; e < n; e++) {
            int cls[5], g0 = -1;
            for (int j = 0; j < N; j++) {
                const float *p0 = sup + ((size_t)e * N * K + j * K) * chw;
                cls[j] = cls_of(p0);
                for (int k = 1; k < K; k++) {
                    const float *pk = p0 + k * chw;
                    bad += cls_of(pk) != cls[j] || img_of(pk) == img_of(p0);
                }
                int g = sngi_dataset_class_group(d, cls[j]);
                if (g0 < 0) g0 = g;
                bad += g != g0; /* one alphabet per episode */
                for (int i = 0; i < j; i++) bad += cls[i] == cls[j];
            }
            groups_used[g0]++;
            for (int q = 0; q < Q; q++) {
                const float *pq = qry + ((size_t)e * Q + q) * chw;
                int j = (int)lab[e * Q + q];
                bad += j < 0 || j >= N || cls_of(pq) != cls[j];
                for (int k = 0; k < K; k++) /* a query is never one of its support images */
                    bad += img_of(pq) == img_of(sup + ((size_t)e * N * K + j * K + k) * chw);
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(groups_used[0] > 40 && groups_used[1] > 40 && groups_used[2] > 40);
    sngi_sampler_free(s);
    /* 20-way (the default) cannot come from one 6-class alphabet: too few classes overall. */
    sngi_sampler_opts_init(&o);
    o.kind = SNG_SAMPLE_EPISODES;
    CU_ASSERT_EQUAL(sngi_sampler_new(ctx, d, NULL, &o, &s), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "20-way 1-shot episodes need 20 classes"));
    /* 10-way: no alphabet has 10, so episodes mix alphabets, and say so. */
    o.n_way = 10;
    CU_ASSERT_EQUAL_FATAL(sngi_sampler_new(ctx, d, NULL, &o, &s), SNG_OK);
    CU_ASSERT_EQUAL(sngi_sampler_mixed_groups(s), 1);
    sngi_sampler_free(s);
    free(sup);
    free(qry);
    free(lab);
    sng_ctx_free(ctx);
    sngi_dataset_free(d);
}

/* ---- augmentation ------------------------------------------------------------------------------------ */
static void test_augment(void) {
    const int w = 16, h = 12;
    uint8_t img[2 * 16 * 12];
    for (int i = 0; i < 2 * w * h; i++) img[i] = (uint8_t)(40 + (i * 7) % 150); /* 40..189 */
    float out[2 * 16 * 12], out2[2 * 16 * 12], plain[2 * 16 * 12];
    sngi_augment_opts a;
    sngi_augment_opts_init(&a);
    sngi_augment_pack(img, 2, h, w, &a, 5, 1.0f / 255, 0.5f, 0.25f, plain); /* all off */
    for (int i = 0; i < 2 * w * h; i++) SNGT_ASSERT_CLOSE(plain[i], (img[i] / 255.0 - 0.5) / 0.25, 1e-5, 1e-5);
    a.affine = 1;
    a.flip = 1;
    float lo = (40 / 255.0f - 0.5f) / 0.25f, hi = (189 / 255.0f - 0.5f) / 0.25f;
    int out_of_range = 0, changed = 0, differs = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        sngi_augment_pack(img, 2, h, w, &a, seed, 1.0f / 255, 0.5f, 0.25f, out);
        sngi_augment_pack(img, 2, h, w, &a, seed, 1.0f / 255, 0.5f, 0.25f, out2);
        CU_ASSERT(!memcmp(out, out2, sizeof out)); /* seeded */
        for (int i = 0; i < 2 * w * h; i++) out_of_range += out[i] < lo - 1e-4f || out[i] > hi + 1e-4f;
        changed += memcmp(out, plain, sizeof out) != 0;
        sngi_augment_pack(img, 2, h, w, &a, seed + 1000, 1.0f / 255, 0.5f, 0.25f, out2);
        differs += memcmp(out, out2, sizeof out) != 0;
    }
    CU_ASSERT_EQUAL(out_of_range, 0);
    /* Each of the 5 coins is heads half the time: all five tails in ~1/32 of draws. */
    CU_ASSERT(changed > 170 && changed < 200);
    CU_ASSERT(differs > 170);
    /* Flip alone: an exact mirror or the identity. */
    sngi_augment_opts_init(&a);
    a.flip = 1;
    int mirrors = 0, bad = 0;
    for (uint64_t seed = 0; seed < 100; seed++) {
        sngi_augment_pack(img, 2, h, w, &a, seed, 1.0f, 0, 1, out);
        int ident = 1, mirror = 1;
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float v = out[(c * h + y) * w + x];
                    ident &= v == img[(c * h + y) * w + x];
                    mirror &= v == img[(c * h + y) * w + (w - 1 - x)];
                }
        mirrors += mirror;
        bad += !ident && !mirror;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(mirrors > 25 && mirrors < 75);
}

/* ---- the prefetch thread ----------------------------------------------------------------------------- */
static void sleep_ms(int ms) {
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

static void test_loader(void) {
    sngi_dataset *d = synthetic(2, 5, 4, "loader.zip");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    sng_ctx *ctx = sng_ctx_new();
    sngi_sampler_opts o;
    sngi_sampler_opts_init(&o);
    o.aug.affine = 1;
    sngi_sampler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_sampler_new(ctx, d, NULL, &o, &s), SNG_OK);
    const int n = 16;
    int64_t len[3];
    float *want[3], *got[3];
    for (int i = 0; i < 3; i++) {
        len[i] = sngi_sampler_buf_len(s, n, i);
        want[i] = malloc(sizeof(float) * len[i]);
        got[i] = malloc(sizeof(float) * len[i]);
    }
    sngi_loader *l = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_loader_new(ctx, s, n, 42, 3, &l), SNG_OK);
    int bad = 0;
    for (int64_t step = 0; step < 30; step++) {
        CU_ASSERT_EQUAL(sngi_loader_step(l), step);
        if (step % 2) {
            sngi_loader_next(l, got);
        } else {
            const float *const *bb;
            sngi_loader_borrow(l, &bb);
            for (int i = 0; i < 3; i++) memcpy(got[i], bb[i], sizeof(float) * len[i]);
        }
        sngi_sampler_fill(s, n, 42, step, want);
        for (int i = 0; i < 3; i++) bad += memcmp(want[i], got[i], sizeof(float) * len[i]) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* Resume at step 1000, then back to 3. */
    sngi_loader_seek(l, 1000);
    sngi_loader_next(l, got);
    sngi_sampler_fill(s, n, 42, 1000, want);
    for (int i = 0; i < 3; i++) CU_ASSERT(!memcmp(want[i], got[i], sizeof(float) * len[i]));
    sngi_loader_seek(l, 3);
    sngi_loader_next(l, got);
    sngi_sampler_fill(s, n, 42, 3, want);
    for (int i = 0; i < 3; i++) CU_ASSERT(!memcmp(want[i], got[i], sizeof(float) * len[i]));
    /* With the consumer slower than the producer, it (almost) never waits. */
    double t0 = sngi_loader_wait_seconds(l);
    for (int k = 0; k < 20; k++) {
        sleep_ms(5);
        sngi_loader_next(l, NULL);
    }
    double waited = sngi_loader_wait_seconds(l) - t0;
    CU_ASSERT(waited >= 0 && waited < 0.05);
    CU_ASSERT(sngi_loader_fill_seconds(l) > 0);
    sngi_loader_free(l);
    /* Free while the producer is blocked on a full queue, and right after start. */
    CU_ASSERT_EQUAL_FATAL(sngi_loader_new(ctx, s, n, 1, 2, &l), SNG_OK);
    sleep_ms(10);
    sngi_loader_free(l);
    CU_ASSERT_EQUAL_FATAL(sngi_loader_new(ctx, s, n, 1, 0, &l), SNG_OK);
    sngi_loader_free(l);
    sngi_loader_free(NULL);
    for (int i = 0; i < 3; i++) {
        free(want[i]);
        free(got[i]);
    }
    sngi_sampler_free(s);
    sng_ctx_free(ctx);
    sngi_dataset_free(d);
}

/* ---- memory ---------------------------------------------------------------------------------------- */
static void test_memory_bound(void) {
    /* 105x105 gray like Omniglot: the dataset is within 1.2x its decoded pixels. */
    tset *t = calloc(1, sizeof *t);
    static uint8_t pix[105 * 105];
    for (int i = 0; i < 300; i++) {
        char p[128];
        snprintf(p, sizeof p, "images_background/Alphabet_%d/character%02d/%04d_%02d.png", i / 60,
                 i / 20 % 3 + 1, i / 20, i % 20 + 1);
        for (int k = 0; k < 105 * 105; k++) pix[k] = (uint8_t)((k ^ i) & 1 ? 255 : 0);
        ts_add(t, p, png_gray(105, 105, pix));
    }
    sngi_dataset *d = load(write_archive(t, "mem.zip", "zip", "none"), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(sngi_dataset_pixel_bytes(d), 300LL * 105 * 105);
    CU_ASSERT(sngi_dataset_total_bytes(d) <= 1.2 * sngi_dataset_pixel_bytes(d));
    CU_ASSERT_EQUAL(sngi_dataset_n_groups(d), 5);
    CU_ASSERT_EQUAL(sngi_dataset_n_classes(d), 15);
    sngi_dataset_free(d);
    ts_free(t);
    free(t);
}

/* ---- sngraph data ------------------------------------------------------------------------------------ */
static void test_cli_data(void) {
    tset *t = calloc(1, sizeof *t);
    make_omni(t, "cli", 2, 3, 2, 1);
    ts_add(t, "cli/G0/c00/readme.txt", (membuf){(uint8_t *)strdup("hi"), 2, 3});
    const char *p = write_archive(t, "cli.tar.gz", "tar", "gzip");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sngraph data %s", p);
    CU_ASSERT_EQUAL(sngt_cli(cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "classes:   6"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "groups:    2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "images:    12"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "cli/G0/c00/readme.txt: not an image"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "1 entry skipped"));
    snprintf(cmd, sizeof cmd, "sngraph data %s --json --size 3x8x9", p);
    CU_ASSERT_EQUAL(sngt_cli(cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"n_classes\": 6, \"n_images\": 12"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"channels\": 3, \"height\": 8, \"width\": 9"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"reason\": \"not an image"));
    snprintf(cmd, sizeof cmd, "sngraph data %s --strict", p);
    CU_ASSERT_EQUAL(sngt_cli(cmd), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "entry 'cli/G0/c00/readme.txt': not an image"));
    snprintf(cmd, sizeof cmd, "sngraph data %s --depth 1", p);
    CU_ASSERT_EQUAL(sngt_cli(cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "classes:   2"));
    CU_ASSERT_EQUAL(sngt_cli("sngraph data"), 2);
    CU_ASSERT_EQUAL(sngt_cli("sngraph data --help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "Usage: sngraph data [options] SOURCE"));
    CU_ASSERT_EQUAL(sngt_cli("sngraph data x --bogus"), 2);
    CU_ASSERT_EQUAL(sngt_cli("sngraph data x --size 2x3"), 2);
    CU_ASSERT_EQUAL(sngt_cli("sngraph data x --depth zero"), 2);
    /* Out of memory at any allocation of the load exits 1 with a message, never 3. */
    int n_fail = 0, n_three = 0;
    long k;
    for (k = 0; k < 5000; k++) {
        sngi_alloc_fail_after(k);
        int rc = sngt_cli(cmd);
        sngi_alloc_fail_after(-1);
        if (rc == 0) break;
        n_fail++;
        n_three += rc == 3;
    }
    CU_ASSERT(k < 5000);
    CU_ASSERT(n_fail > 10);
    CU_ASSERT_EQUAL(n_three, 0);
    /* A truncated archive: non-zero exit naming it, unless --allow-partial. */
    const char *z = write_archive(t, "cli_cut.zip", "zip", "none");
    struct stat zs;
    CU_ASSERT_EQUAL_FATAL(stat(z, &zs), 0);
    CU_ASSERT_EQUAL(truncate(z, zs.st_size * 6 / 10), 0);
    snprintf(cmd, sizeof cmd, "sngraph data %s", z);
    CU_ASSERT_EQUAL(sngt_cli(cmd), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "cli_cut.zip: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "data.allow_partial=1 keeps the entries before it"));
    snprintf(cmd, sizeof cmd, "sngraph data %s --allow-partial", z);
    CU_ASSERT_EQUAL(sngt_cli(cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "later entries are missing"));
    CU_ASSERT_EQUAL(sngt_cli("sngraph data /nonexistent/source.zip"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "/nonexistent/source.zip: No such file"));
    ts_free(t);
    free(t);
}

/* ---- the real datasets (skipped when absent) ------------------------------------------------------------ */
static void check_omniglot(const char *rel, int groups, int classes, const char *g0, const char *g4) {
    const char *p = sngt_shared_data(rel);
    if (!p) {
        char why[256];
        snprintf(why, sizeof why, "../shared/data/%s not present", rel);
        sngt_skip(why);
        return;
    }
    sngi_dataset *d = load(p, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(sngi_dataset_n_groups(d), groups);
    CU_ASSERT_EQUAL(sngi_dataset_n_classes(d), classes);
    CU_ASSERT_EQUAL(sngi_dataset_n_images(d), classes * 20);
    CU_ASSERT_EQUAL(sngi_dataset_n_skipped(d), 0);
    CU_ASSERT_EQUAL(sngi_dataset_class_depth(d), 2);
    CU_ASSERT_STRING_EQUAL(sngi_dataset_group_name(d, 0), g0);
    CU_ASSERT_STRING_EQUAL(sngi_dataset_group_name(d, 4), g4);
    int c, h, w, ink = 0;
    sngi_dataset_shape(d, &c, &h, &w);
    CU_ASSERT(c == 1 && h == 105 && w == 105);
    for (int i = 0; i < sngi_dataset_n_classes(d); i++) CU_ASSERT_EQUAL(sngi_dataset_class_count(d, i), 20);
    /* 1-bit PNGs: only 0 and 255, about 10% ink (0). */
    const uint8_t *px = sngi_dataset_pixels(d, 0);
    int other = 0;
    for (int i = 0; i < 105 * 105 * 20; i++) {
        ink += px[i] == 0;
        other += px[i] != 0 && px[i] != 255;
    }
    CU_ASSERT_EQUAL(other, 0);
    CU_ASSERT(ink > 105 * 105 * 20 / 50 && ink < 105 * 105 * 20 / 4);
    CU_ASSERT(sngi_dataset_total_bytes(d) <= 1.2 * sngi_dataset_pixel_bytes(d));
    /* The default benchmark: 20-way 1-shot within one alphabet. */
    sng_ctx *ctx = sng_ctx_new();
    sngi_sampler_opts o;
    sngi_sampler_opts_init(&o);
    o.kind = SNG_SAMPLE_EPISODES;
    sngi_sampler *s = NULL;
    CU_ASSERT_EQUAL(sngi_sampler_new(ctx, d, NULL, &o, &s), SNG_OK);
    CU_ASSERT_EQUAL(sngi_sampler_mixed_groups(s), 0);
    sngi_sampler_free(s);
    sng_ctx_free(ctx);
    /* `sngraph data` says the same. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sngraph data %s --json", p);
    CU_ASSERT_EQUAL(sngt_cli(cmd), 0);
    char want[128];
    snprintf(want, sizeof want, "\"n_groups\": %d, \"n_classes\": %d, \"n_images\": %d", groups,
             classes, classes * 20);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), want));
    sngi_dataset_free(d);
}

static void test_real_omniglot(void) {
    check_omniglot("omniglot/images_background_small1.zip", 5, 136, "Balinese", "Latin");
    check_omniglot("omniglot/images_background_small2.zip", 5, 156, "Greek", "Tagalog");
}

static void test_real_att_faces(void) {
    const char *sets[2] = {"att_faces/training", "att_faces/testing"};
    int subjects[2] = {37, 3};
    for (int k = 0; k < 2; k++) {
        const char *p = sngt_shared_data(sets[k]);
        if (!p) {
            sngt_skip("../shared/data/att_faces not present");
            return;
        }
        sngi_dataset *d = load(p, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_EQUAL(sngi_dataset_n_classes(d), subjects[k]);
        CU_ASSERT_EQUAL(sngi_dataset_n_images(d), subjects[k] * 10);
        CU_ASSERT_EQUAL(sngi_dataset_n_groups(d), subjects[k]);
        CU_ASSERT_EQUAL(sngi_dataset_class_depth(d), 1);
        int c, h, w;
        sngi_dataset_shape(d, &c, &h, &w);
        CU_ASSERT(c == 1 && h == 112 && w == 92);
        for (int i = 0; i < sngi_dataset_n_classes(d); i++) CU_ASSERT_EQUAL(sngi_dataset_class_count(d, i), 10);
        CU_ASSERT_STRING_EQUAL(sngi_dataset_class_name(d, 0), k ? "s5" : "s1");
        CU_ASSERT(sngi_dataset_total_bytes(d) <= 1.2 * sngi_dataset_pixel_bytes(d));
        sngi_dataset_free(d);
    }
}

static void test_real_fashion_mnist(void) {
    const char *p = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    if (access(p, R_OK) != 0) {
        sngt_skip("Fashion-MNIST (dataset-fashion-mnist) not installed");
        return;
    }
    sngi_dataset *d = load(p, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(sngi_dataset_n_images(d), 60000);
    CU_ASSERT_EQUAL(sngi_dataset_n_classes(d), 10);
    for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(sngi_dataset_class_count(d, i), 6000);
    CU_ASSERT(sngi_dataset_total_bytes(d) <= 1.2 * sngi_dataset_pixel_bytes(d));
    sngi_dataset_free(d);
}

/* ---- registration ------------------------------------------------------------------------------------ */
static CU_TestInfo decode_tests[] = {
    {"png_every_colour_type_and_depth", test_png_modes},
    {"png_truncated_corrupt_absurd", test_png_corrupt},
    {"pnm_p1_to_p6_maxvals_and_errors", test_pnm},
    {"jpeg_gray_rgb_truncated_corrupt", test_jpeg},
    {"resize_area_bilinear_channels", test_resize},
    CU_TEST_INFO_NULL};

static CU_TestInfo source_tests[] = {
    {"dir_zip_tar_gz_bz2_xz_zst_7z_same", test_sources_all_formats},
    {"resize_and_wrong_size_on_load", test_resize_on_load},
    {"bad_entries_strict_and_lenient", test_bad_entries},
    {"truncated_corrupt_missing_sources", test_bad_archives},
    {"walker_subdirs_loops_fifo", test_walker_dirs_loops_fifo},
    {"idx_plain_gz_truncated", test_idx},
    {"idx_forged_header_bounded", test_idx_forged_header},
    {"pairs_csv_in_archive_and_on_disk", test_pairs_csv},
    {"memory_within_1_2x_pixels", test_memory_bound},
    {"cli_data_text_json_errors", test_cli_data},
    CU_TEST_INFO_NULL};

static CU_TestInfo sample_tests[] = {
    {"splits_class_group_list_image", test_splits},
    {"pairs_balanced_disjoint_deterministic", test_pair_sampler},
    {"episodes_one_alphabet_query_not_support", test_episode_sampler},
    {"augment_range_seeded_flip", test_augment},
    {"loader_thread_sequence_seek_wait", test_loader},
    CU_TEST_INFO_NULL};

static CU_TestInfo real_tests[] = {
    {"omniglot_small1_small2_counts", test_real_omniglot},
    {"att_faces_counts", test_real_att_faces},
    {"fashion_mnist_idx", test_real_fashion_mnist},
    CU_TEST_INFO_NULL};

CU_SuiteInfo sngt_suites[] = {
    {"loaders_decode", NULL, NULL, NULL, NULL, decode_tests},
    {"loaders_source", NULL, NULL, NULL, NULL, source_tests},
    {"loaders_sample", NULL, NULL, NULL, NULL, sample_tests},
    {"loaders_real_data", NULL, NULL, NULL, NULL, real_tests},
    CU_SUITE_INFO_NULL};
