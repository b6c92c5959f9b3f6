/*
 * auth.h — the optional bearer token of /v1 endpoints, read from a file, compared in constant
 * time.
 */
#ifndef SNGI_AUTH_H
#define SNGI_AUTH_H

#include "engine/sng_int.h"

/* Reads the token: the file's first line without trailing whitespace, 16 to 4096 bytes of
 * printable ASCII. *tok is owned by the caller (free). */
sng_status sngi_auth_load(sng_ctx *ctx, const char *path, char **tok);
/* 1 when `header` (an Authorization value, may be NULL) is "Bearer <tok>". The time taken
 * depends only on the token's length, not on how much of it matches. */
int sngi_auth_check(const char *tok, const char *header);

#endif
