/*
 * infer.c — checkpoint -> branch and head sessions (see infer.h). The embeddings are found
 * structurally: the first node whose inputs include one value computed from image A only and
 * one from image B only (|e1 - e2| in the Siamese models) names the two embeddings.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "app/ckpt_model.h"
#include "app/infer.h"
#include "app/train.h"

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

void sngi_model_close(sngi_model *m) {
    if (!m) return;
    sng_session_free(m->branch);
    sng_session_free(m->head);
    sng_graph_free(m->g);
    free(m->ckpt_path);
    free(m);
}

static sng_status find_embeddings(sng_ctx *ctx, sngi_model *m, const sngi_io *io) {
    const sng_graph *g = m->g;
    int n = g->n_nodes;
    unsigned char *dep = calloc((size_t)n + 1, 1);
    if (!dep) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    m->img_a = io->img[0];
    m->img_b = io->n_img > 1 ? io->img[1] : -1;
    for (int v = 0; v < n; v++) {
        if (v == m->img_a) dep[v] = 1;
        if (v == m->img_b) dep[v] = 2;
        for (int k = 0; k < g->nodes[v].n_in; k++) dep[v] |= dep[g->nodes[v].in[k]];
    }
    m->emb_a = m->emb_b = -1;
    for (int v = 0; v < n && m->emb_a < 0; v++) {
        int a = -1, b = -1;
        for (int k = 0; k < g->nodes[v].n_in; k++) {
            int u = g->nodes[v].in[k];
            if (dep[u] == 1 && a < 0) a = u;
            if (dep[u] == 2 && b < 0) b = u;
        }
        if (a >= 0 && b >= 0 && !g->nodes[v].is_loss) m->emb_a = a, m->emb_b = b;
    }
    if (m->emb_a < 0) { /* an embedding model (triplet): the output itself */
        m->emb_a = io->emb_out;
        m->emb_b = -1;
    }
    free(dep);
    if (m->emb_a < 0)
        return sngi_fail(ctx, SNG_ERR_MODEL, "%s: cannot find the embedding the model compares",
                         g->file);
    return SNG_OK;
}

