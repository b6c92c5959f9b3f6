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
#include "app/settings.h"
#include "ops/op.h" /* SNG_PAR_MIN: the same threshold for going parallel as the ops */

sng_status sngi_optim_config(sng_ctx *ctx, sng_graph *g, sngi_optim *o) {
    memset(o, 0, sizeof *o);
    sng_status st;
    int kind, sch;
    long v;
    if ((st = sngi_setting_choice(ctx, g, "train.optimizer", &kind))) return st;
    static const int kinds[] = {SNGI_OPT_SGD, SNGI_OPT_ADAM, SNGI_OPT_ADAMW};
    o->kind = kinds[kind];
    if ((st = sngi_setting_double_or(ctx, g, "train.lr", o->kind == SNGI_OPT_SGD ? 0.01 : 1e-3,
                                     &o->lr)) ||
        (st = sngi_setting_double(ctx, g, "train.momentum", &o->momentum)) ||
        (st = sngi_setting_int(ctx, g, "train.nesterov", &v)))
        return st;
    o->nesterov = (int)v;
    if ((st = sngi_setting_double(ctx, g, "train.beta1", &o->beta1)) ||
        (st = sngi_setting_double(ctx, g, "train.beta2", &o->beta2)) ||
        (st = sngi_setting_double(ctx, g, "train.eps", &o->eps)) ||
        (st = sngi_setting_double_or(ctx, g, "train.weight_decay",
                                     o->kind == SNGI_OPT_ADAMW ? 0.01 : 0, &o->weight_decay)) ||
        (st = sngi_setting_choice(ctx, g, "train.schedule", &sch)))
        return st;
    static const int schedules[] = {SNGI_LR_CONSTANT, SNGI_LR_STEP, SNGI_LR_COSINE};
    o->schedule = schedules[sch];
    if ((st = sngi_setting_int(ctx, g, "train.warmup", &v))) return st;
    o->warmup = v;
    if ((st = sngi_setting_int(ctx, g, "train.step_every", &v))) return st;
    o->step_every = v;
    if ((st = sngi_setting_double(ctx, g, "train.gamma", &o->gamma)) ||
        (st = sngi_setting_double(ctx, g, "train.min_lr", &o->min_lr)) ||
        (st = sngi_setting_double(ctx, g, "train.clip_norm", &o->clip_norm)))
        return st;
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
    const sng_graph *g = sngi_session_graph(s);
    double lr = sngi_optim_lr(o, step);
    /* Global gradient norm (deterministic: fixed order, double accumulation). */
    double sq = 0;
    for (int i = 0; i < g->n_params; i++) {
        if (!sngi_session_param_grad(s, i)) continue;
        int64_t n = sngi_shape_numel(&g->params[i].shape);
        const float *gr = sngi_session_param_grad(s, i);
        for (int64_t k = 0; k < n; k++) sq += (double)gr[k] * gr[k];
    }
    double norm = sqrt(sq);
    float clip = o->clip_norm > 0 && norm > o->clip_norm ? (float)(o->clip_norm / norm) : 1.0f;
    int slots = sngi_optim_slots(o);
    size_t n_state;
    float *state = sngi_session_opt_state(s, &n_state);
    double b1t = 1 - pow(o->beta1, (double)(step + 1)), b2t = 1 - pow(o->beta2, (double)(step + 1));
    for (int i = 0; i < g->n_params; i++) {
        if (!sngi_session_param_grad(s, i)) continue;
        int64_t n = sngi_shape_numel(&g->params[i].shape);
        int64_t padded = (n + 15) / 16 * 16;
        float *w = sngi_session_param(s, i);
        const float *gr = sngi_session_param_grad(s, i);
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
