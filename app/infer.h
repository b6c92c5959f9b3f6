/*
 * infer.h — one-shot inference from a checkpoint: the model as trained, split into the branch
 * (image -> embedding) and the head (two embeddings -> similarity), so a gallery stores
 * embeddings once and identification runs only the head per enrolled identity.
 */
#ifndef SNG_INFER_H
#define SNG_INFER_H

#include "app/preprocess.h"
#include "engine/state.h"

typedef struct sngi_model {
    sng_ctx *ctx;          /* borrowed */
    sng_graph *g;          /* owned: the checkpoint's model.xml */
    int img_a, img_b;      /* image inputs */
    int emb_a, emb_b;      /* the two embeddings the head combines */
    int score;             /* similarity output (one value per pair), or -1: embedding distance */
    int64_t img_numel, emb_numel;
    sngi_shape img_shape;
    sngi_prep prep;        /* how images become inputs: the model's recorded data settings */
    double threshold;      /* calibrated: score >= threshold means "same" */
    double thr_far, thr_frr; /* its error rates where it was calibrated (NaN: not recorded) */
    uint64_t fingerprint;  /* FNV-1a of the parameters: identifies the checkpoint */
    sng_session *branch;   /* batch `batch`: img_a -> emb_a */
    sng_session *head;     /* batch `head_batch`: emb_a, emb_b fed -> score */
    int batch, head_batch;
    char *ckpt_path;
} sngi_model;

/* Loads a checkpoint and builds the branch session at `batch` images and the head session at
 * `head_batch` pairs (0: the same). A pass always runs a whole batch, so size them to the work:
 * identify embeds one image and then scores the whole gallery. *out is owned by the caller
 * (sngi_model_close). */
sng_status sngi_model_open(sng_ctx *ctx, const char *ckpt, int batch, int head_batch, int threads,
                           sngi_model **out);
void sngi_model_close(sngi_model *m);
/* Decodes an encoded image into img_numel floats at dst, preprocessed exactly as the model was
 * trained (app/preprocess.h); `label` names the image in messages. */
sng_status sngi_model_decode(const sngi_model *m, const char *label, const uint8_t *buf, size_t n,
                             int no_resize, float *dst);
/* Embeds n images (n * img_numel floats) into emb (n * emb_numel). */
sng_status sngi_model_embed(sngi_model *m, const float *img, int n, float *emb);
/* Scores n pairs of embeddings: score[i] = similarity(ea[i], eb[i]) (higher = more alike). When
 * eb_shared is nonzero, eb is one embedding compared with every ea[i]. */
sng_status sngi_model_score(sngi_model *m, const float *ea, const float *eb, int eb_shared, int n,
                            float *score);

#endif
