/*
 * http.c — libmicrohttpd plumbing: one thread per connection (a handler may block while the
 * worker runs its batch), the body gathered under --max-body (413 up front when Content-Length
 * says so), the token checked before the body is read, multipart fields through MHD's post
 * processor, and on completion the metrics and the access log.
 */
#include "config.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "serve/auth.h"
#include "serve/server_int.h"

enum MHD_Result sngi_reply_json(struct MHD_Connection *c, sngi_req *r, int status, json_t *j) {
    r->status = status;
    /* Nine significant digits print a float exactly (and a double close enough). */
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(j);
    size_t n = text ? strlen(text) : 0;
    /* The body ends with a newline so that curl output reads well. */
    char *body = text ? realloc(text, n + 2) : NULL;
    if (body) body[n++] = '\n', body[n] = 0;
    else free(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(body ? n : 0, body ? body : (void *)"",
                                        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (body) (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == 405 && r->allow) (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (status == 401)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

enum MHD_Result sngi_reply_error(struct MHD_Connection *c, sngi_req *r, int status, const char *fmt,
                                 ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* json_string refuses invalid UTF-8 (an echoed name, say): fall back to a fixed text. */
    json_t *e = json_string(msg);
    return sngi_reply_json(c, r, status, json_pack("{s:o}", "error", e ? e : json_string("bad request")));
}

/* Multipart fields "a" and "b" of /v1/compare, gathered in pieces under the body limit. */
static enum MHD_Result part_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size) {
    sngi_req *r = cls;
    int k = key && !strcmp(key, "a") ? 0 : key && !strcmp(key, "b") ? 1 : -1;
    if (k < 0 || !size) return MHD_YES; /* other fields are ignored */
    if (r->part_n[0] + r->part_n[1] + size > r->s->o.max_body) {
        r->too_big = 1;
        return MHD_NO;
    }
    char *p = realloc(r->part[k], r->part_n[k] + size);
    if (!p) return MHD_NO;
    memcpy(p + r->part_n[k], data, size);
    r->part[k] = p;
    r->part_n[k] += size;
    return MHD_YES;
}

static int is_v1(const char *url) { return !strncmp(url, "/v1/", 4); }

/* The first call for a request: limits and token before any body is read. */
static enum MHD_Result begin(sngi_server *s, struct MHD_Connection *c, sngi_req *r, const char *url) {
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (s->token && is_v1(url) &&
        !sngi_auth_check(s->token, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                               MHD_HTTP_HEADER_AUTHORIZATION)))
        return sngi_reply_error(c, r, 401, "missing or wrong bearer token");
    if (cl && strtoull(cl, NULL, 10) > s->o.max_body)
        return sngi_reply_error(c, r, 413, "body over the limit of %zu bytes", s->o.max_body);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (r->ep == SNGI_EP_COMPARE && ct && !strncasecmp(ct, "multipart/form-data", 19) &&
        !(r->pp = MHD_create_post_processor(c, 64 * 1024, part_iter, r)))
        return sngi_reply_error(c, r, 400, "malformed multipart/form-data");
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls) {
    sngi_server *s = cls;
    sngi_req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        r->s = s;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        r->ep = sngi_route_endpoint(url, method);
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        *con_cls = r;
        return begin(s, c, r, url);
    }
    if (r->status) { /* answered already (an early 413 or 401): discard what still comes */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t k = *upload_size;
        *upload_size = 0;
        if (r->pp) {
            if (!r->bad_multipart && MHD_post_process(r->pp, upload, k) != MHD_YES) r->bad_multipart = 1;
        } else if (!r->too_big) {
            if (r->n + k > s->o.max_body) {
                r->too_big = 1;
                free(r->body);
                r->body = NULL;
                r->n = r->cap = 0;
            } else {
                if (r->n + k + 1 > r->cap) {
                    size_t cap = r->cap ? r->cap : 4096;
                    while (cap < r->n + k + 1) cap *= 2;
                    char *b = realloc(r->body, cap);
                    if (!b) return MHD_NO;
                    r->body = b, r->cap = cap;
                }
                memcpy(r->body + r->n, upload, k);
                r->n += k;
                r->body[r->n] = 0; /* JSON parsing wants the text terminated */
            }
        }
        return MHD_YES;
    }
    if (r->too_big) return sngi_reply_error(c, r, 413, "body over the limit of %zu bytes", s->o.max_body);
    if (r->bad_multipart) return sngi_reply_error(c, r, 400, "malformed multipart/form-data");
    return sngi_route(s, c, r, url, method);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode why) {
    sngi_server *s = cls;
    sngi_req *r = *con_cls;
    if (!r) return;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - r->t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - r->t0.tv_nsec);
    int status = r->status ? r->status : 499; /* the client went away before an answer */
    sngi_metrics_request(&s->metrics, r->ep, status, sec);
    if (s->o.log) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        char ts[40];
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *path = json_string(r->path); /* NULL for a path that is not UTF-8 */
        json_t *j = json_pack("{s:s,s:s,s:o,s:i,s:f,s:I,s:s}", "ts", ts, "method", r->method,
                              "path", path ? path : json_string("(not UTF-8)"), "status", status,
                              "ms", 1e3 * sec, "bytes_in", (json_int_t)(r->n + r->part_n[0] + r->part_n[1]),
                              "endpoint", sngi_endpoint_name(r->ep));
        char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (line) {
            pthread_mutex_lock(&s->log_mu);
            /* A log that cannot be written must not take requests down: the error stays on the
             * stream for the CLI to see. */
            if (fprintf(s->o.log, "%s\n", line) > 0) (void)fflush(s->o.log);
            pthread_mutex_unlock(&s->log_mu);
            free(line);
        }
    }
    if (r->pp) (void)MHD_destroy_post_processor(r->pp);
    free(r->body);
    free(r->part[0]);
    free(r->part[1]);
    free(r);
    *con_cls = NULL;
}

/* Responses go out as soon as they are written: with Nagle's algorithm a body written after its
 * headers can wait for the client's delayed ACK (40 ms on Linux). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    if (code != MHD_CONNECTION_NOTIFY_STARTED) return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int one = 1;
    if (ci) (void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sng_status sngi_http_start(sng_ctx *ctx, sngi_server *s) {
    const char *l = s->o.listen;
    const char *colon = strrchr(l, ':');
    if (!colon || !colon[1])
        return sngi_fail(ctx, SNG_ERR_USAGE, "--listen '%s': expected HOST:PORT", l);
    char host[256];
    size_t hl = (size_t)(colon - l);
    if (hl >= sizeof host) return sngi_fail(ctx, SNG_ERR_USAGE, "--listen '%s': host too long", l);
    memcpy(host, l, hl);
    host[hl] = 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') memmove(host, host + 1, hl - 2), host[hl - 2] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV}, *ai;
    int e = getaddrinfo(host, colon + 1, &hints, &ai);
    if (e) return sngi_fail(ctx, SNG_ERR_USAGE, "--listen '%s': %s", l, gai_strerror(e));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->o.max_conns,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.idle_timeout_s,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->d) return sngi_fail(ctx, SNG_ERR_IO, "cannot listen on %s (in use, or not an address "
                                                 "of this machine)", l);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    return SNG_OK;
}
