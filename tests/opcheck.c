/*
 * opcheck.c — runs small models on the real executor in unplanned mode and checks gradients
 * with central finite differences (see opcheck.h).
 */
#include "opcheck.h"

#include <stdlib.h>
#include <string.h>

#include "engine/session.h"
#include "harness.h"

struct sngt_run {
    sng_ctx *ctx;
    sng_graph *g;
    sng_session *s;
};

sngt_run *sngt_run_new_mode(const char *xml, int batch, uint64_t seed, int training) {
    sngt_run *r = calloc(1, sizeof *r);
    r->ctx = sng_ctx_new();
    sng_status st = sng_graph_load_string(r->ctx, xml, strlen(xml), "(test)", NULL, &r->g);
    if (st) {
        fprintf(stderr, "\n  model does not compile: %s\n", sng_ctx_errmsg(r->ctx));
        CU_FAIL("model does not compile");
        sng_ctx_free(r->ctx);
        free(r);
        return NULL;
    }
    sng_session_opts o;
    sng_session_opts_init(&o);
    o.batch = batch;
    o.training = training;
    o.seed = seed;
    o.unplanned = 1;
    o.grad_inputs = training;
    o.threads = 2;
    if ((st = sng_session_new(r->ctx, r->g, &o, &r->s))) {
        fprintf(stderr, "\n  session: %s\n", sng_ctx_errmsg(r->ctx));
        CU_FAIL("session creation failed");
        sng_graph_free(r->g);
        sng_ctx_free(r->ctx);
        free(r);
        return NULL;
    }
    sngi_rng rng;
    sngi_rng_seed(&rng, seed ^ 0x5eed);
    for (int i = 0; i < r->g->n_inputs; i++) {
        int64_t n;
        float *x = sng_session_value(r->s, r->g->nodes[r->g->inputs[i]].name, &n);
        for (int64_t k = 0; k < n; k++) x[k] = 2.0f * sngi_rng_uniform(&rng) - 1.0f;
    }
    return r;
}

sngt_run *sngt_run_new(const char *xml, int batch, uint64_t seed) {
    return sngt_run_new_mode(xml, batch, seed, 1);
}

float *sngt_run_buf(sngt_run *r, const char *node) { return sng_session_value(r->s, node, NULL); }
float *sngt_run_grad(sngt_run *r, const char *node) { return sng_session_grad(r->s, node, NULL); }
float *sngt_run_param(sngt_run *r, const char *name) { return sng_session_param(r->s, name, NULL); }
float *sngt_run_param_grad(sngt_run *r, const char *name) {
    return sng_session_param_grad(r->s, name, NULL);
}
int64_t sngt_run_numel(sngt_run *r, const char *node) {
    int64_t n = 0;
    sng_session_value(r->s, node, &n);
    return n;
}

double sngt_run_forward(sngt_run *r) {
    double loss = 0;
    sng_session_forward(r->s, &loss);
    return loss;
}

void sngt_run_backward(sngt_run *r) { sng_session_backward(r->s); }
sng_graph *sngt_run_graph(sngt_run *r) { return r->g; }
sng_session *sngt_run_session(sngt_run *r) { return r->s; }

void sngt_run_free(sngt_run *r) {
    if (!r) return;
    sng_session_free(r->s);
    sng_graph_free(r->g);
    sng_ctx_free(r->ctx);
    free(r);
}

/* ---- gradient check ----------------------------------------------------------------------------- */
static int is_label(const char *labels, const char *name) {
    if (!labels) return 0;
    size_t k = strlen(name);
    for (const char *p = labels; (p = strstr(p, name)); p += k)
        if ((p == labels || p[-1] == ' ') && (p[k] == 0 || p[k] == ' ')) return 1;
    return 0;
}

/* The objective in double: total weighted loss, or sum(r * output) with the fixed weights. */
static double objective(sngt_run *r, float **rw) {
    double loss = sngt_run_forward(r);
    if (r->g->n_losses) return loss;
    double obj = 0;
    for (int i = 0; i < r->g->n_outputs; i++) {
        int64_t n;
        const float *y = sng_session_value(r->s, r->g->nodes[r->g->outputs[i]].name, &n);
        for (int64_t k = 0; k < n; k++) obj += (double)rw[i][k] * y[k];
    }
    return obj;
}

