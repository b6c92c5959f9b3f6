/*
 * gallery.h — enrolled identities with cached embeddings, in one file updated atomically.
 */
#ifndef SNG_GALLERY_H
#define SNG_GALLERY_H

#include "engine/sng_int.h"

typedef struct sngi_gallery {
    uint64_t fingerprint;  /* of the checkpoint whose branch made the embeddings */
    int dim;               /* embedding size */
    int n, cap;
    char **names;          /* owned */
    float *emb;            /* n * dim, owned */
} sngi_gallery;

/* Reads a gallery. A missing file with create != 0 gives an empty gallery. A file of another
 * format, truncated or with a bad checksum is refused naming the file. */
sng_status sngi_gallery_load(sng_ctx *ctx, const char *path, int create, sngi_gallery **out);
/* Writes to a temporary file in the same directory, fsyncs and renames over path: a crash or a
 * full disk leaves the previous gallery intact. */
sng_status sngi_gallery_save(sng_ctx *ctx, const sngi_gallery *gal, const char *path);
void sngi_gallery_free(sngi_gallery *gal);
int sngi_gallery_find(const sngi_gallery *gal, const char *name);
sng_status sngi_gallery_add(sng_ctx *ctx, sngi_gallery *gal, const char *name, const float *emb);
sng_status sngi_gallery_remove(sng_ctx *ctx, sngi_gallery *gal, const char *name);

#endif
