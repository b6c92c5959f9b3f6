/*
 * serve.h — `sngraph serve`: a checkpoint and a gallery behind HTTP/1.1 (doc/serve.md). The
 * server runs on its own threads (libmicrohttpd's, one per connection, plus the model's worker)
 * and never prints; its access log goes to the FILE* it is given.
 */
#ifndef SNGI_SERVE_H
#define SNGI_SERVE_H

#include <stdio.h>

#include "engine/sng_int.h"

typedef struct sngi_serve_opts {
    const char *ckpt;         /* required */
    const char *gallery;      /* created if absent; NULL: none (gallery endpoints answer 404) */
    const char *listen;       /* "HOST:PORT"; port 0 picks a free one (sngi_serve_port) */
    const char *token_file;   /* NULL: no token */
    int threads;              /* compute threads of the model (0: the engine's default) */
    int max_batch;            /* images per branch pass, >= 2 */
    int max_wait_ms;          /* how long the first request of a batch waits for others */
    size_t max_body;          /* bytes of one request body */
    int max_side;             /* image width and height limit (pixels) */
    int max_conns;            /* concurrent connections */
    int idle_timeout_s;       /* a client silent this long is dropped */
    int request_ms;           /* a request waiting longer for the model gets 503 */
    FILE *log;                /* access log, one JSON object per line; NULL: none */
} sngi_serve_opts;

typedef struct sngi_server sngi_server;

void sngi_serve_opts_init(sngi_serve_opts *o);
/* Loads the model and gallery, then listens. *out is owned by the caller (sngi_serve_stop). */
sng_status sngi_serve_start(sng_ctx *ctx, const sngi_serve_opts *o, sngi_server **out);
int sngi_serve_port(const sngi_server *s);
int sngi_serve_gallery_size(sngi_server *s);
/* Rereads the gallery file (SIGHUP). */
sng_status sngi_serve_reload(sng_ctx *ctx, sngi_server *s);
/* Stops accepting, lets in-flight requests finish, stops the worker, compacts the gallery
 * journal and frees s. Returns the compaction's status. */
sng_status sngi_serve_stop(sng_ctx *ctx, sngi_server *s);

#endif
