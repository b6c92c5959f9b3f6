/*
 * test_exec.c — autodiff, planner and executor: gradients of whole models, planner properties
 * over random lifetimes and random DAG models, planned vs unplanned execution, determinism.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/gradcheck.h"
#include "app/optim.h"
#include "engine/session.h"
#include "harness.h"
#include "opcheck.h"

static void test_exec_dense_gradcheck(void) {
    const char *xml = "<model><input name='a' shape='7'/>"
                      "<dense name='d1' in='a' units='5' activation='sigmoid'/>"
                      "<dense name='d2' in='d1' units='3' activation='tanh'/>"
                      "<output name='d2'/></model>";
    CU_ASSERT_EQUAL(sngt_gradcheck(xml, 3, NULL, 1e-2, 1e-4), 0);
}

static void test_exec_fanout_gradcheck(void) {
    /* d1 feeds two consumers: its gradient is the sum of both uses. */
    const char *xml = "<model><input name='a' shape='6'/>"
                      "<dense name='d1' in='a' units='4' activation='tanh'/>"
                      "<dense name='d2' in='d1' units='2'/>"
                      "<dense name='d3' in='d1' units='2'/>"
                      "<output name='d2'/><output name='d3'/></model>";
    CU_ASSERT_EQUAL(sngt_gradcheck(xml, 2, NULL, 1e-2, 1e-4), 0);
}

/* Tied instances accumulate into one gradient: equal to the sum of the gradients an untied copy
 * with the same values gets in each instance. */
static const char *tied_xml(const char *pa, const char *pb) {
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "<model><input name='a' shape='5'/><input name='b' shape='5'/>"
             "<subgraph name='enc'><input name='x'/>"
             "<dense name='h' in='x' units='4' activation='tanh'/>"
             "<dense name='e' in='h' units='3'/><output name='e'/></subgraph>"
             "<instance name='l' of='enc' in='a' params='%s'/>"
             "<instance name='r' of='enc' in='b' params='%s'/>"
             "<dense name='head' in='l' units='2'/><dense name='head2' in='r' units='2'/>"
             "<output name='head'/><output name='head2'/></model>",
             pa, pb);
    return buf;
}

