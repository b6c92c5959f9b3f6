/*
 * ckpt.h — checkpoint archives (see ckpt.c); their .npy entries are read with app/npy.h.
 */
#ifndef SNG_CKPT_H
#define SNG_CKPT_H

#include "app/npy.h"
#include "engine/state.h"

typedef struct sngi_ckpt_meta {
    int64_t step;
    uint64_t seed;
    double threshold;          /* calibrated verification threshold (score >= t: same) */
    const char *optimizer;
    const char *metrics_json;  /* a JSON object, or NULL */
} sngi_ckpt_meta;

/* Writes the session's parameters (+ optimiser state) atomically to path (temp + rename). */
sng_status sngi_ckpt_save(sng_ctx *ctx, sng_session *s, const char *path,
                          const sngi_ckpt_meta *meta);

/* A checkpoint read into memory: entry names and contents. Free with sngi_ckpt_free. */
typedef struct sngi_ckpt {
    char **names;
    void **data;     /* each NUL-terminated past its size */
    size_t *sizes;
    int n;
} sngi_ckpt;
/* Reads the checkpoint at path (ckpt_read.c); *out is the caller's (sngi_ckpt_free). */
sng_status sngi_ckpt_read(sng_ctx *ctx, const char *path, sngi_ckpt **out);
/* The same from an archive in memory; name labels it in messages. */
sng_status sngi_ckpt_read_memory(sng_ctx *ctx, const char *name, const void *data, size_t len,
                                 sngi_ckpt **out);
void sngi_ckpt_free(sngi_ckpt *c);
/* Writes c's entries, in order, as a checkpoint archive atomically to path (ckpt.c); used to
 * rewrite one entry (manifest.json) and keep the others byte for byte. */
sng_status sngi_ckpt_write(sng_ctx *ctx, const sngi_ckpt *c, const char *path);
const void *sngi_ckpt_entry(const sngi_ckpt *c, const char *name, size_t *len);
/* A number from manifest.json by key ("step", "threshold", ...): its first occurrence; def
 * when absent or null. */
double sngi_ckpt_num(const sngi_ckpt *c, const char *key, double def);
/* Copies every parameter (and, with with_optim, the optimiser state) into the session; a
 * parameter that is missing or has another shape is named in the error. */
sng_status sngi_ckpt_load_params(sng_ctx *ctx, const sngi_ckpt *c, const char *path,
                                 sng_session *s, int with_optim);
#endif
