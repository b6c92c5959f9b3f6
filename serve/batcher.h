/*
 * batcher.h — dynamic batching. One worker thread owns the model (sessions are not thread-safe):
 * it gathers queued jobs until --max-batch images are waiting or the oldest has waited
 * --max-wait-ms, decodes them with the training preprocessing (sngi_model_decode), embeds them
 * all in one branch pass, then scores: compare pairs in one head pass, identify against the
 * whole in-memory gallery with the batched head.
 */
#ifndef SNGI_BATCHER_H
#define SNGI_BATCHER_H

#include <pthread.h>

#include "app/infer.h"
#include "serve/metrics.h"
#include "serve/store.h"

enum { SNGI_JOB_EMBED, SNGI_JOB_COMPARE, SNGI_JOB_IDENTIFY };

typedef struct sngi_match {
    char *name;  /* owned by the job */
    float score;
} sngi_match;

typedef struct sngi_job {
    int kind, n_img, top;
    uint8_t *img[2];        /* owned: the encoded images (free) */
    size_t len[2];
    /* results, valid once done */
    int done, abandoned;
    int http;               /* 0, or the 4xx/5xx status of a failure */
    char err[512];
    float *emb;             /* n_img * emb_numel, owned */
    float score;            /* compare */
    sngi_match *matches;    /* identify, n_match of them, owned */
    int n_match, gallery_size;
    struct sngi_job *next;
} sngi_job;

typedef struct sngi_batcher {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    sngi_job *head, *tail;
    int queued_images, depth, stop;
    int max_batch, max_wait_ms;
    sngi_model *m;          /* borrowed; used only by the worker once started */
    sngi_store *store;      /* borrowed */
    sngi_metrics *metrics;  /* borrowed */
    float *pix, *emb, *ea, *eb, *scores; /* worker buffers, owned */
    int scores_cap;
    pthread_t thread;
    int started;
} sngi_batcher;

/* Starts the worker. m->batch must equal max_batch. Returns 0, or -1 (OOM, thread). */
int sngi_batcher_start(sngi_batcher *b, sngi_model *m, sngi_store *store, sngi_metrics *metrics,
                       int max_batch, int max_wait_ms);
/* Runs a job: queues it and waits up to timeout_ms. Returns 0 when done (job->http tells
 * success or failure), -1 on timeout or shutdown: the job then belongs to the worker, which
 * frees it, and the caller must not touch it again. */
int sngi_batcher_run(sngi_batcher *b, sngi_job *job, int timeout_ms);
/* Frees a finished job's results and the job (allocated with calloc by the caller). */
void sngi_job_free(sngi_job *job);
/* Finishes the queued jobs, then stops and joins the worker and frees the buffers. */
void sngi_batcher_stop(sngi_batcher *b);

#endif