static void test_exec_tied_gradient_is_sum(void) {
    sngt_run *t = sngt_run_new(tied_xml("br", "br"), 3, 7);
    sngt_run *u = sngt_run_new(tied_xml("pl", "pr"), 3, 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    const char *names[] = {"h/W", "h/b", "e/W", "e/b"};
    for (int i = 0; i < 4; i++) {
        char tn[64], ln[64], rn[64];
        snprintf(tn, sizeof tn, "br/%s", names[i]);
        snprintf(ln, sizeof ln, "pl/%s", names[i]);
        snprintf(rn, sizeof rn, "pr/%s", names[i]);
        float *w = sngt_run_param(t, tn), *wl = sngt_run_param(u, ln), *wr = sngt_run_param(u, rn);
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        CU_ASSERT_PTR_NOT_NULL_FATAL(wl);
        int n = i % 2 ? (i < 2 ? 4 : 3) : (i < 2 ? 20 : 12);
        memcpy(wl, w, sizeof(float) * n);
        memcpy(wr, w, sizeof(float) * n);
    }
    /* Same inputs and heads. */
    memcpy(sngt_run_buf(u, "a"), sngt_run_buf(t, "a"), sizeof(float) * 15);
    memcpy(sngt_run_buf(u, "b"), sngt_run_buf(t, "b"), sizeof(float) * 15);
    const char *heads[] = {"head/W", "head/b", "head2/W", "head2/b"};
    int hn[] = {6, 2, 6, 2};
    for (int i = 0; i < 4; i++)
        memcpy(sngt_run_param(u, heads[i]), sngt_run_param(t, heads[i]), sizeof(float) * hn[i]);
    sngt_run_forward(t);
    sngt_run_forward(u);
    for (int k = 0; k < 6; k++) {
        sngt_run_grad(t, "head")[k] = sngt_run_grad(u, "head")[k] = 0.1f * (k + 1);
        sngt_run_grad(t, "head2")[k] = sngt_run_grad(u, "head2")[k] = -0.2f * (k - 2);
    }
    sngt_run_backward(t);
    sngt_run_backward(u);
    for (int i = 0; i < 4; i++) {
        char tn[64], ln[64], rn[64];
        snprintf(tn, sizeof tn, "br/%s", names[i]);
        snprintf(ln, sizeof ln, "pl/%s", names[i]);
        snprintf(rn, sizeof rn, "pr/%s", names[i]);
        const float *g = sngt_run_param_grad(t, tn), *gl = sngt_run_param_grad(u, ln),
                    *gr = sngt_run_param_grad(u, rn);
        int n = i % 2 ? (i < 2 ? 4 : 3) : (i < 2 ? 20 : 12);
        for (int k = 0; k < n; k++) SNGT_ASSERT_CLOSE(g[k], gl[k] + gr[k], 1e-5, 1e-7);
    }
    sngt_run_free(t);
    sngt_run_free(u);
}

/* ---- planner properties ----------------------------------------------------------------------- */
static void test_plan_random_lifetimes_never_overlap(void) {
    sngi_rng rng;
    sngi_rng_seed(&rng, 123);
    for (int trial = 0; trial < 300; trial++) {
        int n = 1 + (int)(sngi_rng_next(&rng) % 60);
        sngi_buf b[64];
        memset(b, 0, sizeof b);
        for (int i = 0; i < n; i++) {
            b[i].nbytes = 64 * (1 + sngi_rng_next(&rng) % 100);
            b[i].first = (int)(sngi_rng_next(&rng) % 40);
            b[i].last = b[i].first + (int)(sngi_rng_next(&rng) % 10);
        }
        size_t total = sngi_plan_offsets(b, n);
        size_t peak = 0;
        for (int t = 0; t < 50; t++) {
            size_t live = 0;
            for (int i = 0; i < n; i++)
                if (b[i].first <= t && t <= b[i].last) live += b[i].nbytes;
            if (live > peak) peak = live;
        }
        CU_ASSERT(total >= peak);
        for (int i = 0; i < n; i++) {
            CU_ASSERT(b[i].offset % 64 == 0);
            CU_ASSERT(b[i].offset + b[i].nbytes <= total);
            for (int j = 0; j < i; j++) {
                int live_both = !(b[i].last < b[j].first || b[j].last < b[i].first);
                int mem_both = !(b[i].offset + b[i].nbytes <= b[j].offset ||
                                 b[j].offset + b[j].nbytes <= b[i].offset);
                CU_ASSERT(!(live_both && mem_both));
            }
        }
    }
}

/* A random DAG model of dense/relu nodes with fan-out; every sink is an output. */
static char *random_dag(sngi_rng *rng, int n) {
    size_t cap = 65536, k = 0;
    char *x = malloc(cap);
    int units[64], used[64] = {0};
    k += (size_t)snprintf(x + k, cap - k, "<model><input name='n0' shape='%d'/>",
                          units[0] = 3 + (int)(sngi_rng_next(rng) % 6));
    for (int i = 1; i < n; i++) {
        int src = (int)(sngi_rng_next(rng) % (uint64_t)i);
        used[src] = 1;
        if (sngi_rng_next(rng) % 3 == 0) {
            units[i] = units[src];
            k += (size_t)snprintf(x + k, cap - k, "<relu name='n%d' in='n%d'/>", i, src);
        } else {
            units[i] = 2 + (int)(sngi_rng_next(rng) % 9);
            k += (size_t)snprintf(x + k, cap - k,
                                  "<dense name='n%d' in='n%d' units='%d' activation='%s'/>", i,
                                  src, units[i], sngi_rng_next(rng) % 2 ? "tanh" : "none");
        }
    }
    for (int i = 1; i < n; i++)
        if (!used[i]) k += (size_t)snprintf(x + k, cap - k, "<output name='n%d'/>", i);
    snprintf(x + k, cap - k, "</model>");
    return x;
}

static sng_session *mk(sng_ctx *ctx, sng_graph *g, int planned, int batch, int threads) {
    sng_session_opts o;
    sng_session_opts_init(&o);
    o.batch = batch;
    o.unplanned = !planned;
    o.seed = 5;
    o.threads = threads;
    sng_session *s = NULL;
    CU_ASSERT_EQUAL(sng_session_new(ctx, g, &o, &s), SNG_OK);
    return s;
}

/* Planned parallel and unplanned serial execution agree bit for bit on random DAGs (forward and
 * backward): a planner that let a live buffer be overwritten, or two concurrent steps share
 * memory, would change some value. */
static void test_plan_random_dags_planned_equals_unplanned(void) {
    sngi_rng rng;
    sngi_rng_seed(&rng, 99);
    for (int trial = 0; trial < 200; trial++) {
        char *xml = random_dag(&rng, 3 + (int)(sngi_rng_next(&rng) % 20));
        sng_ctx *ctx = sng_ctx_new();
        sng_graph *g = NULL;
        CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "dag", NULL, &g), SNG_OK);
        /* Planned and parallel (waves of independent steps on 2 threads) vs unplanned serial. */
        sng_session *a = mk(ctx, g, 1, 3, 2), *b = mk(ctx, g, 0, 3, 1);
        int64_t n;
        float *xa = sng_session_value(a, "n0", &n), *xb = sng_session_value(b, "n0", NULL);
        for (int64_t i = 0; i < n; i++) xa[i] = xb[i] = sngi_rng_uniform(&rng) - 0.5f;
        sng_session_forward(a, NULL);
        sng_session_forward(b, NULL);
        for (int i = 0; i < g->n_outputs; i++) {
            const char *on = g->nodes[g->outputs[i]].name;
            int64_t m;
            float *ya = sng_session_value(a, on, &m), *yb = sng_session_value(b, on, NULL);
            CU_ASSERT(memcmp(ya, yb, sizeof(float) * (size_t)m) == 0);
            float *ga = sng_session_grad(a, on, NULL), *gb = sng_session_grad(b, on, NULL);
            CU_ASSERT((ga == NULL) == (gb == NULL));
            for (int64_t k = 0; ga && gb && k < m; k++) ga[k] = gb[k] = (float)((k % 5) - 2);
        }
        sng_session_backward(a);
        sng_session_backward(b);
        for (int i = 0; i < g->n_params; i++) {
            int64_t m;
            float *ga = sng_session_param_grad(a, g->params[i].name, &m);
            float *gb = sng_session_param_grad(b, g->params[i].name, NULL);
            CU_ASSERT(memcmp(ga, gb, sizeof(float) * (size_t)m) == 0);
        }
        sng_plan_stats pa, pb;
        sng_session_plan_stats(a, &pa);
        sng_session_plan_stats(b, &pb);
        CU_ASSERT(pa.arena_bytes <= pb.arena_bytes);
        CU_ASSERT(pa.arena_bytes >= pa.lower_bound);
        sng_session_free(a);
        sng_session_free(b);
        sng_graph_free(g);
        sng_ctx_free(ctx);
        free(xml);
    }
}