sng_status sngi_model_open(sng_ctx *ctx, const char *ckpt, int batch, int head_batch, int threads,
                           sngi_model **out) {
    *out = NULL;
    sngi_ckpt *c;
    sng_status st = sngi_ckpt_read(ctx, ckpt, &c);
    if (st) return st;
    sngi_model *m = calloc(1, sizeof *m);
    if (!m) {
        sngi_ckpt_free(c);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    m->ctx = ctx;
    m->batch = batch;
    m->head_batch = head_batch > 0 ? head_batch : batch;
    m->ckpt_path = strdup(ckpt);
    if ((st = sngi_ckpt_graph(ctx, c, ckpt, &m->g))) goto fail;
    sngi_io io;
    if ((st = sngi_io_get(ctx, m->g, &io)) || (st = find_embeddings(ctx, m, &io))) goto fail;
    m->score = m->emb_b >= 0 ? io.score_out : -1;
    m->img_shape = m->g->nodes[m->img_a].shape;
    if ((st = sngi_prep_from_graph(ctx, m->g, m->img_a, &m->prep))) goto fail;
    m->img_numel = sngi_shape_numel(&m->img_shape);
    m->emb_numel = sngi_shape_numel(&m->g->nodes[m->emb_a].shape);
    m->threshold = sngi_ckpt_num(c, "threshold", m->score >= 0 ? 0.5 : -1.0);
    m->thr_far = sngi_ckpt_num(c, "threshold_far", NAN);
    m->thr_frr = sngi_ckpt_num(c, "threshold_frr", NAN);
    sng_session_opts o;
    sng_session_opts_init(&o);
    o.batch = batch;
    o.training = 0;
    o.threads = threads;
    const char *bo[] = {m->g->nodes[m->emb_a].name, NULL};
    o.outputs = bo;
    if ((st = sng_session_new(ctx, m->g, &o, &m->branch))) goto fail;
    if ((st = sngi_ckpt_load_params(ctx, c, ckpt, m->branch, 0))) goto fail;
    if (m->score >= 0) {
        const char *ho[] = {m->g->nodes[m->score].name, NULL};
        const char *hf[] = {m->g->nodes[m->emb_a].name, m->g->nodes[m->emb_b].name, NULL};
        o.outputs = ho;
        o.feeds = hf;
        o.batch = m->head_batch;
        if ((st = sng_session_new(ctx, m->g, &o, &m->head))) goto fail;
        if ((st = sngi_ckpt_load_params(ctx, c, ckpt, m->head, 0))) goto fail;
    }
    /* The fingerprint covers every parameter value: another checkpoint gives another one. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < m->g->n_params; i++)
        h = fnv1a(h, sngi_session_param(m->branch, i),
                  sizeof(float) * (size_t)sngi_shape_numel(&m->g->params[i].shape));
    m->fingerprint = h;
    sngi_ckpt_free(c);
    *out = m;
    return SNG_OK;
fail:
    sngi_ckpt_free(c);
    sngi_model_close(m);
    return st;
}

sng_status sngi_model_decode(const sngi_model *m, const char *label, const uint8_t *buf, size_t n,
                             int no_resize, float *dst) {
    return sngi_prep_decode(m->ctx, &m->prep, label, buf, n, no_resize, dst);
}

sng_status sngi_model_embed(sngi_model *m, const float *img, int n, float *emb) {
    float *x = sngi_node_ptr(m->branch, m->img_a, 0);
    const float *e = sngi_node_ptr(m->branch, m->emb_a, 0);
    for (int off = 0; off < n; off += m->batch) {
        int k = n - off < m->batch ? n - off : m->batch;
        memcpy(x, img + (size_t)off * m->img_numel, sizeof(float) * (size_t)(k * m->img_numel));
        if (k < m->batch)
            memset(x + (size_t)k * m->img_numel, 0,
                   sizeof(float) * (size_t)((m->batch - k) * m->img_numel));
        sng_status st = sng_session_forward(m->branch, NULL);
        if (st) return st;
        memcpy(emb + (size_t)off * m->emb_numel, e, sizeof(float) * (size_t)(k * m->emb_numel));
    }
    return SNG_OK;
}

sng_status sngi_model_score(sngi_model *m, const float *ea, const float *eb, int eb_shared, int n,
                            float *score) {
    int64_t E = m->emb_numel;
    if (m->score < 0) { /* embedding model: negative Euclidean distance */
        for (int i = 0; i < n; i++) {
            const float *b = eb_shared ? eb : eb + (size_t)i * E;
            double d = 0;
            for (int64_t j = 0; j < E; j++) {
                double t = (double)ea[(size_t)i * E + j] - b[j];
                d += t * t;
            }
            score[i] = (float)(0.0 - sqrt(d)); /* 0 - 0 is +0: no "-0" for identical images */
        }
        return SNG_OK;
    }
    float *xa = sngi_node_ptr(m->head, m->emb_a, 0), *xb = sngi_node_ptr(m->head, m->emb_b, 0);
    const float *y = sngi_node_ptr(m->head, m->score, 0);
    for (int off = 0; off < n; off += m->head_batch) {
        int k = n - off < m->head_batch ? n - off : m->head_batch;
        memcpy(xa, ea + (size_t)off * E, sizeof(float) * (size_t)(k * E));
        for (int i = 0; i < k; i++)
            memcpy(xb + (size_t)i * E, eb_shared ? eb : eb + (size_t)(off + i) * E,
                   sizeof(float) * (size_t)E);
        sng_status st = sng_session_forward(m->head, NULL);
        if (st) return st;
        memcpy(score + off, y, sizeof(float) * (size_t)k);
    }
    return SNG_OK;
}
