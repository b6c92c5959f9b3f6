/*
 * image.c — recognises an image by its signature (never by file name) and hands it to the
 * right decoder, so that a PNG named .jpg, or a README among the images, is treated for what it
 * is.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "loaders/loader_int.h"

const char *sngi_image_sniff(const uint8_t *buf, size_t n) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && memcmp(buf, png_sig, 8) == 0) return "png";
    if (n >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) return "jpeg";
    /* P2/P3/P5/P6 followed by whitespace or a comment: P1/P4 (bitmaps) and P7 (PAM) are not
     * read, and are reported as unsupported by the PNM decoder rather than "not an image". */
    if (n >= 3 && buf[0] == 'P' && buf[1] >= '1' && buf[1] <= '7' &&
        (buf[2] == ' ' || buf[2] == '\t' || buf[2] == '\n' || buf[2] == '\r' || buf[2] == '#'))
        return "pnm";
    return NULL;
}

sng_status sngi_decode_image(const uint8_t *buf, size_t n, sngi_image *img, char *why,
                             size_t nwhy) {
    memset(img, 0, sizeof *img);
    const char *f = sngi_image_sniff(buf, n);
    if (!f) {
        snprintf(why, nwhy, "not an image (no PNG, JPEG or PNM signature)");
        return SNG_ERR_DATA;
    }
    if (!strcmp(f, "png")) return sngi_decode_png(buf, n, img, why, nwhy);
    if (!strcmp(f, "jpeg")) return sngi_decode_jpeg(buf, n, img, why, nwhy);
    return sngi_decode_pnm(buf, n, img, why, nwhy);
}
