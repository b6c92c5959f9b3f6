/*
 * store.h — the server's durable gallery: the gallery file (app/gallery.c) plus an append-only
 * journal GALLERY.journal. A change is appended to the journal and fsynced before it is
 * acknowledged; the journal is folded into the gallery file (sngi_gallery_save: temp file,
 * fsync, rename) when it grows, on reload and on shutdown. Replay is idempotent (an add
 * replaces, a remove of an absent name is nothing), so a crash at any point, even between the
 * rewrite and the journal's truncation, loses no acknowledged change.
 */
#ifndef SNGI_STORE_H
#define SNGI_STORE_H

#include <pthread.h>

#include "app/gallery.h"

typedef struct sngi_store {
    pthread_mutex_t mu;     /* guards everything below; hold it to read gal */
    sngi_gallery *gal;      /* owned: the current identities */
    char *path, *jpath;     /* owned */
    int jfd;                /* the journal, locked against a second server */
    long jrecords;          /* records since the last compaction */
    long compact_every;     /* fold the journal into the gallery after this many records */
    uint64_t fingerprint;
    int dim;
    sng_ctx *ctx;           /* owned: messages of calls made under mu */
} sngi_store;

enum { SNGI_STORE_OK = 0, SNGI_STORE_EXISTS = 1, SNGI_STORE_ABSENT = 2, SNGI_STORE_FAIL = -1 };

/* Opens (creating if absent) the gallery at path for a model of fingerprint/dim; `ckpt` names
 * the checkpoint when another checkpoint's gallery is refused. Replays and compacts a journal
 * left by a crash. *out is owned by the caller (sngi_store_close). */
sng_status sngi_store_open(sng_ctx *ctx, const char *path, const char *ckpt, uint64_t fingerprint,
                           int dim, sngi_store **out);
/* Enrols name (durable on return of SNGI_STORE_OK); SNGI_STORE_EXISTS when already enrolled,
 * SNGI_STORE_FAIL with the reason in why. */
int sngi_store_add(sngi_store *s, const char *name, const float *emb, char *why, size_t nwhy);
/* Removes name durably; SNGI_STORE_ABSENT when not enrolled. */
int sngi_store_remove(sngi_store *s, const char *name, char *why, size_t nwhy);
/* Folds the journal into the gallery file and empties it. */
sng_status sngi_store_compact(sng_ctx *ctx, sngi_store *s);
/* Rereads the gallery file and journal (SIGHUP), e.g. after an offline `gallery add`. */
sng_status sngi_store_reload(sng_ctx *ctx, sngi_store *s);
int sngi_store_count(sngi_store *s);
/* Compacts, then frees. Returns the compaction's status. */
sng_status sngi_store_close(sng_ctx *ctx, sngi_store *s);

#endif
