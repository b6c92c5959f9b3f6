/*
 * image_jpeg.c — JPEG from memory through libjpeg(-turbo). libjpeg's default error handler
 * calls exit(); ours longjmps back, so a corrupt JPEG is an error message, never the end of the
 * process. Its warnings (corrupt data it would recover from with gray) are errors too.
 */
#include "config.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "loaders/loader_int.h"

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    e->mgr.format_message(cinfo, e->msg);
    longjmp(e->jb, 1);
}

/* Level -1 is a warning about corrupt data ("premature end of JPEG file") that libjpeg would
 * paper over with gray pixels: a dataset is better off without such an image, so it is an error.
 * Trace messages (level >= 0) are dropped. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level < 0) jpeg_on_error(cinfo);
}

sng_status sngi_decode_jpeg(const uint8_t *buf, size_t n, sngi_image *img, char *why,
                            size_t nwhy) {
    memset(img, 0, sizeof *img);
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_on_error;
    err.mgr.emit_message = jpeg_on_message;
    err.msg[0] = 0;
    uint8_t *volatile pix = NULL;
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&cinfo);
        free(pix);
        snprintf(why, nwhy, "JPEG decode failed: %s", err.msg);
        return SNG_ERR_DATA;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, buf, (unsigned long)n);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.image_width > SNGI_IMG_MAX_SIDE || cinfo.image_height > SNGI_IMG_MAX_SIDE ||
        (int64_t)cinfo.image_width * cinfo.image_height > SNGI_IMG_MAX_PIXELS) {
        snprintf(err.msg, sizeof err.msg, "absurd size %ux%u (limit %d per side)",
                 cinfo.image_width, cinfo.image_height, SNGI_IMG_MAX_SIDE);
        longjmp(err.jb, 1);
    }
    int gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(err.msg, sizeof err.msg, "CMYK/YCCK JPEG is not supported");
        longjmp(err.jb, 1);
    }
    cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int ch = cinfo.output_components;
    size_t stride = (size_t)cinfo.output_width * (size_t)ch;
    pix = malloc(stride * cinfo.output_height);
    if (!pix) {
        snprintf(err.msg, sizeof err.msg, "out of memory");
        longjmp(err.jb, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pix + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    img->w = (int)cinfo.output_width;
    img->h = (int)cinfo.output_height;
    img->c = ch;
    img->pix = pix;
    img->format = "jpeg";
    img->bits = 8;
    img->mode = gray ? "gray" : "rgb";
    /* jpeg_finish_decompress would complain about missing trailing markers in a truncated file
     * whose scanlines were all read (libjpeg pads them); abort is enough to release memory. */
    jpeg_abort_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return SNG_OK;
}
