/*
 * gallery.h — enrolled identities with cached embeddings, in one file updated atomically.
 */
#ifndef SNG_GALLERY_H
#define SNG_GALLERY_H

#include "engine/sng_int.h"

#define SNGI_GALLERY_NAME_MAX 1000 /* bytes in an identity name */

typedef struct sngi_gallery {
    uint64_t fingerprint;  /* of the checkpoint whose branch made the embeddings */
    int dim;               /* embedding size */
    int n, cap;
    char **names;          /* owned */
    float *emb;            /* n * dim, owned */
} sngi_gallery;

/* Reads a gallery; *out is the caller's (sngi_gallery_free). A missing file with create != 0
 * gives an empty gallery. Only a regular file is read. A file of another format, truncated,
 * with a bad checksum or any record that does not fit is refused naming the file (and the
 * identity). */
sng_status sngi_gallery_load(sng_ctx *ctx, const char *path, int create, sngi_gallery **out);
/* The same from bytes in memory; path only names them in messages. */
sng_status sngi_gallery_parse(sng_ctx *ctx, const char *path, const void *data, size_t len,
                              sngi_gallery **out);
/* Writes to a temporary file beside path's target (symlinks followed, mode kept), fsyncs and
 * renames over it, then fsyncs the directory: a crash or a full disk leaves the previous
 * gallery intact. Use sngi_gallery_update for a read-modify-write. */
sng_status sngi_gallery_save(sng_ctx *ctx, const sngi_gallery *gal, const char *path);
/* One read-modify-write under an exclusive lock ("<gallery>.lock"): loads path (a missing file
 * is an empty gallery when create != 0), calls edit, and saves when edit returns SNG_OK.
 * Concurrent updates are serialised, so none loses another's change. */
typedef sng_status (*sngi_gallery_edit)(sng_ctx *ctx, sngi_gallery *gal, void *arg);
sng_status sngi_gallery_update(sng_ctx *ctx, const char *path, int create,
                               sngi_gallery_edit edit, void *arg);
void sngi_gallery_free(sngi_gallery *gal);
int sngi_gallery_find(const sngi_gallery *gal, const char *name);
sng_status sngi_gallery_add(sng_ctx *ctx, sngi_gallery *gal, const char *name, const float *emb);
sng_status sngi_gallery_remove(sng_ctx *ctx, sngi_gallery *gal, const char *name);

#endif
