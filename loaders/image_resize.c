/*
 * image_resize.c — channel conversion and resizing of a decoded image into the dataset's stored
 * (C, H, W) uint8 layout. Resizing is separable: along each axis, bilinear (pixel centres
 * aligned) when that side grows, and an exact area average when it shrinks, so that downscaled
 * thin strokes (Omniglot) fade instead of vanishing, as they would with point sampling.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

typedef struct axis_w {  /* contributions of source pixels to each destination pixel */
    int *first, *count;  /* per destination index */
    float *w;            /* count weights per index, at offset i * stride */
    int stride;
} axis_w;

static void axis_free(axis_w *a) {
    free(a->first);
    free(a->count);
    free(a->w);
}

/* Weights mapping a source axis of length s onto d pixels. Returns -1 on allocation failure. */
static int axis_make(axis_w *a, int s, int d) {
    double r = (double)s / d;
    a->stride = d >= s ? 2 : (int)ceil(r) + 2;
    a->first = malloc(sizeof(int) * (size_t)d);
    a->count = malloc(sizeof(int) * (size_t)d);
    a->w = calloc((size_t)d * (size_t)a->stride, sizeof(float));
    if (!a->first || !a->count || !a->w) {
        axis_free(a);
        return -1;
    }
    for (int i = 0; i < d; i++) {
        float *w = a->w + (size_t)i * a->stride;
        if (d >= s) {
            double x = (i + 0.5) * r - 0.5;
            if (x < 0) x = 0;
            if (x > s - 1) x = s - 1;
            int x0 = (int)x;
            int x1 = x0 + 1 < s ? x0 + 1 : x0;
            float f = (float)(x - x0);
            a->first[i] = x0;
            a->count[i] = x1 > x0 ? 2 : 1;
            w[0] = x1 > x0 ? 1.0f - f : 1.0f;
            w[1] = x1 > x0 ? f : 0.0f;
        } else {
            double lo = i * r, hi = (i + 1) * r;
            int j0 = (int)floor(lo), j1 = (int)ceil(hi);
            if (j1 > s) j1 = s;
            if (j1 - j0 > a->stride) j1 = j0 + a->stride;
            a->first[i] = j0;
            a->count[i] = j1 - j0;
            for (int j = j0; j < j1; j++) {
                double ov = fmin(hi, j + 1.0) - fmax(lo, (double)j);
                w[j - j0] = (float)(ov > 0 ? ov / r : 0);
            }
        }
    }
    return 0;
}

static uint8_t to_u8(float v) {
    if (!(v > 0)) return 0;
    if (v >= 255) return 255;
    return (uint8_t)(v + 0.5f);
}

sng_status sngi_image_convert(const uint8_t *src, int sc, int sh, int sw, uint8_t *dst, int dc,
                              int dh, int dw) {
    size_t splane = (size_t)sh * sw;
    uint8_t *plane = malloc(splane);
    float *tmp = (sh != dh || sw != dw) ? malloc(sizeof(float) * (size_t)sh * dw) : NULL;
    axis_w ax = {0}, ay = {0};
    if (!plane || ((sh != dh || sw != dw) && (!tmp || axis_make(&ax, sw, dw) ||
                                              axis_make(&ay, sh, dh)))) {
        free(plane);
        free(tmp);
        axis_free(&ax);
        axis_free(&ay);
        return SNG_ERR_NOMEM;
    }
    for (int k = 0; k < dc; k++) {
        /* One source plane per output channel: RGB to gray by Rec. 601 luma, gray to RGB by
         * replication, otherwise the matching channel. */
        for (size_t i = 0; i < splane; i++) {
            const uint8_t *p = src + i * (size_t)sc;
            if (sc == dc) plane[i] = p[k];
            else if (sc == 1) plane[i] = p[0];
            else if (dc == 1) plane[i] = to_u8(0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]);
            else plane[i] = p[k < sc ? k : 0];
        }
        uint8_t *out = dst + (size_t)k * dh * dw;
        if (!tmp) {
            memcpy(out, plane, splane);
            continue;
        }
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < dw; x++) {
                const float *w = ax.w + (size_t)x * ax.stride;
                const uint8_t *row = plane + (size_t)y * sw + ax.first[x];
                float v = 0;
                for (int j = 0; j < ax.count[x]; j++) v += w[j] * row[j];
                tmp[(size_t)y * dw + x] = v;
            }
        for (int y = 0; y < dh; y++) {
            const float *w = ay.w + (size_t)y * ay.stride;
            for (int x = 0; x < dw; x++) {
                float v = 0;
                for (int j = 0; j < ay.count[y]; j++)
                    v += w[j] * tmp[(size_t)(ay.first[y] + j) * dw + x];
                out[(size_t)y * dw + x] = to_u8(v);
            }
        }
    }
    free(plane);
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
    return SNG_OK;
}
