/*
 * batcher.c — the model's worker thread (see batcher.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "serve/batcher.h"

void sngi_job_free(sngi_job *job) {
    if (!job) return;
    for (int i = 0; i < job->n_match; i++) free(job->matches[i].name);
    free(job->matches);
    free(job->emb);
    free(job->img[0]);
    free(job->img[1]);
    free(job);
}

static void deadline(struct timespec *t, int ms) {
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) t->tv_sec++, t->tv_nsec -= 1000000000L;
}

static void fail_job(sngi_job *j, int http, const char *msg) {
    if (j->http) return;
    j->http = http;
    snprintf(j->err, sizeof j->err, "%s", msg);
}

/* Top-K of the gallery by score, names copied (the gallery may change after the lock). */
static void rank(sngi_batcher *b, sngi_job *j, const sngi_gallery *g) {
    int k = j->top < g->n ? j->top : g->n;
    j->gallery_size = g->n;
    if (k <= 0) return;
    int *order = malloc(sizeof(int) * (size_t)g->n);
    j->matches = calloc((size_t)k, sizeof *j->matches);
    if (!order || !j->matches) {
        free(order);
        fail_job(j, 500, "out of memory");
        return;
    }
    for (int i = 0; i < g->n; i++) order[i] = i;
    for (int i = 0; i < k; i++) /* partial selection sort: K is small */
        for (int t = i + 1; t < g->n; t++)
            if (b->scores[order[t]] > b->scores[order[i]]) {
                int x = order[i];
                order[i] = order[t];
                order[t] = x;
            }
    for (int i = 0; i < k; i++) {
        j->matches[i].score = b->scores[order[i]];
        if (!(j->matches[i].name = strdup(g->names[order[i]]))) {
            fail_job(j, 500, "out of memory");
            break;
        }
        j->n_match = i + 1;
    }
    free(order);
}

static void identify(sngi_batcher *b, sngi_job *j) {
    sngi_model *m = b->m;
    pthread_mutex_lock(&b->store->mu);
    const sngi_gallery *g = b->store->gal;
    if (g->n > b->scores_cap) {
        float *ns = realloc(b->scores, sizeof(float) * (size_t)g->n);
        if (ns) b->scores = ns, b->scores_cap = g->n;
    }
    if (g->n > b->scores_cap) fail_job(j, 500, "out of memory");
    else if (g->n && sngi_model_score(m, g->emb, j->emb, 1, g->n, b->scores))
        fail_job(j, 500, sng_ctx_errmsg(m->ctx));
    else rank(b, j, g);
    pthread_mutex_unlock(&b->store->mu);
}

/* One batch: decode every image, one branch pass, then the heads. */
static void process(sngi_batcher *b, sngi_job *jobs) {
    sngi_model *m = b->m;
    size_t in = (size_t)m->img_numel, en = (size_t)m->emb_numel;
    int n = 0, pairs = 0;
    for (sngi_job *j = jobs; j; j = j->next) {
        if (!(j->emb = malloc(sizeof(float) * en * (size_t)j->n_img))) fail_job(j, 500, "out of memory");
        for (int i = 0; i < j->n_img && !j->http; i++) {
            char label[32];
            snprintf(label, sizeof label, j->n_img > 1 ? "image %c" : "image", 'a' + i);
            if (sngi_model_decode(m, label, j->img[i], j->len[i], 0, b->pix + (size_t)(n + i) * in))
                fail_job(j, 400, sng_ctx_errmsg(m->ctx));
        }
        if (!j->http) n += j->n_img;
    }
    sngi_metrics_batch(b->metrics, n);
    if (n && sngi_model_embed(m, b->pix, n, b->emb))
        for (sngi_job *j = jobs; j; j = j->next) fail_job(j, 500, sng_ctx_errmsg(m->ctx));
    int at = 0;
    for (sngi_job *j = jobs; j; j = j->next) {
        if (j->http) continue;
        memcpy(j->emb, b->emb + (size_t)at * en, sizeof(float) * en * (size_t)j->n_img);
        at += j->n_img;
        if (j->kind == SNGI_JOB_COMPARE) {
            memcpy(b->ea + (size_t)pairs * en, j->emb, sizeof(float) * en);
            memcpy(b->eb + (size_t)pairs * en, j->emb + en, sizeof(float) * en);
            pairs++;
        }
    }
    /* Every compare of the batch in one head pass. */
    float sc[256];
    int bad = pairs && sngi_model_score(m, b->ea, b->eb, 0, pairs, sc);
    pairs = 0;
    for (sngi_job *j = jobs; j; j = j->next) {
        if (j->http) continue;
        if (j->kind == SNGI_JOB_COMPARE) {
            if (bad) fail_job(j, 500, sng_ctx_errmsg(m->ctx));
            else j->score = sc[pairs++];
        } else if (j->kind == SNGI_JOB_IDENTIFY) {
            identify(b, j);
        }
    }
}

