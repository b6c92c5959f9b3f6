/*
 * imgsize.h — an image's width and height read from its header (PNG, JPEG, PNM), so the server
 * refuses oversized images before decoding them (--max-side).
 */
#ifndef SNGI_IMGSIZE_H
#define SNGI_IMGSIZE_H

#include <stddef.h>
#include <stdint.h>

/* 0 with *w, *h; -1 when the header is not found or malformed (the decoder then says why). */
int sngi_image_size(const uint8_t *b, size_t n, long *w, long *h);

#endif