static void test_exec_budget_refuses_with_fitting_batch(void) {
    const char *xml = "<model><input name='a' shape='100'/><dense name='d' in='a' units='100'/>"
                      "<output name='d'/></model>";
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "b", NULL, &g), SNG_OK);
    sng_session_opts o;
    sng_session_opts_init(&o);
    o.batch = 64;
    o.max_memory = 120000;
    sng_session *s = NULL;
    CU_ASSERT_EQUAL(sng_session_new(ctx, g, &o, &s), SNG_ERR_BUDGET);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "largest batch that fits"));
    o.max_memory = 1 << 30;
    CU_ASSERT_EQUAL(sng_session_new(ctx, g, &o, &s), SNG_OK);
    sng_session_free(s);
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

/* Tied instances run as one batch of 2N give the unbatched results within 1e-5 (relative). */
static void test_exec_branch_batching_matches_unbatched(void) {
    const char *xml = tied_xml("br", "br");
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "t", NULL, &g), SNG_OK);
    sng_session *s[2];
    for (int m = 0; m < 2; m++) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.batch = 4;
        o.seed = 3;
        o.no_branch_batching = m;
        CU_ASSERT_EQUAL_FATAL(sng_session_new(ctx, g, &o, &s[m]), SNG_OK);
        for (int i = 0; i < 20; i++) {
            sng_session_value(s[m], "a", NULL)[i] = 0.05f * i - 0.4f;
            sng_session_value(s[m], "b", NULL)[i] = 0.3f - 0.03f * i;
        }
    }
    CU_ASSERT(s[0]->n_merged >= 2); /* h and e of l and r */
    CU_ASSERT_EQUAL(s[1]->n_merged, 0);
    /* a and b are stored back to back */
    CU_ASSERT_PTR_EQUAL(sng_session_value(s[0], "b", NULL), sng_session_value(s[0], "a", NULL) + 20);
    /* Intermediate values ("l", "r") are only valid right after forward (planned memory). */
    const char *outs[] = {"head", "head2", "l", "r"};
    float saved[2][4][8];
    for (int m = 0; m < 2; m++) {
        sng_session_forward(s[m], NULL);
        for (int i = 0; i < 4; i++) memcpy(saved[m][i], sng_session_value(s[m], outs[i], NULL), 32);
        for (int k = 0; k < 8; k++) {
            sng_session_grad(s[m], "head", NULL)[k] = 0.1f * k;
            sng_session_grad(s[m], "head2", NULL)[k] = 0.2f - 0.05f * k;
        }
        sng_session_backward(s[m]);
    }
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++) SNGT_ASSERT_CLOSE(saved[0][i][k], saved[1][i][k], 1e-5, 1e-7);
    for (int p = 0; p < g->n_params; p++) {
        int64_t n;
        const float *ga = sng_session_param_grad(s[0], g->params[p].name, &n);
        const float *gb = sng_session_param_grad(s[1], g->params[p].name, NULL);
        for (int64_t k = 0; k < n; k++) SNGT_ASSERT_CLOSE(ga[k], gb[k], 1e-5, 1e-6);
    }
    sng_session_free(s[0]);
    sng_session_free(s[1]);
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

