/*
 * imgsize.c — image dimensions from headers only (see imgsize.h).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "serve/imgsize.h"

static long be32(const uint8_t *p) {
    return (long)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* JPEG: walk the markers to the first start-of-frame (SOF0..SOF15 except DHT, JPG, DAC). */
static int jpeg_size(const uint8_t *b, size_t n, long *w, long *h) {
    size_t i = 2;
    while (i + 4 <= n) {
        if (b[i] != 0xff) return -1;
        uint8_t m = b[i + 1];
        if (m == 0xff) {
            i++;
            continue;
        }
        size_t len = (size_t)b[i + 2] << 8 | b[i + 3];
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (i + 9 > n) return -1;
            *h = (long)b[i + 5] << 8 | b[i + 6];
            *w = (long)b[i + 7] << 8 | b[i + 8];
            return 0;
        }
        if (len < 2) return -1;
        i += 2 + len;
    }
    return -1;
}

/* PNM: "P[1-6]" then width and height, with '#' comments. */
static int pnm_size(const uint8_t *b, size_t n, long *w, long *h) {
    size_t i = 2;
    long v[2];
    for (int k = 0; k < 2; k++) {
        for (;;) {
            while (i < n && isspace(b[i])) i++;
            if (i < n && b[i] == '#')
                while (i < n && b[i] != '\n') i++;
            else
                break;
        }
        if (i >= n || !isdigit(b[i])) return -1;
        v[k] = 0;
        while (i < n && isdigit(b[i]) && v[k] < 100000000) v[k] = v[k] * 10 + (b[i++] - '0');
    }
    *w = v[0], *h = v[1];
    return 0;
}

int sngi_image_size(const uint8_t *b, size_t n, long *w, long *h) {
    if (n >= 24 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8) && !memcmp(b + 12, "IHDR", 4)) {
        *w = be32(b + 16), *h = be32(b + 20);
        return 0;
    }
    if (n >= 4 && b[0] == 0xff && b[1] == 0xd8) return jpeg_size(b, n, w, h);
    if (n >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6') return pnm_size(b, n, w, h);
    return -1;
}