static int check_tensor(sngt_run *r, float **rw, const char *what, float *x, const float *ga,
                        int64_t n, double eps, double rtol, double atol) {
    int fails = 0;
    int64_t stride = n > 64 ? n / 64 : 1;
    double worst = 0;
    int64_t worst_i = -1;
    double worst_a = 0, worst_n = 0;
    for (int64_t i = 0; i < n; i += stride) {
        float save = x[i];
        x[i] = save + (float)eps;
        double fp = objective(r, rw);
        x[i] = save - (float)eps;
        double fm = objective(r, rw);
        x[i] = save;
        /* The actual step in float may differ from 2*eps. */
        double h = (double)(save + (float)eps) - (double)(save - (float)eps);
        double num = (fp - fm) / h, ana = ga ? ga[i] : 0.0;
        double err = fabs(num - ana), tol = atol + rtol * fmax(fabs(num), fabs(ana));
        if (err > tol) fails++;
        double rel = err / (atol + rtol * fmax(fabs(num), fabs(ana)) + 1e-30);
        if (rel > worst) {
            worst = rel;
            worst_i = i;
            worst_a = ana;
            worst_n = num;
        }
    }
    if (fails)
        fprintf(stderr, "\n  gradcheck %s: %d of %lld checked elements off; worst [%lld] analytic %.6g"
                        " numeric %.6g\n",
                what, fails, (long long)((n + stride - 1) / stride), (long long)worst_i, worst_a,
                worst_n);
    return fails;
}

int sngt_gradcheck_ex(const char *xml, int batch, const char *labels, double rtol, double atol,
                      double eps, uint64_t seed) {
    sngt_run *r = sngt_run_new(xml, batch, seed);
    if (!r) return 1;
    sngi_rng rng;
    sngi_rng_seed(&rng, seed + 77);
    for (int i = 0; i < r->g->n_inputs; i++) {
        const char *name = r->g->nodes[r->g->inputs[i]].name;
        if (!is_label(labels, name)) continue;
        int64_t n;
        float *x = sng_session_value(r->s, name, &n);
        for (int64_t k = 0; k < n; k++) x[k] = sngi_rng_uniform(&rng) < 0.5f ? 0.0f : 1.0f;
    }
    float *rw[16] = {0};
    for (int i = 0; i < r->g->n_outputs && i < 16; i++) {
        int64_t n;
        sng_session_value(r->s, r->g->nodes[r->g->outputs[i]].name, &n);
        rw[i] = malloc(sizeof(float) * (size_t)n);
        for (int64_t k = 0; k < n; k++) rw[i][k] = 2.0f * sngi_rng_uniform(&rng) - 1.0f;
    }
    /* Analytic gradients. */
    objective(r, rw);
    if (!r->g->n_losses)
        for (int i = 0; i < r->g->n_outputs; i++) {
            int64_t n;
            float *g = sng_session_grad(r->s, r->g->nodes[r->g->outputs[i]].name, &n);
            if (g) memcpy(g, rw[i], sizeof(float) * (size_t)n);
        }
    sngt_run_backward(r);
    int fails = 0;
    /* Copy analytic gradients out: the FD forwards do not touch them, but be safe. */
    for (int i = 0; i < r->g->n_inputs; i++) {
        const char *name = r->g->nodes[r->g->inputs[i]].name;
        if (is_label(labels, name)) continue;
        int64_t n;
        float *x = sng_session_value(r->s, name, &n);
        float *g = sng_session_grad(r->s, name, NULL);
        float *ga = g ? malloc(sizeof(float) * (size_t)n) : NULL;
        if (ga) memcpy(ga, g, sizeof(float) * (size_t)n);
        char what[300];
        snprintf(what, sizeof what, "input '%s'", name);
        fails += check_tensor(r, rw, what, x, ga, n, eps, rtol, atol);
        free(ga);
    }
    for (int i = 0; i < r->g->n_params; i++) {
        const sngi_param *p = &r->g->params[i];
        if (!p->trainable) continue;
        int64_t n;
        float *x = sng_session_param(r->s, p->name, &n);
        float *g = sng_session_param_grad(r->s, p->name, NULL);
        float *ga = malloc(sizeof(float) * (size_t)n);
        memcpy(ga, g, sizeof(float) * (size_t)n);
        char what[300];
        snprintf(what, sizeof what, "parameter '%s'", p->name);
        fails += check_tensor(r, rw, what, x, ga, n, eps, rtol, atol);
        free(ga);
    }
    for (int i = 0; i < 16; i++) free(rw[i]);
    sngt_run_free(r);
    CU_ASSERT_EQUAL(fails, 0);
    return fails;
}

int sngt_gradcheck(const char *xml, int batch, const char *labels, double rtol, double atol) {
    return sngt_gradcheck_ex(xml, batch, labels, rtol, atol, 1e-2, 42);
}
