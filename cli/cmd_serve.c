/*
 * cmd_serve.c — `sngraph serve`: options, then the server (serve/serve.h) until SIGINT or
 * SIGTERM (drain and exit 0); SIGHUP rereads the gallery. The signals are blocked before the
 * server's threads start, so they inherit the mask and only sigwait here sees them.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "serve/serve.h"

static const char help[] =
    "Usage: sngraph serve --ckpt CHECKPOINT [--gallery GALLERY] [--listen HOST:PORT]\n"
    "                     [--threads T] [--max-batch B] [--max-wait-ms W] [--token-file F]\n"
    "                     [--max-body BYTES] [--max-side PIXELS] [--max-conns N]\n"
    "                     [--idle-timeout S] [--request-timeout-ms MS] [--quiet]\n"
    "Serves the checkpoint over HTTP/1.1 (doc/serve.md): /healthz, /readyz, /metrics,\n"
    "/v1/compare, /v1/embed, /v1/identify, /v1/gallery[/NAME]. Binds 127.0.0.1:8080 unless\n"
    "told otherwise (port 0: any free port, printed). Concurrent requests are batched, up to\n"
    "B images (default 16) or W ms (default 2), into one branch pass. The gallery (created if\n"
    "absent) is durable: a change is on disk before it is acknowledged. --token-file requires\n"
    "'Authorization: Bearer TOKEN' on /v1. One JSON access-log line per request goes to\n"
    "stderr unless --quiet. SIGTERM/SIGINT drain and exit 0; SIGHUP rereads the gallery.\n";

int sngi_cmd_serve(int argc, char **argv, FILE *out, FILE *err) {
    sngi_serve_opts o;
    sngi_serve_opts_init(&o);
    o.log = err;
    int quiet = 0;
    long threads = o.threads, max_batch = o.max_batch, max_wait = o.max_wait_ms,
         max_body = (long)o.max_body, max_side = o.max_side, max_conns = o.max_conns,
         idle = o.idle_timeout_s, req_ms = o.request_ms;
    const sngi_arg opts[] = {
        {"--ckpt", NULL, SNGI_ARG_TEXT, &o.ckpt, 0, 0, NULL, "CHECKPOINT",
         "the trained checkpoint (required)", NULL},
        {"--gallery", NULL, SNGI_ARG_TEXT, &o.gallery, 0, 0, NULL, "GALLERY",
         "the gallery file, created if absent (none: gallery endpoints answer 404)", NULL},
        {"--listen", NULL, SNGI_ARG_TEXT, &o.listen, 0, 0, NULL, "HOST:PORT",
         "where to listen (default 127.0.0.1:8080; port 0: any free one)", NULL},
        {"--token-file", NULL, SNGI_ARG_TEXT, &o.token_file, 0, 0, NULL, "F",
         "require 'Authorization: Bearer TOKEN' on /v1 with the token in F", NULL},
        SNGI_ARG_THREADS(&threads),
        {"--max-batch", NULL, SNGI_ARG_INT, &max_batch, 2, 256, NULL, "B",
         "images per branch pass (default 16)", NULL},
        {"--max-wait-ms", NULL, SNGI_ARG_INT, &max_wait, 0, 10000, NULL, "W",
         "how long a batch waits for more requests (default 2)", NULL},
        {"--max-body", NULL, SNGI_ARG_INT, &max_body, 1024, 1 << 30, NULL, "BYTES",
         "largest request body", NULL},
        {"--max-side", NULL, SNGI_ARG_INT, &max_side, 1, 16384, NULL, "PIXELS",
         "largest image width or height", NULL},
        {"--max-conns", NULL, SNGI_ARG_INT, &max_conns, 1, 10000, NULL, "N",
         "concurrent connections", NULL},
        {"--idle-timeout", NULL, SNGI_ARG_INT, &idle, 1, 3600, NULL, "S",
         "drop a client silent this many seconds", NULL},
        {"--request-timeout-ms", NULL, SNGI_ARG_INT, &req_ms, 1, 3600000, NULL, "MS",
         "answer 503 to a request that waited this long for the model", NULL},
        {"--quiet", "-q", SNGI_ARG_FLAG, &quiet, 0, 0, NULL, NULL, "no access log", NULL},
        SNGI_ARG_END,
    };
    int rc0 = sngi_args_parse(argc, argv, opts, NULL, 0, 0, NULL, help, out, err);
    if (rc0) return rc0 < 0 ? SNG_EXIT_OK : rc0;
    if (quiet) o.log = NULL;
    o.threads = (int)threads;
    o.max_batch = (int)max_batch;
    o.max_wait_ms = (int)max_wait;
    o.max_body = (size_t)max_body;
    o.max_side = (int)max_side;
    o.max_conns = (int)max_conns;
    o.idle_timeout_s = (int)idle;
    o.request_ms = (int)req_ms;
    if (!o.ckpt) return sngi_args_usage(err, "serve", help, opts, "missing --ckpt");
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_server *s = NULL;
    sng_status st = ctx ? sngi_serve_start(ctx, &o, &s) : SNG_ERR_NOMEM;
    if (st) {
        int rc = sngi_cli_report(err, "serve", ctx, st);
        sng_ctx_free(ctx);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return rc;
    }
    const char *colon = strrchr(o.listen, ':');
    /* Scripts and tests read the port from this line. */
    if (fprintf(out, "sngraph serve: listening on http://%.*s:%d (%d identities)\n",
                (int)(colon - o.listen), o.listen, sngi_serve_port(s), sngi_serve_gallery_size(s)) < 0 ||
        fflush(out))
        fprintf(err, "sngraph serve: cannot write to standard output\n");
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig)) continue;
        if (sig != SIGHUP) break;
        if (sngi_serve_reload(ctx, s)) sngi_cli_report(err, "serve (SIGHUP reload)", ctx, SNG_ERR_DATA);
        else fprintf(err, "sngraph serve: gallery reloaded (%d identities)\n", sngi_serve_gallery_size(s));
    }
    st = sngi_serve_stop(ctx, s);
    int rc = st ? sngi_cli_report(err, "serve", ctx, st) : SNG_EXIT_OK;
    sng_ctx_free(ctx);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