/* Part of a graph: the head alone, fed with embeddings computed by the full model, gives the
 * full model's outputs (what the gallery's cached embeddings rely on). */
static void test_exec_feeds_and_outputs(void) {
    const char *xml = tied_xml("br", "br");
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "t", NULL, &g), SNG_OK);
    sng_session_opts o;
    sng_session_opts_init(&o);
    o.batch = 3;
    o.training = 0;
    sng_session *full, *emb, *head;
    CU_ASSERT_EQUAL_FATAL(sng_session_new(ctx, g, &o, &full), SNG_OK);
    const char *eo[] = {"l", NULL};
    o.outputs = eo;
    CU_ASSERT_EQUAL_FATAL(sng_session_new(ctx, g, &o, &emb), SNG_OK);
    const char *ho[] = {"head2", NULL}, *hf[] = {"r", NULL};
    o.outputs = ho;
    o.feeds = hf;
    CU_ASSERT_EQUAL_FATAL(sng_session_new(ctx, g, &o, &head), SNG_OK);
    CU_ASSERT_PTR_NULL(sng_session_value(emb, "head", NULL)); /* not part of that session */
    for (int i = 0; i < 15; i++) {
        sng_session_value(full, "a", NULL)[i] = sng_session_value(emb, "a", NULL)[i] = 0.1f * i;
        sng_session_value(full, "b", NULL)[i] = 0.5f - 0.07f * i;
    }
    sng_session_forward(full, NULL);
    sng_session_forward(emb, NULL);
    for (int k = 0; k < 9; k++)
        SNGT_ASSERT_CLOSE(sng_session_value(emb, "l", NULL)[k], sng_session_value(full, "l", NULL)[k],
                          1e-6, 1e-7);
    /* Embeddings of b computed by the embedding session, fed into the head session. */
    for (int i = 0; i < 15; i++) sng_session_value(emb, "a", NULL)[i] = 0.5f - 0.07f * i;
    sng_session_forward(emb, NULL);
    memcpy(sng_session_value(head, "r", NULL), sng_session_value(emb, "l", NULL), 9 * sizeof(float));
    sng_session_forward(head, NULL);
    for (int k = 0; k < 6; k++)
        SNGT_ASSERT_CLOSE(sng_session_value(head, "head2", NULL)[k],
                          sng_session_value(full, "head2", NULL)[k], 1e-5, 1e-7);
    sng_session_free(full);
    sng_session_free(emb);
    sng_session_free(head);
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

/* A merged unit (h of both branches) whose members feed unmerged steps (batchnorm couples a
 * batch, so left/bn and right/bn run apart): the unit's backward must wait for both consumers,
 * and the two batchnorms, which share running statistics, must not run at once. Planned and
 * parallel vs unplanned and serial, input gradients and running statistics. */
