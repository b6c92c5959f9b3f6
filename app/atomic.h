/*
 * atomic.h — replacing a file atomically (temp + fsync + rename + directory fsync) and
 * serialising read-modify-write cycles with an exclusive lock on a sibling file.
 */
#ifndef SNG_ATOMIC_H
#define SNG_ATOMIC_H

#include <stdio.h>

#include "engine/sng_int.h"

/* One replacement in progress. The target is path resolved through symlinks, so a link keeps
 * pointing at the file it names; an existing file's mode is kept, a new one gets 0666 & ~umask. */
typedef struct sngi_atomic {
    char *target;  /* owned: the file that will be replaced */
    char *tmp;     /* owned: the temporary file in the target's directory */
    FILE *f;       /* write here */
} sngi_atomic;

/* Opens the temporary file. On failure nothing is left behind and *a needs no cleanup. */
sng_status sngi_atomic_open(sng_ctx *ctx, const char *path, sngi_atomic *a);
/* Checks every write (ferror, fflush, fsync, fclose), renames over the target and fsyncs the
 * directory. On any failure the temporary file is removed and the target is unchanged. Always
 * releases *a. */
sng_status sngi_atomic_commit(sng_ctx *ctx, sngi_atomic *a);
/* Removes the temporary file and releases *a (after an error while writing). */
void sngi_atomic_abort(sngi_atomic *a);

/* Takes an exclusive lock (flock) on "<target>.lock" beside path's target, waiting for other
 * holders. Returns the lock's descriptor in *fd; release it with sngi_unlock. */
sng_status sngi_lock(sng_ctx *ctx, const char *path, int *fd);
void sngi_unlock(int fd);

/* The file path names once the symlinks of its last component are followed (a dangling link
 * gives the file it would create); the caller frees it. NULL when out of memory. */
char *sngi_resolve_path(const char *path);

#endif
