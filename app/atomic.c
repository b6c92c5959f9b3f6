/*
 * atomic.c — see atomic.h. Used for galleries and checkpoints: a crash, a full disk or a
 * concurrent reader never sees a half-written file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/atomic.h"

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Follows the symlinks of the last component only (up to 40, as the kernel does): a dangling
 * link names the file to create, and directory links resolve the same for every caller, so
 * two paths to one gallery name one lock file. */
char *sngi_resolve_path(const char *path) {
    char *cur = strdup(path);
    for (int hops = 0; cur && hops < 40; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) break;
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n <= 0) break;
        target[n] = 0;
        char *next;
        if (target[0] == '/') {
            next = strdup(target);
        } else { /* relative to the link's directory */
            char *d = dir_of(cur);
            next = d ? malloc(strlen(d) + 1 + (size_t)n + 1) : NULL;
            if (next) sprintf(next, "%s/%s", d, target);
            free(d);
        }
        free(cur);
        cur = next;
    }
    return cur;
}

/* fsync of the directory makes the rename itself durable. */
static int sync_dir(const char *path) {
    char *d = dir_of(path);
    if (!d) return -1;
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    free(d);
    if (fd < 0) return -1;
    int r = fsync(fd);
    /* Some file systems cannot fsync a directory; that is not a write failure. */
    if (r && (errno == EINVAL || errno == ENOTSUP)) r = 0;
    close(fd);
    return r;
}

static void release(sngi_atomic *a) {
    free(a->target);
    free(a->tmp);
    a->target = a->tmp = NULL;
    a->f = NULL;
}

sng_status sngi_atomic_open(sng_ctx *ctx, const char *path, sngi_atomic *a) {
    memset(a, 0, sizeof *a);
    a->target = sngi_resolve_path(path);
    size_t n = a->target ? strlen(a->target) + 32 : 0;
    if (!a->target || !(a->tmp = malloc(n))) {
        release(a);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    struct stat st;
    int have = stat(a->target, &st) == 0;
    int fd = -1;
    /* O_EXCL with a fresh name; the 0666 request lets the umask apply to new files. */
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        snprintf(a->tmp, n, "%s.tmp.%ld.%d", a->target, (long)getpid(), tries);
        fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        sng_status s = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot create a temporary file: %s",
                                 a->tmp, strerror(errno));
        release(a);
        return s;
    }
    if (have && S_ISREG(st.st_mode) && fchmod(fd, st.st_mode & 07777) != 0) {
        sng_status s = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot keep the mode of %s: %s", a->tmp,
                                 a->target, strerror(errno));
        close(fd);
        unlink(a->tmp);
        release(a);
        return s;
    }
    if (!(a->f = fdopen(fd, "wb"))) {
        sng_status s = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        close(fd);
        unlink(a->tmp);
        release(a);
        return s;
    }
    return SNG_OK;
}

void sngi_atomic_abort(sngi_atomic *a) {
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    release(a);
}

sng_status sngi_atomic_commit(sng_ctx *ctx, sngi_atomic *a) {
    int e = 0;
    if (ferror(a->f)) e = errno ? errno : EIO;
    if (!e && fflush(a->f) != 0) e = errno;
    if (!e && fsync(fileno(a->f)) != 0) e = errno;
    if (fclose(a->f) != 0 && !e) e = errno;
    a->f = NULL;
    const char *what = "write";
    if (!e && rename(a->tmp, a->target) != 0) e = errno, what = "rename";
    if (e) {
        sng_status s = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot %s (%s); the previous file is "
                                                  "unchanged",
                                 a->target, what, strerror(e));
        unlink(a->tmp);
        release(a);
        return s;
    }
    sng_status s = SNG_OK;
    if (sync_dir(a->target) != 0)
        s = sngi_fail(ctx, SNG_ERR_IO, "%s: written, but its directory could not be synced: %s",
                      a->target, strerror(errno));
    release(a);
    return s;
}

sng_status sngi_lock(sng_ctx *ctx, const char *path, int *fd) {
    *fd = -1;
    char *t = sngi_resolve_path(path);
    char *lp = t ? malloc(strlen(t) + 6) : NULL;
    if (!lp) {
        free(t);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    sprintf(lp, "%s.lock", t);
    free(t);
    int d = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    sng_status s = SNG_OK;
    if (d < 0) {
        s = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot create the lock file: %s", lp, strerror(errno));
    } else {
        int r;
        while ((r = flock(d, LOCK_EX)) != 0 && errno == EINTR) {}
        if (r) {
            s = sngi_fail(ctx, SNG_ERR_IO, "%s: cannot lock: %s", lp, strerror(errno));
            close(d);
        } else {
            *fd = d;
        }
    }
    free(lp);
    return s;
}

void sngi_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing the descriptor releases the flock */
}