static void test_exec_unit_consumers_and_shared_state(void) {
    const char *xml =
        "<model><subgraph name='bb'><input name='x'/>"
        "<dense name='h' in='x' units='6'/><batchnorm name='bn' in='h'/>"
        "<tanh name='act' in='bn'/><dense name='e' in='act' units='5'/><output name='e'/></subgraph>"
        "<input name='img_a' shape='7'/><input name='img_b' shape='7'/><input name='same' shape='1'/>"
        "<instance name='left' of='bb' in='img_a' params='branch'/>"
        "<instance name='right' of='bb' in='img_b' params='branch'/>"
        "<contrastive name='lc' in='left right same'/></model>";
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "t", NULL, &g), SNG_OK);
    float ga[2][28], rm[2][6];
    for (int m = 0; m < 2; m++) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.batch = 4;
        o.grad_inputs = 1;
        o.unplanned = m;
        o.threads = m ? 1 : 2;
        sng_session *s;
        CU_ASSERT_EQUAL_FATAL(sng_session_new(ctx, g, &o, &s), SNG_OK);
        if (!m) CU_ASSERT(s->n_merged >= 1);
        float *a = sng_session_value(s, "img_a", NULL), *b = sng_session_value(s, "img_b", NULL);
        float *y = sng_session_value(s, "same", NULL);
        for (int i = 0; i < 28; i++) a[i] = 0.1f * (i % 9) - 0.5f, b[i] = 0.3f - 0.05f * (i % 7);
        for (int i = 0; i < 4; i++) y[i] = (float)(i % 2);
        CU_ASSERT_EQUAL(sng_session_forward(s, NULL), SNG_OK);
        CU_ASSERT_EQUAL(sng_session_backward(s), SNG_OK);
        memcpy(ga[m], sng_session_grad(s, "img_a", NULL), sizeof ga[m]);
        memcpy(rm[m], sng_session_param(s, "branch/bn/running_mean", NULL), sizeof rm[m]);
        sng_session_free(s);
    }
    for (int i = 0; i < 28; i++) SNGT_ASSERT_CLOSE(ga[0][i], ga[1][i], 1e-5, 1e-7);
    for (int i = 0; i < 6; i++) SNGT_ASSERT_CLOSE(rm[0][i], rm[1][i], 1e-6, 1e-7);
    CU_ASSERT(fabsf(ga[0][0]) + fabsf(ga[0][18]) > 0);
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

/* Every kinked op at once: conv+ReLU, max-pool, leaky ReLU, |a-b|, dense+ReLU, relu, triplet. */
static const char kinked_xml[] =
    "<model><input name='a' shape='2,8,8'/><input name='p' shape='2,8,8'/>"
    "<input name='q' shape='2,8,8'/>"
    "<subgraph name='enc'><input name='x'/>"
    "<conv2d name='c1' in='x' filters='4' kernel='3' pad='same' activation='relu'/>"
    "<maxpool2d name='mp' in='c1' kernel='2' stride='2'/>"
    "<leaky_relu name='lr' in='mp' alpha='0.1'/>"
    "<flatten name='f' in='lr'/>"
    "<dense name='d' in='f' units='6' activation='relu'/>"
    "<output name='d'/></subgraph>"
    "<instance name='ea' of='enc' in='a' params='e'/>"
    "<instance name='ep' of='enc' in='p' params='e'/>"
    "<instance name='eq' of='enc' in='q' params='e'/>"
    "<absdiff name='ad' in='ea ep'/><relu name='r' in='ad'/>"
    "<dense name='h' in='r' units='1'/>"
    "<triplet name='t' in='ea ep eq' margin='1'/>"
    "<input name='y' shape='1'/><bce_with_logits name='b' in='h y'/>"
    "</model>";

/* Kink freezing (gradcheck): recording and replaying at the recorded point change nothing;
 * replaying after a large step keeps the old decisions, so it differs from the plain forward. */
static void test_exec_kink_freeze_replays_decisions(void) {
    sngt_run *r = sngt_run_new(kinked_xml, 3, 5);
    if (!r) return;
    sng_session *s = sngt_run_session(r);
    double l0 = sngt_run_forward(r);
    CU_ASSERT_EQUAL(sngi_session_kinks(s, SNGI_KINK_RECORD), SNG_OK);
    double l1 = sngt_run_forward(r);
    CU_ASSERT_EQUAL(sngi_session_kinks(s, SNGI_KINK_REPLAY), SNG_OK);
    double l2 = sngt_run_forward(r);
    CU_ASSERT(l0 == l1 && l1 == l2);
    float *a = sngt_run_buf(r, "a");
    int64_t n = sngt_run_numel(r, "a");
    for (int64_t i = 0; i < n; i++) a[i] += (i % 3 == 0) ? 0.8f : -0.8f;
    double replayed = sngt_run_forward(r);
    CU_ASSERT_EQUAL(sngi_session_kinks(s, SNGI_KINK_OFF), SNG_OK);
    double plain = sngt_run_forward(r);
    CU_ASSERT(fabs(replayed - plain) > 1e-4 * fabs(plain));
    sngt_run_free(r);
}

