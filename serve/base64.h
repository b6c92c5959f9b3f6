/*
 * base64.h — RFC 4648 base64 decoding for the JSON body of /v1/compare. Our own few lines: no
 * library sngraph already links decodes base64 (see doc/serve.md).
 */
#ifndef SNGI_BASE64_H
#define SNGI_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes n characters of standard base64 (padding optional, no whitespace or other alphabet).
 * Returns 0 with *out (owned by the caller: free) and *len, or -1 on malformed input or OOM. */
int sngi_base64_decode(const char *s, size_t n, uint8_t **out, size_t *len);

#endif
