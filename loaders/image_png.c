/*
 * image_png.c — PNG from memory through libpng: every colour type and bit depth is brought to
 * 8-bit gray or RGB (1/2/4-bit gray expanded to 0..255, palette expanded, 16-bit scaled, alpha
 * and tRNS dropped). libpng reports errors by longjmp; warnings are swallowed because the
 * library never prints.
 */
#include "config.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

typedef struct png_src {
    const uint8_t *p;
    size_t n, off;
    char msg[200];
} png_src;

/* Reads from the memory buffer; running past its end is a libpng error (truncated file). */
static void png_read_mem(png_structp png, png_bytep out, size_t len) {
    png_src *s = png_get_io_ptr(png);
    if (len > s->n - s->off) png_error(png, "truncated file");
    memcpy(out, s->p + s->off, len);
    s->off += len;
}

static void png_on_error(png_structp png, png_const_charp msg) {
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

sng_status sngi_decode_png(const uint8_t *buf, size_t n, sngi_image *img, char *why,
                           size_t nwhy) {
    memset(img, 0, sizeof *img);
    png_src src = {buf, n, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error,
                                             png_on_warning);
    if (!png) {
        snprintf(why, nwhy, "PNG decode failed: out of memory");
        return SNG_ERR_NOMEM;
    }
    png_infop info = png_create_info_struct(png);
    /* Touched after setjmp, hence volatile: the longjmp path must see their current values. */
    uint8_t *volatile pix = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        int oom = !info; /* decided before png_destroy_read_struct clears info */
        free(pix);
        free(rows);
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        snprintf(why, nwhy, "PNG decode failed: %s", oom ? "out of memory" : src.msg);
        return oom ? SNG_ERR_NOMEM : SNG_ERR_DATA;
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_set_user_limits(png, SNGI_IMG_MAX_SIDE, SNGI_IMG_MAX_SIDE);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)64 << 20);
    png_read_info(png, info);
    png_uint_32 w, h;
    int bd, ct, il;
    png_get_IHDR(png, info, &w, &h, &bd, &ct, &il, NULL, NULL);
    if ((int64_t)w * h > SNGI_IMG_MAX_PIXELS) png_error(png, "image too large");
    img->bits = bd;
    switch (ct) {
    case PNG_COLOR_TYPE_GRAY: img->mode = "gray"; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: img->mode = "gray+alpha"; break;
    case PNG_COLOR_TYPE_PALETTE: img->mode = "palette"; break;
    case PNG_COLOR_TYPE_RGB: img->mode = "rgb"; break;
    default: img->mode = "rgba"; break;
    }
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && bd < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bd == 16) png_set_scale_16(png);
    if (ct & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((ch != 1 && ch != 3) || rowbytes != (size_t)w * (size_t)ch)
        png_error(png, "unexpected row layout after conversion");
    pix = malloc((size_t)h * rowbytes);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pix || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pix + (size_t)y * rowbytes;
    png_read_image(png, rows);
    /* The trailing chunks (IEND) are not needed: a file cut after its last IDAT still decodes. */
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    img->w = (int)w;
    img->h = (int)h;
    img->c = ch;
    img->pix = pix;
    img->format = "png";
    return SNG_OK;
}
