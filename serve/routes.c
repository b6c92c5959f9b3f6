/*
 * routes.c — the endpoints of doc/serve.md: health, metrics, compare, embed, identify and the
 * gallery. Images go to the batcher's worker; enrolments and removals to the durable store.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "serve/base64.h"
#include "serve/imgsize.h"
#include "serve/server_int.h"

#define NAME_MAX_LEN 128

/* Identity names in URLs: 1 to 128 of [A-Za-z0-9._-], not starting with '.'. */
static int valid_name(const char *n) {
    size_t k = strlen(n);
    if (!k || k > NAME_MAX_LEN || n[0] == '.') return 0;
    for (size_t i = 0; i < k; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int sngi_route_endpoint(const char *url, const char *method) {
    static const struct { const char *path; int ep; } fixed[] = {
        {"/healthz", SNGI_EP_HEALTHZ},   {"/readyz", SNGI_EP_READYZ},
        {"/metrics", SNGI_EP_METRICS},   {"/v1/compare", SNGI_EP_COMPARE},
        {"/v1/embed", SNGI_EP_EMBED},    {"/v1/identify", SNGI_EP_IDENTIFY},
        {"/v1/gallery", SNGI_EP_GALLERY_LIST}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(url, fixed[i].path)) return fixed[i].ep;
    if (!strncmp(url, "/v1/gallery/", 12))
        return !strcmp(method, "DELETE") ? SNGI_EP_GALLERY_DELETE : SNGI_EP_GALLERY_ADD;
    return SNGI_EP_OTHER;
}

/* A raw image body: Content-Type image/... or application/octet-stream, within --max-side. */
static int check_image(struct MHD_Connection *c, sngi_req *r, const uint8_t *b, size_t n,
                       const char *what, int check_type, enum MHD_Result *res) {
    sngi_server *s = r->s;
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    long w, h;
    if (check_type && (!ct || (strncasecmp(ct, "image/", 6) && strncasecmp(ct, "application/octet-stream", 24))))
        *res = sngi_reply_error(c, r, 415, "send the image as the body with Content-Type image/png, "
                                           "image/jpeg or image/x-portable-graymap");
    else if (!n) *res = sngi_reply_error(c, r, 400, "%s: empty body", what);
    else if (!sngi_image_size(b, n, &w, &h) && (w > s->o.max_side || h > s->o.max_side))
        *res = sngi_reply_error(c, r, 413, "%s: %ldx%ld is over the limit of %d pixels a side", what,
                                w, h, s->o.max_side);
    else return 0;
    return -1;
}

/* Runs a job on the worker and answers its failure; 0 when it succeeded (caller answers). */
static int run_job(struct MHD_Connection *c, sngi_req *r, sngi_job *j, enum MHD_Result *res) {
    if (sngi_batcher_run(&r->s->batcher, j, r->s->o.request_ms)) {
        *res = sngi_reply_error(c, r, 503, "timed out waiting for the model");
        return -1; /* the worker owns j now */
    }
    if (j->http) {
        *res = sngi_reply_error(c, r, j->http, "%s", j->err);
        sngi_job_free(j);
        return -1;
    }
    return 0;
}

/* A job over the request's raw body, which moves into the job; the caller frees it with
 * sngi_job_free (or the worker does, after a timeout). */
static sngi_job *body_job(sngi_req *r, int kind) {
    sngi_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->kind = kind;
    j->n_img = 1;
    j->img[0] = (uint8_t *)r->body, j->len[0] = r->n;
    r->body = NULL, r->cap = 0; /* r->n stays for the access log */
    return j;
}

static json_t *emb_array(const float *e, int64_t n) {
    json_t *a = json_array();
    for (int64_t i = 0; a && i < n; i++) json_array_append_new(a, json_real(e[i]));
    return a;
}

static enum MHD_Result embed(struct MHD_Connection *c, sngi_req *r) {
    enum MHD_Result res;
    if (check_image(c, r, (uint8_t *)r->body, r->n, "image", 1, &res)) return res;
    sngi_job *j = body_job(r, SNGI_JOB_EMBED);
    if (!j) return sngi_reply_error(c, r, 500, "out of memory");
    if (run_job(c, r, j, &res)) return res;
    int64_t d = r->s->m->emb_numel;
    res = sngi_reply_json(c, r, 200, json_pack("{s:o,s:I}", "embedding", emb_array(j->emb, d),
                                                "dim", (json_int_t)d));
    sngi_job_free(j);
    return res;
}

static enum MHD_Result identify(struct MHD_Connection *c, sngi_req *r) {
    sngi_server *s = r->s;
    enum MHD_Result res;
    if (!s->store) return sngi_reply_error(c, r, 404, "no gallery: start the server with --gallery");
    const char *top = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "top");
    char *end = NULL;
    long k = top ? strtol(top, &end, 10) : 5;
    if (top && (!*top || *end || k < 1 || k > 1000))
        return sngi_reply_error(c, r, 400, "top must be an integer from 1 to 1000");
    if (check_image(c, r, (uint8_t *)r->body, r->n, "image", 1, &res)) return res;
    sngi_job *j = body_job(r, SNGI_JOB_IDENTIFY);
    if (!j) return sngi_reply_error(c, r, 500, "out of memory");
    j->top = (int)k;
    if (run_job(c, r, j, &res)) return res;
    json_t *m = json_array();
    for (int i = 0; m && i < j->n_match; i++)
        json_array_append_new(m, json_pack("{s:s,s:f,s:b}", "name", j->matches[i].name, "score",
                                           (double)j->matches[i].score, "match",
                                           j->matches[i].score >= s->m->threshold));
    res = sngi_reply_json(c, r, 200, json_pack("{s:o,s:f,s:i}", "matches", m, "threshold",
                                               s->m->threshold, "gallery_size", j->gallery_size));
    sngi_job_free(j);
    return res;
}

static enum MHD_Result compare(struct MHD_Connection *c, sngi_req *r) {
    enum MHD_Result res;
    sngi_job *j = calloc(1, sizeof *j);
    if (!j) return sngi_reply_error(c, r, 500, "out of memory");
    j->kind = SNGI_JOB_COMPARE;
    j->n_img = 2;
    if (r->pp) { /* multipart: the fields are the images' bytes */
        for (int i = 0; i < 2; i++) {
            j->img[i] = (uint8_t *)r->part[i], j->len[i] = r->part_n[i];
            r->part[i] = NULL;
        }
    } else {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!ct || strncasecmp(ct, "application/json", 16)) {
            sngi_job_free(j);
            return sngi_reply_error(c, r, 415, "send JSON {\"a\": base64, \"b\": base64} or "
                                               "multipart/form-data fields a and b");
        }
        json_error_t je;
        json_t *doc = r->body ? json_loadb(r->body, r->n, 0, &je) : NULL;
        if (!doc) {
            sngi_job_free(j);
            return sngi_reply_error(c, r, 400, "bad JSON: %s", r->body ? je.text : "empty body");
        }
        for (int i = 0; i < 2; i++) {
            json_t *v = json_object_get(doc, i ? "b" : "a");
            if (!json_is_string(v) || sngi_base64_decode(json_string_value(v), json_string_length(v),
                                                         &j->img[i], &j->len[i])) {
                json_decref(doc);
                sngi_job_free(j);
                return sngi_reply_error(c, r, 400, "\"%s\" must be a base64 string of an image",
                                        i ? "b" : "a");
            }
        }
        json_decref(doc);
    }
    for (int i = 0; i < 2; i++)
        if (!j->img[i] || check_image(c, r, j->img[i], j->len[i], i ? "image b" : "image a", 0, &res)) {
            if (!j->img[i]) res = sngi_reply_error(c, r, 400, "image %c is missing", 'a' + i);
            sngi_job_free(j);
            return res;
        }
    if (run_job(c, r, j, &res)) return res;
    double th = r->s->m->threshold;
    res = sngi_reply_json(c, r, 200, json_pack("{s:f,s:b,s:f}", "score", (double)j->score, "same",
                                               j->score >= th, "threshold", th));
    sngi_job_free(j);
    return res;
}

