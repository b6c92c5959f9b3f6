/*
 * gradcheck.c — whole-model finite-difference check (`sngraph gradcheck`). For every parameter
 * tensor (and graph input on request) it compares the analytic directional derivative g·d with
 * the central difference (L(w+εd) − L(w−εd)) / 2ε along a random ±1 direction d restricted to a
 * sample of the tensor's elements. A direction sums many elements, so the check stays far above
 * float32 round-off even for deep layers whose single-element gradients are tiny.
 *
 * Kinks: through 13 ReLU and 5 max-pool layers a step of any useful size flips thousands of
 * ReLU signs and max-pool choices, and the difference quotient then measures an average slope
 * (seen: 2-96% off on the VGG16 model at any eps). Unless `raw`, the differences are taken with
 * every such decision frozen as it was at the checked point (op.h, sngi_kink): that function
 * equals the model there and has the derivative the backward pass must compute, which derives
 * its own masks, so a wrong mask or a wrong kernel still shows.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"

static double objective(sng_session *s) {
    double loss = 0;
    sng_session_forward(s, &loss);
    return loss;
}

/* One tensor: returns the relative error and fills analytic/numeric. */
static double check_dir(sng_session *s, float *x, const float *g, int64_t n, int samples,
                        double eps, double floor, sngi_rng *rng, double *ana, double *num) {
    int64_t k = samples > 0 && samples < n ? samples : n;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)k);
    float *d = malloc(sizeof(float) * (size_t)k), *save = malloc(sizeof(float) * (size_t)k);
    if (!idx || !d || !save) {
        free(idx), free(d), free(save);
        return INFINITY;
    }
    for (int64_t i = 0; i < k; i++) {
        idx[i] = k == n ? i : (int64_t)(sngi_rng_next(rng) % (uint64_t)n);
        d[i] = sngi_rng_uniform(rng) < 0.5f ? -1.0f : 1.0f;
    }
    /* Sampled with replacement: keep each element once (a duplicate would step it twice, or
     * undo its step when restored). */
    if (k != n) {
        int64_t u = 0;
        for (int64_t i = 0; i < k; i++) {
            int dup = 0;
            for (int64_t j = 0; j < u && !dup; j++) dup = idx[j] == idx[i];
            if (!dup) idx[u] = idx[i], d[u] = d[i], u++;
        }
        k = u;
    }
    double a = 0;
    for (int64_t i = 0; i < k; i++) a += (double)g[idx[i]] * d[i];
    for (int64_t i = 0; i < k; i++) save[i] = x[idx[i]];
    for (int64_t i = 0; i < k; i++) x[idx[i]] = save[i] + (float)eps * d[i];
    double fp = objective(s);
    for (int64_t i = 0; i < k; i++) x[idx[i]] = save[i] - (float)eps * d[i];
    double fm = objective(s);
    for (int64_t i = 0; i < k; i++) x[idx[i]] = save[i];
    double nm = (fp - fm) / (2 * eps);
    *ana = a;
    *num = nm;
    free(idx), free(d), free(save);
    return fabs(a - nm) / fmax(fmax(fabs(a), fabs(nm)), floor);
}

