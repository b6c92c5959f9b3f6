/*
 * verify.h — the operations behind `compare`, `gallery` and `identify`, shared by the CLI, the
 * server and the public C API: a gallery bound to the checkpoint that made its embeddings, and
 * the top-K ranking of the gallery against a query embedding.
 */
#ifndef SNG_VERIFY_H
#define SNG_VERIFY_H

#include "app/gallery.h"
#include "app/infer.h"

/* Binds gal (read from `path`, named in messages) to m: an empty gallery takes m's fingerprint
 * and embedding size; a gallery of another checkpoint is refused, since its embeddings would
 * not be comparable. */
sng_status sngi_gallery_bind(sng_ctx *ctx, sngi_gallery *gal, const sngi_model *m,
                             const char *path);
/* Scores query embedding q against every identity of gal into score[0..gal->n) and puts the
 * indices of the best *k = min(top, gal->n) first in order[0..gal->n), best first. score and
 * order are the caller's, gal->n each. */
sng_status sngi_identify(sngi_model *m, const sngi_gallery *gal, const float *q, int top,
                         float *score, int *order, int *k);

#endif
