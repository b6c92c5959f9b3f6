/*
 * cmd_serve.c — `sngraph serve`: options, then the server (serve/serve.h) until SIGINT or
 * SIGTERM (drain and exit 0); SIGHUP rereads the gallery. The signals are blocked before the
 * server's threads start, so they inherit the mask and only sigwait here sees them.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

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

static int num(const char *s, long lo, long hi, long *v) {
    char *end;
    if (!s) return -1;
    *v = strtol(s, &end, 10);
    return *end || end == s || *v < lo || *v > hi ? -1 : 0;
}

int sngi_cmd_serve(int argc, char **argv, FILE *out, FILE *err) {
    sngi_serve_opts o;
    sngi_serve_opts_init(&o);
    o.log = err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *nx = i + 1 < argc ? argv[i + 1] : NULL;
        long v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, out);
            return SNG_EXIT_OK;
        } else if (!strcmp(a, "--quiet")) {
            o.log = NULL;
            continue;
        } else if (!nx) {
            fprintf(err, "sngraph serve: %s: missing value or unknown option\n%s", a, help);
            return SNG_EXIT_USAGE;
        }
        i++;
        if (!strcmp(a, "--ckpt")) o.ckpt = nx;
        else if (!strcmp(a, "--gallery")) o.gallery = nx;
        else if (!strcmp(a, "--listen")) o.listen = nx;
        else if (!strcmp(a, "--token-file")) o.token_file = nx;
        else if (!strcmp(a, "--threads") && !num(nx, 0, 1024, &v)) o.threads = (int)v;
        else if (!strcmp(a, "--max-batch") && !num(nx, 2, 256, &v)) o.max_batch = (int)v;
        else if (!strcmp(a, "--max-wait-ms") && !num(nx, 0, 10000, &v)) o.max_wait_ms = (int)v;
        else if (!strcmp(a, "--max-body") && !num(nx, 1024, 1L << 30, &v)) o.max_body = (size_t)v;
        else if (!strcmp(a, "--max-side") && !num(nx, 1, 16384, &v)) o.max_side = (int)v;
        else if (!strcmp(a, "--max-conns") && !num(nx, 1, 10000, &v)) o.max_conns = (int)v;
        else if (!strcmp(a, "--idle-timeout") && !num(nx, 1, 3600, &v)) o.idle_timeout_s = (int)v;
        else if (!strcmp(a, "--request-timeout-ms") && !num(nx, 1, 3600000, &v)) o.request_ms = (int)v;
        else {
            fprintf(err, "sngraph serve: bad option or value: %s %s\n%s", a, nx, help);
            return SNG_EXIT_USAGE;
        }
    }
    if (!o.ckpt) {
        fprintf(err, "sngraph serve: need --ckpt\n%s", help);
        return SNG_EXIT_USAGE;
    }
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
