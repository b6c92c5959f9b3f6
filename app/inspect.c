/*
 * inspect.c — the memory plan, profile, synthetic inputs and sgemm probe for the tool commands
 * (see inspect.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "inspect.h"
#include "ops/op.h"

void sngi_plan_print(FILE *out, const sng_session *s, long batch, int training, int json) {
    const sng_graph *g = sngi_session_graph(s);
    sng_plan_stats ps;
    sng_session_plan_stats(s, &ps);
    double ratio = ps.lower_bound ? (double)ps.arena_bytes / (double)ps.lower_bound : 1;
    char c1[32], c2[32], c3[32], c4[32];
    int nb = sngi_session_n_bufs(s);
    sngi_plan_buf u;
    if (json) {
        fprintf(out, "{\"model\":");
        sngi_json_str(out, g->name);
        fprintf(out, ",\"batch\":%ld,\"mode\":\"%s\",\"naive_bytes\":%lld,"
                     "\"lower_bound\":%lld,\"arena_bytes\":%lld,\"ratio\":%.4f,\"slab_bytes\":%lld,"
                     "\"steps\":%d,\"buffers\":[",
                batch, training ? "train" : "infer", (long long)ps.naive_bytes,
                (long long)ps.lower_bound, (long long)ps.arena_bytes, ratio,
                (long long)ps.slab_bytes, ps.n_steps);
        for (int b = 0; b < nb; b++) {
            sngi_session_buf(s, b, &u);
            fprintf(out, "%s{\"node\":", b ? "," : "");
            sngi_json_str(out, u.node);
            fprintf(out, ",\"kind\":\"%s\",\"bytes\":%zu,\"first\":%d,\"last\":%d,\"offset\":%zu}",
                    u.kind, u.bytes, u.first, u.last, u.offset);
        }
        fprintf(out, "]}\n");
        return;
    }
    fprintf(out, "Plan for %s, batch %ld, %s: %d steps, %d buffers\n", g->name, batch,
            training ? "training (forward + backward)" : "inference (forward)", ps.n_steps,
            ps.n_buffers);
    fprintf(out, "%-34s %-9s %14s %11s %14s\n", "buffer (node)", "kind", "bytes", "steps",
            "offset");
    for (int b = 0; b < nb; b++) {
        sngi_session_buf(s, b, &u);
        char life[32];
        snprintf(life, sizeof life, "%d-%d", u.first, u.last);
        fprintf(out, "%-34s %-9s %14s %11s %14s\n", u.node, u.kind,
                sngi_commas((int64_t)u.bytes, c1, sizeof c1), life,
                sngi_commas((int64_t)u.offset, c2, sizeof c2));
    }
    fprintf(out, "naive (every buffer separate): %s bytes (%.1f MiB)\n",
            sngi_commas(ps.naive_bytes, c1, sizeof c1), ps.naive_bytes / 1048576.0);
    fprintf(out, "lower bound (most live at a step): %s bytes (%.1f MiB)\n",
            sngi_commas(ps.lower_bound, c2, sizeof c2), ps.lower_bound / 1048576.0);
    fprintf(out, "planned arena: %s bytes (%.1f MiB), %.3f x the lower bound\n",
            sngi_commas(ps.arena_bytes, c3, sizeof c3), ps.arena_bytes / 1048576.0, ratio);
    fprintf(out, "parameter slab (params%s): %s bytes (%.1f MiB)\n",
            training ? ", gradients, SGD momentum" : "",
            sngi_commas(ps.slab_bytes, c4, sizeof c4), ps.slab_bytes / 1048576.0);
}

int sngi_plan_svg(const sng_session *s, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return errno ? errno : EIO;
    sng_plan_stats ps;
    sng_session_plan_stats(s, &ps);
    int n_fwd, n_steps = sngi_session_n_steps(s, &n_fwd);
    double W = 900, H = 520, L = 60, T = 30;
    double xs = (W - L - 10) / (n_steps ? n_steps : 1);
    double ys = (H - T - 30) / (double)(ps.arena_bytes ? ps.arena_bytes : 1);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"Helvetica\" font-size=\"10\">\n", W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"18\" font-size=\"13\">%s: arena %.2f MiB over %d steps "
               "(x: step, y: address; blue value, red gradient, grey workspace, green saved)"
               "</text>\n",
            L, sngi_session_graph(s)->name, ps.arena_bytes / 1048576.0, n_steps);
    int nb = sngi_session_n_bufs(s);
    for (int b = 0; b < nb; b++) {
        sngi_plan_buf u;
        sngi_session_buf(s, b, &u);
        const char *col = u.kind[0] == 'v' ? "#4c78a8" : u.kind[0] == 'g' ? "#e45756"
                          : u.kind[0] == 'w' ? "#9d9d9d" : "#54a24b";
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                   "fill-opacity=\"0.75\" stroke=\"#222\" stroke-width=\"0.3\"><title>",
                L + u.first * xs, T + (double)u.offset * ys, (u.last - u.first + 1) * xs,
                (double)u.bytes * ys, col);
        sngi_json_str(f, u.node);
        fprintf(f, " %s %zu bytes, steps %d-%d</title></rect>\n", u.kind, u.bytes, u.first,
                u.last);
    }
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#000\"/>\n", L, T,
            L, H - 30);
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" y2=\"%.0f\" stroke=\"#000\" "
               "stroke-dasharray=\"4\"/><text x=\"%.2f\" y=\"%.0f\">backward starts</text>\n",
            L + n_fwd * xs, T, L + n_fwd * xs, H - 30, L + n_fwd * xs + 3, H - 18);
    fprintf(f, "</svg>\n");
    int e = fflush(f) != 0 || ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    return e;
}

void sngi_profile_print(FILE *out, const sng_session *s, long steps) {
    double total = sngi_session_op_time(s, NULL, 0);
    if (total <= 0 || steps <= 0) return;
    fprintf(out, "  %-18s %-8s %10s %7s\n", "op", "pass", "ms/step", "share");
    int n_ops;
    const sngi_op_def *const *ops = sngi_op_all(&n_ops);
    for (int k = 0; k < n_ops; k++)
        for (int pass = 0; pass < 2; pass++) {
            double sum = sngi_session_op_time(s, ops[k], pass);
            if (sum > 0)
                fprintf(out, "  %-18s %-8s %10.2f %6.1f%%\n", ops[k]->name,
                        pass ? "backward" : "forward", 1e3 * sum / steps, 100 * sum / total);
        }
}

void sngi_fill_inputs(sng_session *s, uint64_t seed) {
    const sng_graph *g = sngi_session_graph(s);
    sngi_rng rng;
    sngi_rng_seed(&rng, seed);
    for (int i = 0; i < g->n_inputs; i++) {
        const sngi_node *n = &g->nodes[g->inputs[i]];
        int64_t cnt;
        float *x = sng_session_value(s, n->name, &cnt);
        int label = sngi_shape_numel(&n->shape) == 1;
        for (int64_t k = 0; x && k < cnt; k++) x[k] = label ? (float)(k % 2) : sngi_rng_uniform(&rng);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double sngi_sgemm_peak(int threads, int n) {
    float *a = aligned_alloc(64, sizeof(float) * (size_t)n * n);
    float *b = aligned_alloc(64, sizeof(float) * (size_t)n * n);
    float *c = aligned_alloc(64, sizeof(float) * (size_t)n * n);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f, c[i] = 0;
    double best = 0;
    for (int r = 0; r < 4; r++) {
        double t0 = now();
        sngi_sgemm(threads, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now() - t0;
        if (r && 2.0 * n * n * n / t / 1e9 > best) best = 2.0 * n * n * n / t / 1e9;
    }
    free(a), free(b), free(c);
    return best;
}
