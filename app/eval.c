/*
 * eval.c — evaluation behind `sngraph eval` and the validation/test passes of `sngraph run`:
 * how a model's inputs and outputs are used, scoring verification pairs with an inference
 * session, and N-way K-shot episodes.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/train.h"

sng_status sngi_io_get(sng_ctx *ctx, const sng_graph *g, sngi_io *io) {
    memset(io, 0, sizeof *io);
    io->label = io->score_out = io->emb_out = -1;
    for (int i = 0; i < g->n_inputs; i++) {
        const sngi_node *n = &g->nodes[g->inputs[i]];
        if (sngi_shape_numel(&n->shape) == 1 && io->label < 0)
            io->label = g->inputs[i];
        else if (io->n_img < 3)
            io->img[io->n_img++] = g->inputs[i];
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const sngi_node *n = &g->nodes[g->outputs[i]];
        if (sngi_shape_numel(&n->shape) == 1 && io->score_out < 0) io->score_out = g->outputs[i];
        if (sngi_shape_numel(&n->shape) > 1 && io->emb_out < 0) io->emb_out = g->outputs[i];
    }
    /* An embedding is computed from one image input: that one is img[0], the input that
     * evaluation and serving feed, whatever order the model declares its inputs in. */
    if (io->emb_out >= 0 && io->n_img > 1) {
        unsigned char *dep = calloc((size_t)g->n_nodes, 1);
        if (!dep) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        for (int k = 0; k < io->n_img; k++) dep[io->img[k]] = (unsigned char)(1u << k);
        for (int v = 0; v < g->n_nodes; v++) /* nodes are in topological order */
            for (int k = 0; k < g->nodes[v].n_in; k++) dep[v] |= dep[g->nodes[v].in[k]];
        for (int k = 1; k < io->n_img; k++)
            if (dep[io->emb_out] == (1u << k)) {
                int t = io->img[0];
                io->img[0] = io->img[k];
                io->img[k] = t;
            }
        free(dep);
    }
    if (io->n_img < 2 && io->emb_out < 0)
        return sngi_fail(ctx, SNG_ERR_MODEL,
                         "%s: cannot tell how to use the model: it needs two image inputs (pairs) "
                         "or three (triplets), and a score or embedding <output>",
                         g->file);
    if (io->score_out < 0 && io->emb_out < 0)
        return sngi_fail(ctx, SNG_ERR_MODEL, "%s: the model has no <output> to score pairs with",
                         g->file);
    return SNG_OK;
}

sng_status sngi_io_check_feedable(sng_ctx *ctx, const sng_graph *g, const sngi_io *io,
                                  int training) {
    int fed = io->n_img + (io->label >= 0);
    for (int i = 0; i < g->n_inputs && fed < g->n_inputs; i++) {
        int v = g->inputs[i], known = v == io->label;
        for (int k = 0; k < io->n_img; k++) known |= v == io->img[k];
        if (!known)
            return sngi_fail(ctx, SNG_ERR_MODEL,
                             "%s: input '%s' has no role: a model takes two image inputs and a "
                             "label (pairs), or three image inputs (triplets)",
                             g->file, g->nodes[v].name);
    }
    const sngi_node *first = &g->nodes[io->img[0]];
    if (first->shape.nd != 3)
        return sngi_fail(ctx, SNG_ERR_MODEL, "%s: image input '%s' must be (C,H,W)", g->file,
                         first->name);
    for (int k = 1; k < io->n_img; k++) {
        const sngi_node *n = &g->nodes[io->img[k]];
        if (!sngi_shape_eq(&n->shape, &first->shape)) {
            char a[64], b[64];
            return sngi_fail(ctx, SNG_ERR_MODEL,
                             "%s: image inputs '%s' %s and '%s' %s differ in shape: one dataset "
                             "feeds them all",
                             g->file, first->name, sngi_shape_str(&first->shape, a, sizeof a),
                             n->name, sngi_shape_str(&n->shape, b, sizeof b));
        }
    }
    if (training && !((io->n_img == 2 && io->label >= 0) || (io->n_img == 3 && io->label < 0)))
        return sngi_fail(ctx, SNG_ERR_MODEL,
                         "%s: cannot train a model with %d image input%s%s: it needs two image "
                         "inputs and a label (pairs), or three image inputs (triplets)",
                         g->file, io->n_img, io->n_img == 1 ? "" : "s",
                         io->label >= 0 ? " and a label" : "");
    return SNG_OK;
}

