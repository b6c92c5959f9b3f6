/*
 * optim.c — SGD (momentum, Nesterov), Adam and AdamW with weight decay, learning-rate schedules
 * (constant, step, cosine with linear warm-up) and global gradient-norm clipping. State lives in
 * the session's slab right after the gradients, in parameter order, so a checkpoint saves it as
 * one array per parameter.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "app/optim.h"

sng_status sngi_optim_config(sng_ctx *ctx, sng_graph *g, sngi_optim *o) {
    memset(o, 0, sizeof *o);
    sng_status st;
    const char *kind = sngi_cfg_get(g, "train.optimizer");
    if (!kind || !strcmp(kind, "sgd"))
        o->kind = SNGI_OPT_SGD;
    else if (!strcmp(kind, "adam"))
        o->kind = SNGI_OPT_ADAM;
    else if (!strcmp(kind, "adamw"))
        o->kind = SNGI_OPT_ADAMW;
    else
        return sngi_fail(ctx, SNG_ERR_MODEL, "train.optimizer=\"%s\": expected sgd, adam or adamw",
                         kind);
    long v;
    if ((st = sngi_cfg_double(ctx, g, "train.lr", o->kind == SNGI_OPT_SGD ? 0.01 : 1e-3, 0, 10,
                              &o->lr)))
        return st;
    if ((st = sngi_cfg_double(ctx, g, "train.momentum", 0.9, 0, 0.999999, &o->momentum))) return st;
    if ((st = sngi_cfg_int(ctx, g, "train.nesterov", 0, 0, 1, &v))) return st;
    o->nesterov = (int)v;
    if ((st = sngi_cfg_double(ctx, g, "train.beta1", 0.9, 0, 0.999999, &o->beta1))) return st;
    if ((st = sngi_cfg_double(ctx, g, "train.beta2", 0.999, 0, 0.99999999, &o->beta2))) return st;
    if ((st = sngi_cfg_double(ctx, g, "train.eps", 1e-8, 1e-12, 1, &o->eps))) return st;
    if ((st = sngi_cfg_double(ctx, g, "train.weight_decay", o->kind == SNGI_OPT_ADAMW ? 0.01 : 0, 0,
                              1, &o->weight_decay)))
        return st;
    const char *sch = sngi_cfg_get(g, "train.schedule");
    if (!sch || !strcmp(sch, "constant"))
        o->schedule = SNGI_LR_CONSTANT;
    else if (!strcmp(sch, "step"))
        o->schedule = SNGI_LR_STEP;
    else if (!strcmp(sch, "cosine"))
        o->schedule = SNGI_LR_COSINE;
    else
        return sngi_fail(ctx, SNG_ERR_MODEL,
                         "train.schedule=\"%s\": expected constant, step or cosine", sch);
    if ((st = sngi_cfg_int(ctx, g, "train.warmup", 0, 0, 1L << 40, &v))) return st;
    o->warmup = v;
    if ((st = sngi_cfg_int(ctx, g, "train.step_every", 1000, 1, 1L << 40, &v))) return st;
    o->step_every = v;
    if ((st = sngi_cfg_double(ctx, g, "train.gamma", 0.1, 0, 1, &o->gamma))) return st;
    if ((st = sngi_cfg_double(ctx, g, "train.min_lr", 0, 0, 10, &o->min_lr))) return st;
    if ((st = sngi_cfg_double(ctx, g, "train.clip_norm", 0, 0, 1e9, &o->clip_norm))) return st;
    return SNG_OK;
}

int sngi_optim_slots(const sngi_optim *o) {
    if (o->kind == SNGI_OPT_SGD) return o->momentum > 0 ? 1 : 0;
    return 2;
}

double sngi_optim_lr(const sngi_optim *o, int64_t step) {
    double lr = o->lr;
    if (o->warmup > 0 && step < o->warmup) return lr * (double)(step + 1) / (double)o->warmup;
    switch (o->schedule) {
    case SNGI_LR_CONSTANT: break;
    case SNGI_LR_STEP: lr *= pow(o->gamma, (double)(step / o->step_every)); break;
    case SNGI_LR_COSINE: {
        int64_t span = o->total_steps - o->warmup;
        double t = span > 0 ? (double)(step - o->warmup) / (double)span : 1.0;
        if (t > 1) t = 1;
        lr = o->min_lr + 0.5 * (o->lr - o->min_lr) * (1 + cos(M_PI * t));
        break;
    }
    }
    return lr;
}

double sngi_optim_step(const sngi_optim *o, sng_session *s, int64_t step) {
    const sng_graph *g = s->g;
    double lr = sngi_optim_lr(o, step);
    /* Global gradient norm (deterministic: fixed order, double accumulation). */
    double sq = 0;
    for (int i = 0; i < g->n_params; i++) {
        if (!s->pgrad[i]) continue;
        int64_t n = sngi_shape_numel(&g->params[i].shape);
        const float *gr = s->pgrad[i];
        for (int64_t k = 0; k < n; k++) sq += (double)gr[k] * gr[k];
    }
    double norm = sqrt(sq);
    float clip = o->clip_norm > 0 && norm > o->clip_norm ? (float)(o->clip_norm / norm) : 1.0f;
    int slots = sngi_optim_slots(o);
    float *state = s->opt_state;
    double b1t = 1 - pow(o->beta1, (double)(step + 1)), b2t = 1 - pow(o->beta2, (double)(step + 1));
    for (int i = 0; i < g->n_params; i++) {
        if (!s->pgrad[i]) continue;
        int64_t n = sngi_shape_numel(&g->params[i].shape);
        int64_t padded = (n + 15) / 16 * 16;
        float *w = s->pval[i];
        const float *gr = s->pgrad[i];
        float flr = (float)lr, wd = (float)o->weight_decay;
        if (o->kind == SNGI_OPT_SGD) {
            float mom = (float)o->momentum;
            float *v = slots ? state : NULL;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
            for (int64_t k = 0; k < n; k++) {
                float gk = gr[k] * clip + wd * w[k];
                if (v) {
                    v[k] = mom * v[k] + gk;
                    gk = o->nesterov ? gk + mom * v[k] : v[k];
                }
                w[k] -= flr * gk;
            }
        } else {
            float *m = state, *v = state + padded;
            float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
            float c1 = (float)(1.0 / b1t), c2 = (float)(1.0 / b2t);
            int decoupled = o->kind == SNGI_OPT_ADAMW;
#pragma omp parallel for simd if (n > SNG_PAR_MIN)
            for (int64_t k = 0; k < n; k++) {
                float gk = gr[k] * clip + (decoupled ? 0.0f : wd * w[k]);
                m[k] = b1 * m[k] + (1 - b1) * gk;
                v[k] = b2 * v[k] + (1 - b2) * gk * gk;
                float upd = (m[k] * c1) / (sqrtf(v[k] * c2) + eps);
                if (decoupled) upd += wd * w[k];
                w[k] -= flr * upd;
            }
        }
        state += slots * padded;
    }
    return norm;
}
