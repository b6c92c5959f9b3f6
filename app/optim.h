/*
 * optim.h — optimisers and learning-rate schedules over the session's parameter slab.
 */
#ifndef SNG_OPTIM_H
#define SNG_OPTIM_H

#include "engine/state.h"

typedef enum { SNGI_OPT_SGD = 0, SNGI_OPT_ADAM, SNGI_OPT_ADAMW } sngi_opt_kind;
typedef enum { SNGI_LR_CONSTANT = 0, SNGI_LR_STEP, SNGI_LR_COSINE } sngi_lr_kind;

typedef struct sngi_optim {
    sngi_opt_kind kind;
    double lr;            /* base learning rate */
    double momentum;      /* SGD */
    int nesterov;         /* SGD */
    double beta1, beta2, eps; /* Adam/AdamW */
    double weight_decay;  /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
    sngi_lr_kind schedule;
    int64_t warmup;       /* linear warm-up steps (all schedules) */
    int64_t step_every;   /* LR_STEP: multiply by gamma every step_every steps */
    double gamma;
    int64_t total_steps;  /* LR_COSINE: decays to min_lr at total_steps */
    double min_lr;
    double clip_norm;     /* 0: no clipping of the global gradient norm */
} sngi_optim;

/* Reads train.optimizer, train.lr, train.momentum, train.nesterov, train.beta1, train.beta2,
 * train.eps, train.weight_decay, train.schedule, train.warmup, train.step_every, train.gamma,
 * train.min_lr, train.clip_norm from the model's settings (defaults: SGD momentum 0.9, lr 0.01,
 * constant). total_steps is set by the caller. */
sng_status sngi_optim_config(sng_ctx *ctx, sng_graph *g, sngi_optim *o);
/* Optimiser state floats per trainable parameter (for sng_session_opts.opt_slots). */
int sngi_optim_slots(const sngi_optim *o);
/* The learning rate at step (0-based). */
double sngi_optim_lr(const sngi_optim *o, int64_t step);
/* Applies one update at `step` from the gradients in the slab. Returns the gradient norm. */
double sngi_optim_step(const sngi_optim *o, sng_session *s, int64_t step);

#endif