static enum MHD_Result gallery_list(struct MHD_Connection *c, sngi_req *r) {
    sngi_store *st = r->s->store;
    if (!st) return sngi_reply_error(c, r, 404, "no gallery: start the server with --gallery");
    json_t *a = json_array();
    pthread_mutex_lock(&st->mu);
    for (int i = 0; a && i < st->gal->n; i++) json_array_append_new(a, json_string(st->gal->names[i]));
    pthread_mutex_unlock(&st->mu);
    return sngi_reply_json(c, r, 200, json_pack("{s:o}", "identities", a));
}

static enum MHD_Result gallery_change(struct MHD_Connection *c, sngi_req *r, const char *name,
                                      int add) {
    sngi_server *s = r->s;
    enum MHD_Result res;
    if (!s->store) return sngi_reply_error(c, r, 404, "no gallery: start the server with --gallery");
    if (!valid_name(name))
        return sngi_reply_error(c, r, 400, "identity names are 1 to %d characters of A-Z a-z 0-9 . _ - "
                                           "not starting with '.'", NAME_MAX_LEN);
    char why[512];
    if (!add) {
        int k = sngi_store_remove(s->store, name, why, sizeof why);
        sngi_metrics_gauges(&s->metrics, -1, sngi_store_count(s->store));
        if (k == SNGI_STORE_ABSENT) return sngi_reply_error(c, r, 404, "'%s' is not enrolled", name);
        if (k) return sngi_reply_error(c, r, 500, "%s", why);
        return sngi_reply_json(c, r, 204, NULL);
    }
    if (check_image(c, r, (uint8_t *)r->body, r->n, "image", 1, &res)) return res;
    sngi_job *j = body_job(r, SNGI_JOB_EMBED);
    if (!j) return sngi_reply_error(c, r, 500, "out of memory");
    if (run_job(c, r, j, &res)) return res;
    int k = sngi_store_add(s->store, name, j->emb, why, sizeof why);
    sngi_job_free(j);
    int n = sngi_store_count(s->store);
    sngi_metrics_gauges(&s->metrics, -1, n);
    if (k == SNGI_STORE_EXISTS)
        return sngi_reply_error(c, r, 409, "'%s' is already enrolled (DELETE it first)", name);
    if (k) return sngi_reply_error(c, r, 500, "%s", why);
    return sngi_reply_json(c, r, 201, json_pack("{s:s,s:i}", "enrolled", name, "identities", n));
}

