/*
 * base64.c — strict base64 decoding (see base64.h).
 */
#include "config.h"

#include <stdlib.h>

#include "serve/base64.h"

static int val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int sngi_base64_decode(const char *s, size_t n, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    /* Up to two '=' at the end, and only where they complete a quartet. */
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) n--, pad++;
    if (pad && (n + pad) % 4) return -1;
    if (n % 4 == 1) return -1;
    uint8_t *b = malloc(n / 4 * 3 + 3);
    if (!b) return -1;
    size_t k = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int v = val((unsigned char)s[i]);
        if (v < 0) {
            free(b);
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            b[k++] = (uint8_t)(acc >> 16), b[k++] = (uint8_t)(acc >> 8), b[k++] = (uint8_t)acc;
            acc = 0;
        }
    }
    /* A tail of 2 or 3 characters carries 1 or 2 bytes; the unused low bits must be zero. */
    size_t tail = n % 4;
    if (tail == 2) {
        if (acc & 0xf) goto bad;
        b[k++] = (uint8_t)(acc >> 4);
    } else if (tail == 3) {
        if (acc & 0x3) goto bad;
        b[k++] = (uint8_t)(acc >> 10), b[k++] = (uint8_t)(acc >> 2);
    }
    *out = b;
    *len = k;
    return 0;
bad:
    free(b);
    return -1;
}
