/*
 * rundir.h — a fresh directory for each run: runs/<model>-<time>, with -2, -3, ... added when a
 * run of the same model started in the same second already took the name.
 */
#ifndef SNG_RUNDIR_H
#define SNG_RUNDIR_H

#include <stddef.h>

#include "engine/sng_int.h"

/* Creates parent (when missing) and then, exclusively, parent/<base> or the first free
 * parent/<base>-N; its path goes to out (cap bytes). Never reuses an existing directory. */
sng_status sngi_rundir_create(sng_ctx *ctx, const char *parent, const char *base, char *out,
                              size_t cap);

#endif