static int run_gradcheck(const char *xml, double eps, double tol, int raw) {
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    int bad = -1;
    if (sng_graph_load_string(ctx, xml, strlen(xml), "(test)", NULL, &g) == SNG_OK) {
        sngi_gradcheck_opts o = {.batch = 3, .seed = 9, .threads = 1, .inputs = 1,
                                 .samples = 0, .eps = eps, .tol = tol, .raw = raw};
        FILE *devnull = fopen("/dev/null", "w");
        if (sngi_gradcheck(ctx, g, &o, devnull, &bad)) bad = -1;
        fclose(devnull);
    }
    sng_graph_free(g);
    sng_ctx_free(ctx);
    return bad;
}

/* With decisions frozen the whole-model check is tight on every parameter and input; at a step
 * large enough to cross many kinks it stays within a few percent (the sigmoid head's curvature
 * is all that is left) where plain differences are off by up to 180% (seen). */
static void test_exec_whole_model_gradcheck_frozen(void) {
    CU_ASSERT_EQUAL(run_gradcheck(kinked_xml, 1e-2, 1e-3, 0), 0);
    CU_ASSERT_EQUAL(run_gradcheck(kinked_xml, 0.2, 5e-2, 0), 0);
    CU_ASSERT(run_gradcheck(kinked_xml, 0.2, 5e-2, 1) > 0);
}

/* The shipped small Siamese (tied, contrastive + BCE head) and triplet models pass the CLI
 * check at its defaults. */
static void test_exec_gradcheck_shipped_small_models(void) {
    CU_ASSERT_EQUAL(sngt_cli("gradcheck --threads 1 siamese_small"), 0);
    CU_ASSERT_EQUAL(sngt_cli("gradcheck --threads 1 --inputs triplet_small"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "ok"));
}

/* Same model, seed, data and thread count: bit-identical losses over 20 SGD steps, with the
 * tied branches batched and the waves run side by side on 2 threads. */
static void run_20_steps(double loss[20]) {
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    sng_session *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, kinked_xml, strlen(kinked_xml), "(test)",
                                                NULL, &g), SNG_OK);
    sngi_optim opt = {.kind = SNGI_OPT_SGD, .lr = 0.01, .momentum = 0.9, .total_steps = 20};
    sng_session_opts so;
    sng_session_opts_init(&so);
    so.batch = 4;
    so.threads = 2;
    so.seed = 3;
    so.opt_slots = sngi_optim_slots(&opt);
    CU_ASSERT_EQUAL_FATAL(sng_session_new(ctx, g, &so, &s), SNG_OK);
    sngi_rng rng;
    sngi_rng_seed(&rng, 11);
    for (int step = 0; step < 20; step++) {
        for (int i = 0; i < g->n_inputs; i++) {
            int64_t n;
            float *x = sng_session_value(s, g->nodes[g->inputs[i]].name, &n);
            for (int64_t k = 0; k < n; k++) x[k] = sngi_rng_uniform(&rng);
        }
        CU_ASSERT_EQUAL(sng_session_forward(s, &loss[step]), SNG_OK);
        CU_ASSERT_EQUAL(sng_session_backward(s), SNG_OK);
        sngi_optim_step(&opt, s, step);
    }
    sng_session_free(s);
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

static void test_exec_deterministic_20_steps(void) {
    double a[20], b[20];
    run_20_steps(a);
    run_20_steps(b);
    CU_ASSERT(memcmp(a, b, sizeof a) == 0);
    CU_ASSERT(a[19] != a[0]); /* it did train */
}

/* An n-input op over inputs x0..x{n-1} of shape 2: "<op name='y' in='x0 x1 ...'/>". Caller
 * frees. */
static char *wide_xml(const char *op, int n) {
    size_t cap = (size_t)n * 64 + 256, k = 0;
    char *x = malloc(cap);
    k += (size_t)snprintf(x + k, cap - k, "<model>");
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(x + k, cap - k, "<input name='x%d' shape='2'/>", i);
    k += (size_t)snprintf(x + k, cap - k, "<%s name='y' in='", op);
    for (int i = 0; i < n; i++) k += (size_t)snprintf(x + k, cap - k, "%sx%d", i ? " " : "", i);
    snprintf(x + k, cap - k, "'/><output name='y'/></model>");
    return x;
}

