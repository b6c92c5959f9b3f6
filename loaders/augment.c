/*
 * augment.c — packs a stored uint8 image into the float batch, optionally through the affine
 * distortions of Koch, Zemel & Salakhutdinov (2015), "Siamese Neural Networks for One-shot Image
 * Recognition": rotation θ ∈ [-10°, 10°], shear ρx, ρy ∈ [-0.3, 0.3], scale sx, sy ∈ [0.8, 1.2]
 * and translation tx, ty ∈ [-2, 2] px, each of the four parts applied with probability 0.5; plus
 * an optional horizontal flip (p 0.5) for faces.
 *
 * All random numbers come from one sngi_rng seeded by the caller, and every draw is made
 * whether or not its part is applied, so the stream (and the result) depends only on the seed.
 * Sampling is bilinear with edges clamped: output values never leave the range of the input.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "loaders/loader_int.h"

void sngi_augment_opts_init(sngi_augment_opts *o) {
    memset(o, 0, sizeof *o);
    o->p = 0.5f;
    o->rotate_deg = 10.0f;
    o->shear = 0.3f;
    o->scale_lo = 0.8f;
    o->scale_hi = 1.2f;
    o->translate_px = 2.0f;
}

static float unif(sngi_rng *r, float lo, float hi) { return lo + (hi - lo) * sngi_rng_uniform(r); }

void sngi_augment_pack(const uint8_t *src, int c, int h, int w, const sngi_augment_opts *aug,
                      uint64_t rng_seed, float scale, float mean, float std, float *dst) {
    float a = scale / std, b = -mean / std; /* (x*scale - mean)/std = a*x + b */
    size_t plane = (size_t)h * w;
    if (!aug || (!aug->affine && !aug->flip)) {
        for (size_t i = 0; i < plane * (size_t)c; i++) dst[i] = a * src[i] + b;
        return;
    }
    sngi_rng r;
    sngi_rng_seed(&r, rng_seed);
    /* Draw every parameter, then keep those whose coin came up. */
    float u_rot = sngi_rng_uniform(&r), th = unif(&r, -aug->rotate_deg, aug->rotate_deg);
    float u_sh = sngi_rng_uniform(&r), rx = unif(&r, -aug->shear, aug->shear),
          ry = unif(&r, -aug->shear, aug->shear);
    float u_sc = sngi_rng_uniform(&r), sx = unif(&r, aug->scale_lo, aug->scale_hi),
          sy = unif(&r, aug->scale_lo, aug->scale_hi);
    float u_tr = sngi_rng_uniform(&r), tx = unif(&r, -aug->translate_px, aug->translate_px),
          ty = unif(&r, -aug->translate_px, aug->translate_px);
    float u_fl = sngi_rng_uniform(&r);
    int on = aug->affine;
    if (!(on && u_rot < aug->p)) th = 0;
    if (!(on && u_sh < aug->p)) rx = ry = 0;
    if (!(on && u_sc < aug->p)) sx = sy = 1;
    if (!(on && u_tr < aug->p)) tx = ty = 0;
    int flip = aug->flip && u_fl < 0.5f;
    if (th == 0 && rx == 0 && ry == 0 && sx == 1 && sy == 1 && tx == 0 && ty == 0) {
        /* Identity or a pure mirror: no resampling. */
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++) {
                const uint8_t *s = src + (size_t)k * plane + (size_t)y * w;
                float *o = dst + (size_t)k * plane + (size_t)y * w;
                for (int x = 0; x < w; x++) o[x] = a * s[flip ? w - 1 - x : x] + b;
            }
        return;
    }
    /* Forward map about the image centre: p' = R(θ) · [[1, ρx], [ρy, 1]] · diag(sx, sy) · p + t.
     * Each output pixel samples the source at the inverse image. */
    double t = th * M_PI / 180.0, cs = cos(t), sn = sin(t);
    double m00 = (cs * 1 + -sn * ry) * sx, m01 = (cs * rx + -sn * 1) * sy;
    double m10 = (sn * 1 + cs * ry) * sx, m11 = (sn * rx + cs * 1) * sy;
    double det = m00 * m11 - m01 * m10;
    if (fabs(det) < 1e-6) det = 1e-6;
    double i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
    double cx = (w - 1) * 0.5, cy = (h - 1) * 0.5;
    /* Source coordinates move by a constant step along an output row. */
    double step = flip ? -1.0 : 1.0;
    for (int y = 0; y < h; y++) {
        double ox0 = (flip ? w - 1 : 0) - cx - tx, oy = y - cy - ty;
        double rx0 = i00 * ox0 + i01 * oy + cx, ry0 = i10 * ox0 + i11 * oy + cy;
        double dx = i00 * step, dy = i10 * step;
        for (int x = 0; x < w; x++) {
            double sxp = rx0 + dx * x, syp = ry0 + dy * x;
            if (sxp < 0) sxp = 0;
            if (sxp > w - 1) sxp = w - 1;
            if (syp < 0) syp = 0;
            if (syp > h - 1) syp = h - 1;
            int x0 = (int)sxp, y0 = (int)syp;
            int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
            float fx = (float)(sxp - x0), fy = (float)(syp - y0);
            for (int k = 0; k < c; k++) {
                const uint8_t *p = src + (size_t)k * plane;
                float v0 = p[y0 * w + x0] + fx * (p[y0 * w + x1] - p[y0 * w + x0]);
                float v1 = p[y1 * w + x0] + fx * (p[y1 * w + x1] - p[y1 * w + x0]);
                dst[(size_t)k * plane + (size_t)y * w + x] = a * (v0 + fy * (v1 - v0)) + b;
            }
        }
    }
}
