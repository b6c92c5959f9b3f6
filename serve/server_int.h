/*
 * server_int.h — the server's parts, shared by server.c (lifecycle), http.c (libmicrohttpd
 * plumbing) and routes.c (the endpoints).
 */
#ifndef SNGI_SERVER_INT_H
#define SNGI_SERVER_INT_H

#include <microhttpd.h>
#include <jansson.h>

#include "serve/batcher.h"
#include "serve/metrics.h"
#include "serve/serve.h"
#include "serve/store.h"

struct sngi_server {
    sngi_serve_opts o;
    sngi_model *m;          /* owned; used by the batcher's worker only */
    sng_ctx *wctx;          /* owned: the worker's context (the model reports through it) */
    sngi_store *store;      /* owned, or NULL without --gallery */
    sngi_batcher batcher;
    sngi_metrics metrics;
    char *token;            /* owned, or NULL */
    struct MHD_Daemon *d;
    int port;
    volatile int draining;
    pthread_mutex_t log_mu;
};

/* One request in flight: what the handler gathered, freed when MHD reports it complete. */
typedef struct sngi_req {
    sngi_server *s;
    int ep, status;
    char method[16], path[256];  /* for the access log */
    int bad_multipart;
    const char *allow;           /* the Allow header of a 405 */
    char *body;             /* owned */
    size_t n, cap;
    int too_big;
    struct timespec t0;
    struct MHD_PostProcessor *pp;   /* multipart compare */
    char *part[2];          /* owned: fields a and b */
    size_t part_n[2];
} sngi_req;

/* Answers with a JSON body (takes ownership of j) and the status. */
enum MHD_Result sngi_reply_json(struct MHD_Connection *c, sngi_req *r, int status, json_t *j);
/* Answers {"error": msg}. */
enum MHD_Result sngi_reply_error(struct MHD_Connection *c, sngi_req *r, int status, const char *fmt,
                                 ...) __attribute__((format(printf, 4, 5)));
/* Routes a complete request (body gathered). */
enum MHD_Result sngi_route(sngi_server *s, struct MHD_Connection *c, sngi_req *r, const char *url,
                           const char *method);
/* Which endpoint a path is (SNGI_EP_*), for metrics before the body arrives. */
int sngi_route_endpoint(const char *url, const char *method);
/* Starts libmicrohttpd on o.listen. */
sng_status sngi_http_start(sng_ctx *ctx, sngi_server *s);

#endif