/* ---- evaluation ----------------------------------------------------------------------------- */
/* Scores b pairs (a[i], bimg[i]) with the inference session into score[0..b). */
static sng_status score_pairs(sng_ctx *ctx, sng_session *inf, const sngi_io *io, int b,
                              const float *a, const float *bimg, float *score) {
    const sng_graph *g = sngi_session_graph(inf);
    int B = sngi_session_opts(inf)->batch;
    int64_t img = sngi_shape_numel(&g->nodes[io->img[0]].shape);
    sng_status st;
    if (io->score_out >= 0) {
        float *xa = sng_session_value(inf, g->nodes[io->img[0]].name, NULL);
        float *xb = sng_session_value(inf, g->nodes[io->img[1]].name, NULL);
        for (int off = 0; off < b; off += B) {
            int k = b - off < B ? b - off : B;
            memcpy(xa, a + (size_t)off * img, sizeof(float) * (size_t)(k * img));
            memcpy(xb, bimg + (size_t)off * img, sizeof(float) * (size_t)(k * img));
            if (k < B) {
                memset(xa + (size_t)k * img, 0, sizeof(float) * (size_t)((B - k) * img));
                memset(xb + (size_t)k * img, 0, sizeof(float) * (size_t)((B - k) * img));
            }
            if ((st = sng_session_forward(inf, NULL))) return st;
            const float *y = sng_session_value(inf, g->nodes[io->score_out].name, NULL);
            memcpy(score + off, y, sizeof(float) * (size_t)k);
        }
        return SNG_OK;
    }
    /* Embedding model: score = -||emb(a) - emb(b)||. */
    int64_t e = sngi_shape_numel(&g->nodes[io->emb_out].shape);
    float *x = sng_session_value(inf, g->nodes[io->img[0]].name, NULL);
    float *ea = malloc(sizeof(float) * (size_t)(B * e));
    if (!ea) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int off = 0; off < b; off += B) {
        int k = b - off < B ? b - off : B;
        memset(x, 0, sizeof(float) * (size_t)(B * img));
        memcpy(x, a + (size_t)off * img, sizeof(float) * (size_t)(k * img));
        if ((st = sng_session_forward(inf, NULL))) break;
        memcpy(ea, sng_session_value(inf, g->nodes[io->emb_out].name, NULL),
               sizeof(float) * (size_t)(B * e));
        memset(x, 0, sizeof(float) * (size_t)(B * img));
        memcpy(x, bimg + (size_t)off * img, sizeof(float) * (size_t)(k * img));
        if ((st = sng_session_forward(inf, NULL))) break;
        const float *eb = sng_session_value(inf, g->nodes[io->emb_out].name, NULL);
        for (int i = 0; i < k; i++) {
            double d = 0;
            for (int64_t j = 0; j < e; j++) {
                double t = (double)ea[i * e + j] - eb[i * e + j];
                d += t * t;
            }
            score[off + i] = (float)-sqrt(d);
        }
    }
    free(ea);
    return st;
}

