/*
 * image_pgm.c — Netpbm images from memory, our own code: P2/P5 (gray) and P3/P6 (RGB), maxval
 * 1..65535 scaled to 0..255, plus P1/P4 bitmaps (1 = black). Every read is bounded by the input
 * length; a raster shorter than its header promises is an error, never a read past the end.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

typedef struct pnm_rd {
    const uint8_t *p;
    size_t n, off;
} pnm_rd;

static int is_space(int ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
                                     ch == '\v' || ch == '\f'; }

/* Skips whitespace and '#' comments (to end of line). */
static void skip_ws(pnm_rd *r) {
    while (r->off < r->n) {
        uint8_t ch = r->p[r->off];
        if (ch == '#') {
            while (r->off < r->n && r->p[r->off] != '\n' && r->p[r->off] != '\r') r->off++;
        } else if (is_space(ch)) {
            r->off++;
        } else {
            break;
        }
    }
}

/* Reads an unsigned decimal up to `max`; -1 when absent, not a number or above max. */
static long read_uint(pnm_rd *r, long max) {
    skip_ws(r);
    if (r->off >= r->n || r->p[r->off] < '0' || r->p[r->off] > '9') return -1;
    long v = 0;
    while (r->off < r->n && r->p[r->off] >= '0' && r->p[r->off] <= '9') {
        v = v * 10 + (r->p[r->off++] - '0');
        if (v > max) return -1;
    }
    return v;
}

sng_status sngi_decode_pnm(const uint8_t *buf, size_t n, sngi_image *img, char *why,
                           size_t nwhy) {
    memset(img, 0, sizeof *img);
    pnm_rd r = {buf, n, 0};
    if (n < 2 || buf[0] != 'P' || buf[1] < '1' || buf[1] > '6') {
        snprintf(why, nwhy, "PNM decode failed: %s", n >= 2 && buf[0] == 'P' && buf[1] == '7'
                 ? "PAM (P7) is not supported" : "bad magic number");
        return SNG_ERR_DATA;
    }
    int kind = buf[1] - '0';
    int bitmap = kind == 1 || kind == 4, ascii = kind <= 3, ch = (kind == 3 || kind == 6) ? 3 : 1;
    r.off = 2;
    long w = read_uint(&r, SNGI_IMG_MAX_SIDE), h = read_uint(&r, SNGI_IMG_MAX_SIDE);
    long maxval = bitmap ? 1 : read_uint(&r, 65535);
    if (w <= 0 || h <= 0) {
        snprintf(why, nwhy, "PNM decode failed: bad or absurd width/height (limit %d per side)",
                 SNGI_IMG_MAX_SIDE);
        return SNG_ERR_DATA;
    }
    if ((int64_t)w * h > SNGI_IMG_MAX_PIXELS) {
        snprintf(why, nwhy, "PNM decode failed: image too large (%ldx%ld)", w, h);
        return SNG_ERR_DATA;
    }
    if (maxval <= 0) {
        snprintf(why, nwhy, "PNM decode failed: bad maxval (1..65535)");
        return SNG_ERR_DATA;
    }
    /* Exactly one whitespace byte separates a binary header from the raster. */
    if (!ascii) {
        if (r.off >= n || !is_space(buf[r.off])) {
            snprintf(why, nwhy, "PNM decode failed: truncated header");
            return SNG_ERR_DATA;
        }
        r.off++;
    }
    size_t count = (size_t)w * (size_t)h * (size_t)ch;
    uint8_t *pix = malloc(count);
    if (!pix) {
        snprintf(why, nwhy, "PNM decode failed: out of memory");
        return SNG_ERR_NOMEM;
    }
    if (ascii) {
        for (size_t i = 0; i < count; i++) {
            long v;
            if (bitmap) { /* P1 digits may be packed without separators */
                skip_ws(&r);
                v = r.off < n && (buf[r.off] == '0' || buf[r.off] == '1') ? buf[r.off++] - '0' : -1;
            } else {
                v = read_uint(&r, maxval);
            }
            if (v < 0) {
                free(pix);
                snprintf(why, nwhy, "PNM decode failed: %s at sample %zu of %zu",
                         r.off >= n ? "truncated raster" : "bad sample value", i, count);
                return SNG_ERR_DATA;
            }
            pix[i] = bitmap ? (uint8_t)(v ? 0 : 255) : (uint8_t)((v * 255 + maxval / 2) / maxval);
        }
    } else if (bitmap) {
        size_t stride = ((size_t)w + 7) / 8;
        if (n - r.off < stride * (size_t)h) {
            free(pix);
            snprintf(why, nwhy, "PNM decode failed: truncated raster (%zu of %zu bytes)",
                     n - r.off, stride * (size_t)h);
            return SNG_ERR_DATA;
        }
        for (long y = 0; y < h; y++)
            for (long x = 0; x < w; x++) {
                int bit = (buf[r.off + (size_t)y * stride + (size_t)x / 8] >> (7 - x % 8)) & 1;
                pix[(size_t)y * w + x] = bit ? 0 : 255;
            }
    } else {
        size_t bps = maxval > 255 ? 2 : 1;
        if ((n - r.off) / bps < count) {
            free(pix);
            snprintf(why, nwhy, "PNM decode failed: truncated raster (%zu of %zu bytes)",
                     n - r.off, count * bps);
            return SNG_ERR_DATA;
        }
        const uint8_t *s = buf + r.off;
        for (size_t i = 0; i < count; i++) {
            long v = bps == 2 ? (long)s[2 * i] << 8 | s[2 * i + 1] : s[i];
            if (v > maxval) v = maxval; /* out-of-range samples are clamped, as netpbm does */
            pix[i] = maxval == 255 ? (uint8_t)v : (uint8_t)((v * 255 + maxval / 2) / maxval);
        }
    }
    img->w = (int)w;
    img->h = (int)h;
    img->c = ch;
    img->pix = pix;
    img->format = ch == 3 ? "ppm" : bitmap ? "pbm" : "pgm";
    img->bits = bitmap ? 1 : maxval > 255 ? 16 : 8;
    img->mode = ch == 3 ? "rgb" : "gray";
    return SNG_OK;
}
