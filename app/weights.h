/* weights.h — initialise a session's parameters from .npy files (see weights.c). */
#ifndef SNG_WEIGHTS_H
#define SNG_WEIGHTS_H

#include "engine/state.h"

/* Loads every SRC entry NAME.npy (or params/NAME.npy) into the parameter NAME of s; SRC is a
 * directory or an archive of any format libarchive reads (a sngraph checkpoint works). Errors
 * name the entry: an unknown parameter, another shape, a malformed .npy, or nothing loaded.
 * *n_loaded / *n_params report how many of the model's parameter tensors were set. */
sng_status sngi_weights_load(sng_ctx *ctx, sng_session *s, const char *src, int *n_loaded,
                             int *n_params);

#endif