sng_status sngi_evaluate(sng_ctx *ctx, sng_session *inf, const sngi_feed *feed, int split,
                         int64_t max_pairs, int episodes, int way, int shot, double thr,
                         sngi_eval_result *res, float *scores, float *labels) {
    sngi_io io;
    sng_status st = sngi_io_get(ctx, sngi_session_graph(inf), &io);
    if (st) return st;
    memset(res, 0, sizeof *res);
    res->oneshot_acc = -1;
    res->cal_far = res->cal_frr = NAN;
    int64_t n = feed->n_pairs[split] < max_pairs ? feed->n_pairs[split] : max_pairs;
    int64_t img = sngi_shape_numel(&sngi_session_graph(inf)->nodes[io.img[0]].shape);
    const int chunk = 64;
    float *a = malloc(sizeof(float) * (size_t)(chunk * img));
    float *b = malloc(sizeof(float) * (size_t)(chunk * img));
    float *sc = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    float *lb = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!a || !b || !sc || !lb) {
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        goto out;
    }
    int64_t got_total = 0;
    for (int64_t i = 0; i < n && !st; i += chunk) {
        int want = n - i < chunk ? (int)(n - i) : chunk, got = 0;
        if ((st = feed->pairs(feed->user, split, i, want, a, b, lb + got_total, &got))) break;
        if (got <= 0) break;
        st = score_pairs(ctx, inf, &io, got, a, b, sc + got_total);
        got_total += got;
    }
    if (st) goto out;
    res->n_pairs = got_total;
    sngi_verif_metrics(sc, lb, (size_t)got_total, &res->verif);
    res->acc_at_thr = sngi_verif_accuracy(sc, lb, (size_t)got_total, thr);
    if (scores) memcpy(scores, sc, sizeof(float) * (size_t)got_total);
    if (labels) memcpy(labels, lb, sizeof(float) * (size_t)got_total);
    /* Too few classes for `way`: said by oneshot_acc = -1 before anything is allocated. */
    if (episodes > 0 && feed->classes && feed->classes(feed->user, split, shot + 1) < way)
        episodes = 0;
    res->way = way;
    res->shot = shot;
    if (episodes > 0 && feed->episode) {
        /* Several episodes share one forward: as many as fit the session's batch. */
        int ws = way * shot, per = sngi_session_opts(inf)->batch / ws > 0 ? sngi_session_opts(inf)->batch / ws : 1;
        int cap_e = per * ws;
        float *qa = malloc(sizeof(float) * (size_t)cap_e * (size_t)img);
        float *sa = malloc(sizeof(float) * (size_t)cap_e * (size_t)img);
        float *ea = malloc(sizeof(float) * (size_t)cap_e);
        int *ans = malloc(sizeof(int) * (size_t)per);
        if (!qa || !sa || !ea || !ans) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        int correct = 0, done = 0, stop = 0;
        for (int e0 = 0; e0 < episodes && !st && !stop; e0 += per) {
            int m = 0;
            for (; m < per && e0 + m < episodes; m++) {
                float *q1 = qa + (size_t)m * ws * img, *s1 = sa + (size_t)m * ws * img;
                st = feed->episode(feed->user, split, e0 + m, way, shot, q1, s1, &ans[m]);
                if (st == SNG_ERR_DATA) { /* not enough classes in this split: report, no fail */
                    st = SNG_OK;
                    stop = 1;
                    break;
                }
                if (st) break;
                for (int k = 1; k < ws; k++)
                    memcpy(q1 + (size_t)k * img, q1, sizeof(float) * (size_t)img);
            }
            if (st || m == 0) break;
            if ((st = score_pairs(ctx, inf, &io, m * ws, qa, sa, ea))) break;
            for (int j = 0; j < m; j++) {
                int best = 0;
                double best_s = -INFINITY;
                for (int c = 0; c < way; c++) {
                    double sum = 0;
                    for (int k = 0; k < shot; k++) sum += ea[j * ws + c * shot + k];
                    if (sum > best_s) best_s = sum, best = c;
                }
                correct += best == ans[j];
                done++;
            }
        }
        free(qa);
        free(sa);
        free(ea);
        free(ans);
        res->episodes = done;
        res->way = way;
        res->shot = shot;
        res->oneshot_acc = done ? (double)correct / done : -1;
    }
out:
    free(a);
    free(b);
    free(sc);
    free(lb);
    return st;
}