static enum MHD_Result metrics(struct MHD_Connection *c, sngi_req *r) {
    char *text = NULL;
    size_t n = 0;
    if (r->s->store) sngi_metrics_gauges(&r->s->metrics, -1, sngi_store_count(r->s->store));
    if (sngi_metrics_render(&r->s->metrics, &text, &n)) {
        free(text);
        return sngi_reply_error(c, r, 500, "out of memory");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4");
    r->status = 200;
    enum MHD_Result ok = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

enum MHD_Result sngi_route(sngi_server *s, struct MHD_Connection *c, sngi_req *r, const char *url,
                           const char *method) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    switch (r->ep) {
    case SNGI_EP_HEALTHZ:
        if (!get) break;
        return sngi_reply_json(c, r, 200, json_pack("{s:s}", "status", "ok"));
    case SNGI_EP_READYZ:
        if (!get) break;
        if (s->draining) return sngi_reply_error(c, r, 503, "shutting down");
        return sngi_reply_json(c, r, 200, json_pack("{s:s,s:i}", "status", "ready", "identities",
                                                    s->store ? sngi_store_count(s->store) : 0));
    case SNGI_EP_METRICS:
        if (!get) break;
        return metrics(c, r);
    case SNGI_EP_COMPARE:
        if (!post) break;
        return compare(c, r);
    case SNGI_EP_EMBED:
        if (!post) break;
        return embed(c, r);
    case SNGI_EP_IDENTIFY:
        if (!post) break;
        return identify(c, r);
    case SNGI_EP_GALLERY_LIST:
        if (!get) break;
        return gallery_list(c, r);
    case SNGI_EP_GALLERY_ADD:
    case SNGI_EP_GALLERY_DELETE:
        if (!post && strcmp(method, "DELETE")) {
            r->allow = "POST, DELETE";
            return sngi_reply_error(c, r, 405, "use POST or DELETE on %s", "/v1/gallery/NAME");
        }
        return gallery_change(c, r, url + 12, post);
    default:
        return sngi_reply_error(c, r, 404, "no such endpoint (see doc/serve.md)");
    }
    r->allow = r->ep == SNGI_EP_HEALTHZ || r->ep == SNGI_EP_READYZ || r->ep == SNGI_EP_METRICS ||
                       r->ep == SNGI_EP_GALLERY_LIST ? "GET, HEAD" : "POST";
    return sngi_reply_error(c, r, 405, "method %s not allowed here (use %s)", method, r->allow);
}