sng_status sngi_gradcheck(sng_ctx *ctx, const sng_graph *g, const sngi_gradcheck_opts *o,
                          FILE *out, int *n_bad) {
    *n_bad = 0;
    if (g->n_losses == 0)
        return sngi_fail(ctx, SNG_ERR_MODEL, "%s: gradcheck needs a model with a loss", g->file);
    sng_session_opts so;
    sng_session_opts_init(&so);
    so.batch = o->batch;
    so.seed = o->seed;
    so.threads = o->threads;
    so.grad_inputs = o->inputs;
    so.no_branch_batching = o->no_branch_batching;
    sng_session *s;
    sng_status st = sng_session_new(ctx, g, &so, &s);
    if (st) return st;
    sngi_rng rng;
    sngi_rng_seed(&rng, o->seed * 7919 + 1);
    for (int i = 0; i < g->n_inputs; i++) {
        const sngi_node *n = &g->nodes[g->inputs[i]];
        int64_t cnt;
        float *x = sng_session_value(s, n->name, &cnt);
        int label = sngi_shape_numel(&n->shape) == 1;
        for (int64_t k = 0; k < cnt; k++)
            x[k] = label ? (float)(k % 2) : sngi_rng_uniform(&rng);
    }
    double loss;
    if ((!o->raw && (st = sngi_session_kinks(s, SNGI_KINK_RECORD))) ||
        (st = sng_session_forward(s, &loss)) || (st = sng_session_backward(s)) ||
        (!o->raw && (st = sngi_session_kinks(s, SNGI_KINK_REPLAY)))) {
        sng_session_free(s);
        return st;
    }
    if (o->json)
        fprintf(out, "{\"model\":\"%s\",\"batch\":%d,\"loss\":%.9g,\"tolerance\":%g,"
                     "\"eps\":%g,\"kinks_frozen\":%s,\"tensors\":[",
                g->name, o->batch, loss, o->tol, o->eps, o->raw ? "false" : "true");
    else
        fprintf(out, "gradcheck %s: batch %d, loss %.6g, eps %g, tolerance %g (relative error of "
                     "the directional derivative over %d sampled elements; %s)\n"
                     "%-48s %14s %14s %10s\n",
                g->name, o->batch, loss, o->eps, o->tol, o->samples,
                o->raw ? "raw differences" : "ReLU/max-pool/|.| decisions frozen", "tensor", "analytic",
                "numeric", "rel.err");
    double worst = 0;
    int first = 1;
    int n_items = g->n_params + (o->inputs ? g->n_inputs : 0);
    /* Input gradients live in the arena and the finite-difference forwards reuse that memory:
     * copy every analytic gradient out before the first of them. */
    float **saved = calloc((size_t)n_items + 1, sizeof(float *));
    if (!saved) {
        sng_session_free(s);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    for (int it = 0; it < n_items; it++) {
        int64_t n = 0;
        const float *gr = it < g->n_params
                              ? sng_session_param_grad(s, g->params[it].name, &n)
                              : sng_session_grad(s, g->nodes[g->inputs[it - g->n_params]].name, &n);
        if (gr && (saved[it] = malloc(sizeof(float) * (size_t)n)))
            memcpy(saved[it], gr, sizeof(float) * (size_t)n);
    }
    for (int it = 0; it < n_items && !st; it++) {
        const char *name;
        float *x, *gr;
        int64_t n;
        if (it < g->n_params) {
            const sngi_param *p = &g->params[it];
            if (!p->trainable) continue;
            name = p->name;
            x = sng_session_param(s, name, &n);
            gr = sng_session_param_grad(s, name, NULL);
        } else {
            const sngi_node *nd = &g->nodes[g->inputs[it - g->n_params]];
            if (sngi_shape_numel(&nd->shape) == 1) continue; /* labels */
            name = nd->name;
            x = sng_session_value(s, name, &n);
            gr = sng_session_grad(s, name, NULL);
        }
        if (!gr) continue;
        float *gc = saved[it];
        if (!gc) {
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
            break;
        }
        /* Round-off floor: the forward runs in float32, so the loss carries a few ulps of
         * rounding (seen: up to ~4 on the VGG16 model) and a difference quotient cannot resolve
         * a derivative below about ulps * |L| / eps. A derivative is allowed an absolute error
         * of 32 ulps of the loss over the step: `floor` makes err <= tol mean
         * |a - n| <= max(tol * max(|a|, |n|), 32 ulp |L| / eps). */
        double floor = fmax(32 * FLT_EPSILON * fmax(fabs(loss), 1e-3) / o->eps / o->tol, 1e-7);
        double a = 0, nm = 0,
               err = check_dir(s, x, gc, n, o->samples, o->eps, floor, &rng, &a, &nm);
        int bad = !(err <= o->tol);
        *n_bad += bad;
        if (err > worst || isnan(err)) worst = err;
        if (o->json) {
            fprintf(out, "%s{\"name\":", first ? "" : ",");
            sngi_json_str(out, name);
            fprintf(out, ",\"analytic\":%.9g,\"numeric\":%.9g,\"rel_err\":%.6g,\"ok\":%s}", a, nm,
                    err, bad ? "false" : "true");
        } else {
            fprintf(out, "%-48s %14.6g %14.6g %10.2e%s\n", name, a, nm, err, bad ? "  FAIL" : "");
        }
        first = 0;
    }
    for (int it = 0; it < n_items; it++) free(saved[it]);
    free(saved);
    if (o->json)
        fprintf(out, "],\"worst\":%.6g,\"failed\":%d}\n", worst, *n_bad);
    else
        fprintf(out, "worst relative error %.3e: %s\n", worst, *n_bad ? "FAILED" : "ok");
    sng_session_free(s);
    return st;
}
