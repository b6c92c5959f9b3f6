/*
 * server.c — the server's lifecycle: model, gallery store, worker, then HTTP; and the reverse on
 * stop, so that every request already accepted gets its answer before the journal is compacted.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "serve/auth.h"
#include "serve/server_int.h"

void sngi_serve_opts_init(sngi_serve_opts *o) {
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8080";
    o->max_batch = 16;
    o->max_wait_ms = 2;
    o->max_body = 16u << 20;
    o->max_side = 4096;
    o->max_conns = 64;
    o->idle_timeout_s = 30;
    o->request_ms = 30000;
}

static void free_server(sngi_server *s) {
    sngi_batcher_stop(&s->batcher);
    sngi_store_close(NULL, s->store);
    sngi_model_close(s->m);
    sng_ctx_free(s->wctx);
    free(s->token);
    sngi_metrics_destroy(&s->metrics);
    pthread_mutex_destroy(&s->log_mu);
    free(s);
}

sng_status sngi_serve_start(sng_ctx *ctx, const sngi_serve_opts *o, sngi_server **out) {
    *out = NULL;
    if (!o->ckpt) return sngi_fail(ctx, SNG_ERR_USAGE, "serve: a checkpoint is required");
    if (o->max_batch < 2 || o->max_batch > 256)
        return sngi_fail(ctx, SNG_ERR_USAGE, "--max-batch must be 2 to 256");
    sngi_server *s = calloc(1, sizeof *s);
    if (!s) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    s->o = *o;
    sngi_metrics_init(&s->metrics);
    pthread_mutex_init(&s->log_mu, NULL);
    sng_status st = SNG_OK;
    if (o->token_file && (st = sngi_auth_load(ctx, o->token_file, &s->token))) goto fail;
    /* One image per branch slot, and the head over up to 1024 gallery identities per pass. */
    if ((st = sngi_model_open(ctx, o->ckpt, o->max_batch, 1024, o->threads, &s->m))) goto fail;
    if (!(s->wctx = sng_ctx_new())) {
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    s->m->ctx = s->wctx; /* from here on only the worker uses the model */
    if (o->gallery && (st = sngi_store_open(ctx, o->gallery, o->ckpt, s->m->fingerprint,
                                            (int)s->m->emb_numel, &s->store)))
        goto fail;
    if (s->store) sngi_metrics_gauges(&s->metrics, 0, sngi_store_count(s->store));
    if (sngi_batcher_start(&s->batcher, s->m, s->store, &s->metrics, o->max_batch, o->max_wait_ms)) {
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "cannot start the model's worker thread");
        goto fail;
    }
    if ((st = sngi_http_start(ctx, s))) goto fail;
    *out = s;
    return SNG_OK;
fail:
    free_server(s);
    return st;
}

int sngi_serve_port(const sngi_server *s) { return s->port; }

int sngi_serve_gallery_size(sngi_server *s) { return s->store ? sngi_store_count(s->store) : 0; }

sng_status sngi_serve_reload(sng_ctx *ctx, sngi_server *s) {
    if (!s->store) return SNG_OK;
    sng_status st = sngi_store_reload(ctx, s->store);
    sngi_metrics_gauges(&s->metrics, -1, sngi_store_count(s->store));
    return st;
}

sng_status sngi_serve_stop(sng_ctx *ctx, sngi_server *s) {
    if (!s) return SNG_OK;
    s->draining = 1;
    /* Stop accepting; MHD_stop_daemon then joins the connection threads, each finishing its
     * request (the worker is still running), before the worker and the store go. */
    if (s->d) {
        MHD_socket fd = MHD_quiesce_daemon(s->d);
        if (fd != MHD_INVALID_SOCKET) close(fd);
        MHD_stop_daemon(s->d);
    }
    sngi_batcher_stop(&s->batcher);
    sng_status st = s->store ? sngi_store_close(ctx, s->store) : SNG_OK;
    s->store = NULL;
    free_server(s);
    return st;
}
