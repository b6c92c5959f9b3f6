/*
 * npy.h — NumPy .npy arrays of little-endian float32 in C order: the one reader and writer used
 * for checkpoints, train.init_from and `embed`.
 */
#ifndef SNG_NPY_H
#define SNG_NPY_H

#include <stdio.h>

#include "engine/sng_int.h"

#define SNGI_NPY_MAX_DIMS (SNG_MAX_DIMS + 2) /* size of the dims arrays below */

/* Parses a .npy held in memory. The header is read as the Python dict it is: exactly the keys
 * 'descr' ('<f4'), 'fortran_order' (False) and 'shape' (a tuple of at most SNGI_NPY_MAX_DIMS
 * non-negative ints), and the data must be exactly as long as the shape needs. Anything else is
 * refused with a message starting with what. *values points into data (no copy); it may be
 * unaligned, so read it with memcpy. */
sng_status sngi_npy_parse(sng_ctx *ctx, const char *what, const void *data, size_t len,
                          int *dims, int *nd, const float **values);
/* 1 when an .npy shape (dims, nd) equals want; got receives it as "(a,b,...)" either way. */
int sngi_npy_shape_is(const int *dims, int nd, const sngi_shape *want, char *got, size_t n);
/* Builds the version 1.0 header for a float32 C-order array of shape dims: the dict padded with
 * spaces and ended by '\n' so the data starts at a multiple of 64. Returns its length, or 0 when
 * cap is too small. */
size_t sngi_npy_header(char *buf, size_t cap, const int *dims, int nd);
/* Writes a whole .npy (header + values) to f, checking every write; what names f in errors. */
sng_status sngi_npy_write(sng_ctx *ctx, FILE *f, const char *what, const float *v,
                          const int *dims, int nd);

#endif