/* add and concat with many more inputs than any fixed array (there was one of 16): every input
 * is read, forward and backward. */
static void test_exec_many_inputs(void) {
    const int sizes[] = {17, 40, 1000};
    for (int t = 0; t < 3; t++) {
        int n = sizes[t];
        for (int op = 0; op < 2; op++) {
            char *xml = wide_xml(op ? "concat" : "add", n);
            sng_ctx *ctx = sng_ctx_new();
            sng_graph *g = NULL;
            CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "wide", NULL, &g),
                                  SNG_OK);
            sng_session *s = mk(ctx, g, 1, 1, 2);
            CU_ASSERT_PTR_NOT_NULL_FATAL(s);
            char nm[16];
            for (int i = 0; i < n; i++) {
                snprintf(nm, sizeof nm, "x%d", i);
                float *x = sng_session_value(s, nm, NULL);
                x[0] = (float)i;
                x[1] = 1.0f;
            }
            CU_ASSERT_EQUAL(sng_session_forward(s, NULL), SNG_OK);
            int64_t m;
            float *y = sng_session_value(s, "y", &m);
            CU_ASSERT_EQUAL(m, op ? 2 * n : 2);
            if (op) {
                int bad = 0;
                for (int i = 0; i < n; i++) bad += y[2 * i] != (float)i || y[2 * i + 1] != 1.0f;
                CU_ASSERT_EQUAL(bad, 0);
            } else {
                CU_ASSERT_DOUBLE_EQUAL(y[0], n * (n - 1) / 2.0, 1e-3);
                CU_ASSERT_DOUBLE_EQUAL(y[1], n, 1e-3);
            }
            float *gy = sng_session_grad(s, "y", NULL);
            if (gy) {
                for (int64_t k = 0; k < m; k++) gy[k] = 1.0f;
                CU_ASSERT_EQUAL(sng_session_backward(s), SNG_OK);
                snprintf(nm, sizeof nm, "x%d", n - 1);
                float *gx = sng_session_grad(s, nm, NULL);
                if (gx) CU_ASSERT_DOUBLE_EQUAL(gx[0], 1.0, 1e-6);
            }
            sng_session_free(s);
            sng_graph_free(g);
            sng_ctx_free(ctx);
            free(xml);
        }
    }
}

/* Thread counts beyond SNG_MAX_THREADS (libgomp aborts on a team it cannot create) and negative
 * ones are refused when the session is built, with the limit in the message. */
static void test_exec_threads_limit(void) {
    const char *xml = "<model><input name='a' shape='4'/><relu name='r' in='a'/>"
                      "<output name='r'/></model>";
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "t", NULL, &g), SNG_OK);
    sng_session_opts o;
    sng_session_opts_init(&o);
    sng_session *s = NULL;
    const int bad[] = {SNG_MAX_THREADS + 1, 100000, -1};
    for (int i = 0; i < 3; i++) {
        o.threads = bad[i];
        CU_ASSERT_EQUAL(sng_session_new(ctx, g, &o, &s), SNG_ERR_USAGE);
        CU_ASSERT_PTR_NULL(s);
        CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "threads must be between 0"));
        CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "4096"));
    }
    o.threads = 2;
    CU_ASSERT_EQUAL(sng_session_new(ctx, g, &o, &s), SNG_OK);
    sng_session_free(s);
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

/* Sessions planned from several threads at once get the plan a lone thread gets (the planner's
 * sort once kept its context in a static). */
typedef struct plan_job {
    const sng_graph *g;
    int64_t arena[40];
} plan_job;

static void *plan_many(void *arg) {
    plan_job *j = arg;
    sng_ctx *ctx = sng_ctx_new();
    for (int i = 0; i < 40; i++) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.batch = 1 + i % 5;
        o.threads = 1;
        sng_session *s = NULL;
        j->arena[i] = -1;
        if (sng_session_new(ctx, j->g, &o, &s) == SNG_OK) {
            sng_plan_stats ps;
            sng_session_plan_stats(s, &ps);
            j->arena[i] = ps.arena_bytes;
            sng_session_free(s);
        }
    }
    sng_ctx_free(ctx);
    return NULL;
}