static void *worker(void *arg) {
    sngi_batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stop) pthread_cond_wait(&b->work, &b->mu);
        if (!b->head) break; /* stopping with nothing queued */
        /* Wait for a full batch or the oldest job's deadline; a job arriving at an idle server
         * waits at most max_wait_ms. */
        struct timespec t;
        deadline(&t, b->max_wait_ms);
        while (b->queued_images < b->max_batch && !b->stop &&
               pthread_cond_timedwait(&b->work, &b->mu, &t) != ETIMEDOUT) {
        }
        sngi_job *take = NULL, **tail = &take;
        int imgs = 0;
        while (b->head && imgs + b->head->n_img <= b->max_batch) {
            sngi_job *j = b->head;
            b->head = j->next;
            j->next = NULL;
            *tail = j, tail = &j->next;
            imgs += j->n_img;
            b->depth--;
        }
        if (!b->head) b->tail = NULL;
        b->queued_images -= imgs;
        sngi_metrics_gauges(b->metrics, b->depth, -1);
        pthread_mutex_unlock(&b->mu);
        process(b, take);
        pthread_mutex_lock(&b->mu);
        for (sngi_job *j = take, *nx; j; j = nx) {
            nx = j->next;
            j->next = NULL;
            if (j->abandoned) sngi_job_free(j);
            else j->done = 1;
        }
        pthread_cond_broadcast(&b->done);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

int sngi_batcher_start(sngi_batcher *b, sngi_model *m, sngi_store *store, sngi_metrics *metrics,
                       int max_batch, int max_wait_ms) {
    memset(b, 0, sizeof *b);
    if (max_batch < 2 || m->batch != max_batch) return -1; /* a compare is two images */
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->work, NULL);
    pthread_cond_init(&b->done, NULL);
    b->m = m, b->store = store, b->metrics = metrics;
    b->max_batch = max_batch > 256 ? 256 : max_batch; /* compares of a batch fit sc[256] */
    b->max_wait_ms = max_wait_ms;
    size_t in = (size_t)m->img_numel, en = (size_t)m->emb_numel, mb = (size_t)b->max_batch;
    b->pix = malloc(sizeof(float) * in * mb);
    b->emb = malloc(sizeof(float) * en * mb);
    b->ea = malloc(sizeof(float) * en * mb);
    b->eb = malloc(sizeof(float) * en * mb);
    if (!b->pix || !b->emb || !b->ea || !b->eb || pthread_create(&b->thread, NULL, worker, b)) {
        free(b->pix), free(b->emb), free(b->ea), free(b->eb);
        b->pix = b->emb = b->ea = b->eb = NULL;
        return -1;
    }
    b->started = 1;
    return 0;
}

int sngi_batcher_run(sngi_batcher *b, sngi_job *job, int timeout_ms) {
    pthread_mutex_lock(&b->mu);
    if (b->stop) {
        pthread_mutex_unlock(&b->mu);
        fail_job(job, 503, "shutting down");
        return 0;
    }
    if (b->tail) b->tail->next = job;
    else b->head = job;
    b->tail = job;
    b->queued_images += job->n_img;
    b->depth++;
    sngi_metrics_gauges(b->metrics, b->depth, -1);
    pthread_cond_signal(&b->work);
    struct timespec t;
    deadline(&t, timeout_ms);
    int r = 0;
    while (!job->done && r != ETIMEDOUT) r = pthread_cond_timedwait(&b->done, &b->mu, &t);
    int ok = job->done;
    if (!ok) {
        /* Still queued: unlink it and keep it; being processed: the worker frees it. */
        sngi_job **p = &b->head, *prev = NULL;
        while (*p && *p != job) prev = *p, p = &(*p)->next;
        if (*p) {
            *p = job->next;
            if (b->tail == job) b->tail = prev;
            b->queued_images -= job->n_img;
            b->depth--;
            ok = 1;
            fail_job(job, 503, "timed out waiting for the model");
        } else {
            job->abandoned = 1;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return ok ? 0 : -1;
}

void sngi_batcher_stop(sngi_batcher *b) {
    if (!b->started) return;
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    free(b->pix), free(b->emb), free(b->ea), free(b->eb), free(b->scores);
    pthread_cond_destroy(&b->work);
    pthread_cond_destroy(&b->done);
    pthread_mutex_destroy(&b->mu);
    b->started = 0;
}
