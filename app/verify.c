/*
 * verify.c — gallery binding and identification (see verify.h).
 */
#include "config.h"

#include "app/verify.h"

sng_status sngi_gallery_bind(sng_ctx *ctx, sngi_gallery *gal, const sngi_model *m,
                             const char *path) {
    if (gal->n == 0 && gal->dim == 0) {
        gal->fingerprint = m->fingerprint;
        gal->dim = (int)m->emb_numel;
    }
    if (gal->fingerprint != m->fingerprint || gal->dim != m->emb_numel)
        return sngi_fail(ctx, SNG_ERR_DATA,
                         "%s was made with another checkpoint (fingerprint %016llx), not %s "
                         "(%016llx): embeddings would not be comparable",
                         path, (unsigned long long)gal->fingerprint, m->ckpt_path,
                         (unsigned long long)m->fingerprint);
    return SNG_OK;
}

sng_status sngi_identify(sngi_model *m, const sngi_gallery *gal, const float *q, int top,
                         float *score, int *order, int *k) {
    *k = 0;
    if (gal->n == 0) return SNG_OK;
    sng_status st = sngi_model_score(m, gal->emb, q, 1, gal->n, score);
    if (st) return st;
    int K = top < gal->n ? top : gal->n;
    for (int i = 0; i < gal->n; i++) order[i] = i;
    /* Partial selection sort: the top K, ties in enrolment order. */
    for (int i = 0; i < K; i++)
        for (int j = i + 1; j < gal->n; j++)
            if (score[order[j]] > score[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    *k = K;
    return SNG_OK;
}
