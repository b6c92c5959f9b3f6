/*
 * prefetch.c — a producer thread that fills the next batches while the engine computes on the
 * current one. Batch k always lands in slot k % depth; the producer may run at most `depth`
 * batches ahead of the consumer. Because a batch is a pure function of (seed, step), the thread
 * changes only when a batch is made, never what it holds; sngi_loader_seek just moves the step
 * (a batch being filled for the old position is thrown away, recognised by a generation count).
 *
 * The time the consumer spends blocked is summed (sngi_loader_wait_seconds) so that a training
 * log can show whether data ever held the engine up.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loaders/loader_int.h"

enum { SLOT_FREE = -1, SLOT_FILLING = -2 };

struct sngi_loader {
    const sngi_sampler *s;   /* borrowed */
    int batch, depth, nb;
    uint64_t seed;
    int64_t len[3];
    float *mem;             /* depth slots of (len[0] + len[1] + len[2]) floats, owned */
    float **buf;            /* buf[slot * nb + i] */
    int64_t *state;         /* per slot: SLOT_FREE, SLOT_FILLING, or the step it holds */
    int borrowed;           /* slot handed out by sngi_loader_borrow, -1 none */
    int64_t next_fill, next_take;
    unsigned gen;
    int stop;
    double wait_s, fill_s;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* any change of state; few waiters, so one condition is enough */
    pthread_t th;
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *producer(void *arg) {
    sngi_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        int slot = (int)(l->next_fill % l->depth);
        while (!l->stop && (l->state[slot] != SLOT_FREE || l->next_fill >= l->next_take + l->depth)) {
            pthread_cond_wait(&l->cv, &l->mu);
            slot = (int)(l->next_fill % l->depth);
        }
        if (l->stop) break;
        int64_t step = l->next_fill;
        unsigned gen = l->gen;
        l->state[slot] = SLOT_FILLING;
        pthread_mutex_unlock(&l->mu);
        double t0 = now_s();
        sngi_sampler_fill(l->s, l->batch, l->seed, step, l->buf + (size_t)slot * l->nb);
        double dt = now_s() - t0;
        pthread_mutex_lock(&l->mu);
        l->fill_s += dt;
        if (gen == l->gen) {
            l->state[slot] = step;
            l->next_fill++;
        } else {
            l->state[slot] = SLOT_FREE; /* made for a position the consumer left */
        }
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

sng_status sngi_loader_new(sng_ctx *ctx, const sngi_sampler *s, int batch, uint64_t seed,
                          int depth, sngi_loader **out) {
    *out = NULL;
    if (batch < 1) return sngi_fail(ctx, SNG_ERR_USAGE, "loader: batch must be >= 1 (got %d)", batch);
    if (depth <= 0) depth = 2;
    sngi_loader *l = sngi_calloc(1, sizeof *l);
    if (!l) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    l->s = s;
    l->batch = batch;
    l->depth = depth;
    l->seed = seed;
    l->nb = sngi_sampler_n_bufs(s);
    l->borrowed = -1;
    int64_t per = 0;
    for (int i = 0; i < l->nb; i++) per += (l->len[i] = sngi_sampler_buf_len(s, batch, i));
    l->mem = sngi_malloc(sizeof(float) * (size_t)(per * depth));
    l->buf = sngi_malloc(sizeof(float *) * (size_t)(depth * l->nb));
    l->state = sngi_malloc(sizeof(int64_t) * (size_t)depth);
    if (!l->mem || !l->buf || !l->state) {
        free(l->mem);
        free(l->buf);
        free(l->state);
        free(l);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "loader: out of memory for %d batches of %lld floats",
                         depth, (long long)per);
    }
    float *p = l->mem;
    for (int k = 0; k < depth; k++) {
        l->state[k] = SLOT_FREE;
        for (int i = 0; i < l->nb; i++) {
            l->buf[k * l->nb + i] = p;
            p += l->len[i];
        }
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->th, NULL, producer, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l->mem);
        free(l->buf);
        free(l->state);
        free(l);
        return sngi_fail(ctx, SNG_ERR_INTERNAL, "loader: cannot start the producer thread");
    }
    *out = l;
    return SNG_OK;
}

/* With the lock held: gives back a borrowed slot, then waits for the next step's slot. */
static int take_locked(sngi_loader *l) {
    if (l->borrowed >= 0) {
        l->state[l->borrowed] = SLOT_FREE;
        l->borrowed = -1;
        pthread_cond_broadcast(&l->cv);
    }
    int slot = (int)(l->next_take % l->depth);
    if (l->state[slot] != l->next_take) {
        double t0 = now_s();
        while (l->state[slot] != l->next_take) pthread_cond_wait(&l->cv, &l->mu);
        l->wait_s += now_s() - t0;
    }
    return slot;
}

void sngi_loader_next(sngi_loader *l, float *const *bufs) {
    pthread_mutex_lock(&l->mu);
    int slot = take_locked(l);
    pthread_mutex_unlock(&l->mu);
    /* The producer never touches a slot holding a step, so the copy needs no lock. */
    if (bufs)
        for (int i = 0; i < l->nb; i++)
            memcpy(bufs[i], l->buf[slot * l->nb + i], sizeof(float) * (size_t)l->len[i]);
    pthread_mutex_lock(&l->mu);
    l->state[slot] = SLOT_FREE;
    l->next_take++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void sngi_loader_borrow(sngi_loader *l, const float *const **out) {
    pthread_mutex_lock(&l->mu);
    int slot = take_locked(l);
    l->borrowed = slot;
    l->next_take++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    *out = (const float *const *)(l->buf + (size_t)slot * l->nb);
}

int64_t sngi_loader_step(const sngi_loader *l) {
    sngi_loader *m = (sngi_loader *)l;
    pthread_mutex_lock(&m->mu);
    int64_t s = m->next_take;
    pthread_mutex_unlock(&m->mu);
    return s;
}

void sngi_loader_seek(sngi_loader *l, int64_t step) {
    pthread_mutex_lock(&l->mu);
    l->gen++;
    for (int k = 0; k < l->depth; k++)
        if (l->state[k] >= 0) l->state[k] = SLOT_FREE; /* also the borrowed one */
    l->borrowed = -1;
    l->next_take = l->next_fill = step;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

double sngi_loader_wait_seconds(const sngi_loader *l) {
    sngi_loader *m = (sngi_loader *)l;
    pthread_mutex_lock(&m->mu);
    double w = m->wait_s;
    pthread_mutex_unlock(&m->mu);
    return w;
}

double sngi_loader_fill_seconds(const sngi_loader *l) {
    sngi_loader *m = (sngi_loader *)l;
    pthread_mutex_lock(&m->mu);
    double w = m->fill_s;
    pthread_mutex_unlock(&m->mu);
    return w;
}

void sngi_loader_free(sngi_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->mem);
    free(l->buf);
    free(l->state);
    free(l);
}
