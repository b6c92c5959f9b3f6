/*
 * auth.c — bearer token (see auth.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "serve/auth.h"

sng_status sngi_auth_load(sng_ctx *ctx, const char *path, char **tok) {
    *tok = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    char buf[4098];
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    size_t n = ok ? strlen(buf) : 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] < 33 || buf[i] > 126) n = 0;
    if (n < 16 || n > 4096)
        return sngi_fail(ctx, SNG_ERR_USAGE, "%s: the token must be one line of 16 to 4096 "
                                             "printable characters without spaces", path);
    if (!(*tok = strdup(buf))) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    return SNG_OK;
}

int sngi_auth_check(const char *tok, const char *header) {
    static const char pre[] = "Bearer ";
    if (!header || strncmp(header, pre, sizeof pre - 1)) return 0;
    const unsigned char *g = (const unsigned char *)header + sizeof pre - 1;
    size_t lt = strlen(tok), lg = strlen((const char *)g);
    /* Every byte of the token is visited whatever the input; bytes past the end of a shorter
     * guess compare with 0, and the length difference is folded in. */
    unsigned diff = (unsigned)(lt ^ lg);
    for (size_t i = 0; i < lt; i++) diff |= (unsigned)((i < lg ? g[i] : 0) ^ (unsigned char)tok[i]);
    return diff == 0;
}
