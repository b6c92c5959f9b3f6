/*
 * preprocess.h — the one image preprocessing: decode (PNG, JPEG, PNM), convert to the model's
 * channel count and size, then x' = (x * data.scale - data.mean) / data.std. Training packs
 * its batches with the same constants (the data feed reads them from here), and every serving
 * path reads them from the checkpoint's model, so a model is always fed as it was trained.
 */
#ifndef SNG_PREPROCESS_H
#define SNG_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/sng_int.h"

typedef struct sngi_prep {
    int c, h, w;              /* the model's image input (C,H,W) */
    float scale, mean, std;   /* data.scale, data.mean, data.std */
} sngi_prep;

/* Fills p from the image input `img_node` of g and g's data.scale/mean/std settings (marking
 * them read). Fails on an input that is not (C,H,W) or a setting out of range. */
sng_status sngi_prep_from_graph(sng_ctx *ctx, sng_graph *g, int img_node, sngi_prep *p);
/* Decodes one encoded image into c*h*w floats at dst. `label` names it in messages (a file, or
 * ARCHIVE:ENTRY, or a request). With no_resize, an image of another size or channel count is an
 * error naming both shapes; otherwise it is converted and resized. */
sng_status sngi_prep_decode(sng_ctx *ctx, const sngi_prep *p, const char *label,
                            const uint8_t *buf, size_t n, int no_resize, float *dst);

/* Largest encoded image file read whole. */
#define SNGI_MAX_IMAGE_FILE (256 << 20)
/* Reads a whole regular file of at most SNGI_MAX_IMAGE_FILE bytes (FIFOs and devices are
 * refused, so nothing blocks). *buf is owned by the caller (free). */
sng_status sngi_read_image_file(sng_ctx *ctx, const char *path, uint8_t **buf, size_t *n);

#endif