static void test_plan_concurrent_sessions_same_plan(void) {
    sngi_rng rng;
    sngi_rng_seed(&rng, 7);
    char *xml = random_dag(&rng, 22);
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "dag", NULL, &g), SNG_OK);
    plan_job alone = {g, {0}}, jobs[4];
    plan_many(&alone);
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        jobs[k].g = g;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[k], NULL, plan_many, &jobs[k]), 0);
    }
    for (int k = 0; k < 4; k++) pthread_join(th[k], NULL);
    int diff = 0;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 40; i++) diff += jobs[k].arena[i] != alone.arena[i];
    CU_ASSERT_EQUAL(diff, 0);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    free(xml);
}

/* Making the k-th allocation of a session build fail, for every k until the build succeeds:
 * each failure is SNG_ERR_NOMEM with no session handed out (and, under ASan, nothing leaked). */
static void test_exec_alloc_fail_walk_session(void) {
    const char *xml = tied_xml("br", "br");
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "t", NULL, &g), SNG_OK);
    for (int mode = 0; mode < 3; mode++) {
        sng_session_opts o;
        sng_session_opts_init(&o);
        o.batch = 3;
        o.opt_slots = 1;
        o.unplanned = mode == 2;
        const char *ho[] = {"head2", NULL}, *hf[] = {"r", NULL};
        if (mode == 1) { /* inference with feeds and outputs */
            o.training = 0;
            o.outputs = ho;
            o.feeds = hf;
        }
        long k;
        int n_nomem = 0, n_other = 0;
        for (k = 0; k < 100000; k++) {
            sng_session *s = (sng_session *)1;
            sngi_alloc_fail_after(k);
            sng_status st = sng_session_new(ctx, g, &o, &s);
            sngi_alloc_fail_after(-1);
            if (st == SNG_OK) {
                CU_ASSERT_PTR_NOT_NULL(s);
                CU_ASSERT_EQUAL(sng_session_forward(s, NULL), SNG_OK);
                sng_session_free(s);
                break;
            }
            CU_ASSERT_PTR_NULL(s);
            if (st == SNG_ERR_NOMEM) {
                n_nomem++;
            } else {
                n_other++;
                fprintf(stderr, "\n  mode %d, fail after %ld allocations: %s: %s", mode, k,
                        sng_status_str(st), sng_ctx_errmsg(ctx));
            }
        }
        CU_ASSERT(k < 100000);
        CU_ASSERT(n_nomem > 20);
        CU_ASSERT_EQUAL(n_other, 0);
    }
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

static CU_TestInfo exec_tests[] = {
    {"test_exec_deterministic_20_steps", test_exec_deterministic_20_steps},
    {"test_exec_kink_freeze_replays_decisions", test_exec_kink_freeze_replays_decisions},
    {"test_exec_whole_model_gradcheck_frozen", test_exec_whole_model_gradcheck_frozen},
    {"test_exec_gradcheck_shipped_small_models", test_exec_gradcheck_shipped_small_models},
    {"test_exec_unit_consumers_and_shared_state", test_exec_unit_consumers_and_shared_state},
    {"test_exec_feeds_and_outputs", test_exec_feeds_and_outputs},
    {"test_exec_branch_batching_matches_unbatched", test_exec_branch_batching_matches_unbatched},
    {"test_exec_dense_gradcheck", test_exec_dense_gradcheck},
    {"test_exec_fanout_gradcheck", test_exec_fanout_gradcheck},
    {"test_exec_tied_gradient_is_sum", test_exec_tied_gradient_is_sum},
    {"test_exec_budget_refuses_with_fitting_batch", test_exec_budget_refuses_with_fitting_batch},
    {"test_exec_many_inputs", test_exec_many_inputs},
    {"test_exec_threads_limit", test_exec_threads_limit},
    {"test_exec_alloc_fail_walk_session", test_exec_alloc_fail_walk_session},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo plan_tests[] = {
    {"test_plan_random_lifetimes_never_overlap", test_plan_random_lifetimes_never_overlap},
    {"test_plan_random_dags_planned_equals_unplanned",
     test_plan_random_dags_planned_equals_unplanned},
    {"test_plan_concurrent_sessions_same_plan", test_plan_concurrent_sessions_same_plan},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {
    {"exec", NULL, NULL, NULL, NULL, exec_tests},
    {"plan", NULL, NULL, NULL, NULL, plan_tests},
    CU_SUITE_INFO_NULL,
};
