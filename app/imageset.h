/*
 * imageset.h — images gathered from files, directories and archives for embedding (`embed`,
 * `gallery add`), decoded with the one preprocessing and embedded a batch at a time.
 */
#ifndef SNG_IMAGESET_H
#define SNG_IMAGESET_H

#include "app/infer.h"

/* Images gathered from the command line, in order: an image file is one image; a directory or
 * an archive (any libarchive format) gives each image inside it, in name order, named
 * SOURCE:ENTRY. Entries that are not images (no PNG/JPEG/PNM signature) are skipped and
 * counted; an image that does not decode is an error naming the entry. Images are decoded into
 * one batch of pixels and embedded as the batch fills, so memory grows with the embeddings
 * (4,608 floats each for VGG16), not with the images (11,025 each at 105x105). */
typedef struct sngi_imageset {
    sng_ctx *ctx;
    sngi_model *m;
    int no_resize;
    const char *src;    /* the source being walked */
    char **names;       /* owned, each owned */
    char **stems;       /* entry path without extension (gallery names), owned */
    float *emb;         /* n * emb_numel, owned */
    float *pix;         /* one batch of images (m->batch), owned */
    int n, cap, pending, skipped;
    double embed_s;     /* seconds spent embedding */
} sngi_imageset;

/* Adds the images of src: an image file is one image (named by its path, its gallery name the
 * file name without extension); a directory or an archive gives each image inside it in name
 * order, named SOURCE:ENTRY (gallery name: the entry path without extension). */
sng_status sngi_imageset_add(sngi_imageset *s, const char *src);
/* Embeds the images still pending; call once after the last add. */
sng_status sngi_imageset_flush(sngi_imageset *s);
/* Writes the embeddings as a float32 (n, D) .npy at path and the image names, one per line, at
 * "<path>.txt". Both are written in full to temporary files, fsynced, then renamed (the index
 * first), under the lock of path, so a reader or a crash never sees a half-written pair and
 * two writers do not interleave. A name holding a newline is refused (it would break the
 * index). */
sng_status sngi_imageset_save(const sngi_imageset *s, const char *path);
/* Frees what the set owns (the set itself is the caller's). */
void sngi_imageset_free(sngi_imageset *s);

#endif
