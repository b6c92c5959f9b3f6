/*
 * rundir.c — see rundir.h. mkdir is atomic: of two runs racing for a name, one gets EEXIST and
 * moves on to the next suffix, so no two runs ever share a directory.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "app/rundir.h"

#define MAX_SUFFIX 10000

sng_status sngi_rundir_create(sng_ctx *ctx, const char *parent, const char *base, char *out,
                              size_t cap) {
    if (mkdir(parent, 0777) != 0 && errno != EEXIST)
        return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot create: %s", parent, strerror(errno));
    for (int k = 1; k <= MAX_SUFFIX; k++) {
        int n = k == 1 ? snprintf(out, cap, "%s/%s", parent, base)
                       : snprintf(out, cap, "%s/%s-%d", parent, base, k);
        if (n < 0 || (size_t)n >= cap)
            return sngi_fail(ctx, SNG_ERR_USAGE, "%s/%s: run directory name is too long", parent,
                             base);
        if (mkdir(out, 0777) == 0) return SNG_OK;
        if (errno != EEXIST)
            return sngi_fail(ctx, SNG_ERR_IO, "%s: cannot create run directory: %s", out,
                             strerror(errno));
    }
    return sngi_fail(ctx, SNG_ERR_IO, "%s/%s: %d runs already use this name", parent, base,
                     MAX_SUFFIX);
}
