/*
 * summary.c — human-readable and JSON summaries of a compiled graph (`sngraph check`) and its
 * Graphviz DOT drawing (`sngraph dot`).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "sng_int.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes are not one (overlong
 * forms, surrogates and code points past U+10FFFF included). */
static int utf8_len(const unsigned char *p) {
    unsigned c = p[0];
    int n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
          : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    for (int k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80) return 0;
    if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))) return 0;
    if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))) return 0;
    return n;
}

/* Writes s as a JSON string literal: quotes, backslashes and control characters escaped, and
 * bytes that are not UTF-8 (JSON text must be) written as U+FFFD. */
void sngi_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_len(p);
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else if (n == 0)
            fputs("\\ufffd", f);
        else
            fwrite(p, 1, (size_t)n, f);
        p += n ? n : 1;
    }
    fputc('"', f);
}

/* "17,073,857" */
char *sngi_commas(int64_t v, char *buf, size_t n) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
    size_t len = strlen(tmp), k = 0;
    if (v < 0 && k < n - 1) buf[k++] = '-';
    for (size_t i = 0; i < len && k < n - 1; i++) {
        if (i && (len - i) % 3 == 0 && k < n - 1) buf[k++] = ',';
        buf[k++] = tmp[i];
    }
    buf[k] = 0;
    return buf;
}

static int64_t node_params(const sng_graph *g, const sngi_node *n) {
    int64_t k = 0;
    for (int j = 0; j < n->n_param; j++) k += sngi_shape_numel(&g->params[n->param[j]].shape);
    return k;
}

/* The first other node sharing a parameter with n (tied), or -1. */
static int tied_peer(const sng_graph *g, int id) {
    const sngi_node *n = &g->nodes[id];
    if (!n->n_param || g->params[n->param[0]].n_users < 2) return -1;
    int p = n->param[0];
    for (int i = 0; i < g->n_nodes; i++) {
        if (i == id) continue;
        for (int j = 0; j < g->nodes[i].n_param; j++)
            if (g->nodes[i].param[j] == p) return i;
    }
    return -1;
}

/* The parameter scope shown for tied nodes: the parameter name without its last two parts. */
static void tie_scope(const sng_graph *g, const sngi_node *n, char *buf, size_t len) {
    snprintf(buf, len, "%s", n->scope ? n->scope : "");
}

void sng_graph_print_summary(const sng_graph *g, FILE *f, int json) {
    sng_graph_stats s;
    sng_graph_stats_get(g, &s);
    char shp[64], c1[32], c2[32], c3[32];
    if (json) {
        fprintf(f, "{\"model\":");
        sngi_json_str(f, g->name);
        fprintf(f, ",\"file\":");
        sngi_json_str(f, g->file);
        fprintf(f, ",\"nodes\":[");
        for (int i = 0; i < g->n_nodes; i++) {
            const sngi_node *n = &g->nodes[i];
            fprintf(f, "%s\n {\"name\":", i ? "," : "");
            sngi_json_str(f, n->name);
            fprintf(f, ",\"op\":\"%s\",\"shape\":[", n->op->name);
            for (int d = 0; d < n->shape.nd; d++) fprintf(f, "%s%d", d ? "," : "", n->shape.d[d]);
            fprintf(f, "],\"batched\":%s,\"params\":%lld,\"flops\":%.0f,\"inputs\":[",
                    n->batched ? "true" : "false", (long long)node_params(g, n), n->flops);
            for (int k = 0; k < n->n_in; k++) {
                if (k) fputc(',', f);
                sngi_json_str(f, g->nodes[n->in[k]].name);
            }
            fprintf(f, "]");
            int peer = tied_peer(g, i);
            if (peer >= 0) {
                fprintf(f, ",\"tied_with\":");
                sngi_json_str(f, g->nodes[peer].name);
                fprintf(f, ",\"param_scope\":");
                sngi_json_str(f, n->scope);
            }
            if (n->is_output) fprintf(f, ",\"output\":true");
            if (n->is_loss) fprintf(f, ",\"loss_weight\":%g", n->loss_weight);
            fprintf(f, "}");
        }
        fprintf(f, "],\n\"parameters\":[");
        for (int i = 0; i < g->n_params; i++) {
            const sngi_param *p = &g->params[i];
            fprintf(f, "%s\n {\"name\":", i ? "," : "");
            sngi_json_str(f, p->name);
            fprintf(f, ",\"shape\":[");
            for (int d = 0; d < p->shape.nd; d++) fprintf(f, "%s%d", d ? "," : "", p->shape.d[d]);
            fprintf(f, "],\"size\":%lld,\"trainable\":%s,\"users\":%d}",
                    (long long)sngi_shape_numel(&p->shape), p->trainable ? "true" : "false",
                    p->n_users);
        }
        fprintf(f, "],\n\"trainable_params\":%lld,\"untied_trainable_params\":%lld,"
                   "\"non_trainable_params\":%lld,\"flops_per_sample\":%.0f,"
                   "\"activation_bytes_per_sample\":%lld}\n",
                (long long)s.trainable, (long long)s.untied_trainable,
                (long long)s.non_trainable, s.flops_per_sample, (long long)s.activation_bytes);
        return;
    }
    fprintf(f, "Model: %s (%s)\n", g->name, g->file);
    fprintf(f, "%-34s %-17s %-16s %12s  %s\n", "Node", "Op", "Output shape", "Params", "Tied to");
    for (int i = 0; i < 100; i++) fputc('-', f);
    fputc('\n', f);
    for (int i = 0; i < g->n_nodes; i++) {
        const sngi_node *n = &g->nodes[i];
        int peer = tied_peer(g, i);
        char tie[300] = "", sc[256];
        if (peer >= 0) {
            tie_scope(g, n, sc, sizeof sc);
            snprintf(tie, sizeof tie, "%s [params '%s']", g->nodes[peer].name, sc);
        }
        fprintf(f, "%-34s %-17s %-16s %12s  %s\n", n->name, n->op->name,
                n->batched ? sngi_shape_str(&n->shape, shp, sizeof shp) : "scalar",
                sngi_commas(node_params(g, n), c1, sizeof c1), tie);
    }
    for (int i = 0; i < 100; i++) fputc('-', f);
    fputc('\n', f);
    fprintf(f, "Trainable parameters:        %s", sngi_commas(s.trainable, c1, sizeof c1));
    if (s.untied_trainable != s.trainable)
        fprintf(f, "  (%s if every instance were untied)",
                sngi_commas(s.untied_trainable, c2, sizeof c2));
    fprintf(f, "\nNon-trainable parameters:    %s\n", sngi_commas(s.non_trainable, c3, sizeof c3));
    fprintf(f, "Parameter tensors:           %d\n", s.n_params);
    fprintf(f, "Forward FLOPs per sample:    %s (%.2f GFLOP)\n",
            sngi_commas((int64_t)s.flops_per_sample, c1, sizeof c1), s.flops_per_sample / 1e9);
    fprintf(f, "Activation bytes per sample: %s (%.1f MiB)\n",
            sngi_commas(s.activation_bytes, c2, sizeof c2), s.activation_bytes / 1048576.0);
    fprintf(f, "Outputs: ");
    for (int i = 0; i < g->n_outputs; i++)
        fprintf(f, "%s%s", i ? ", " : "", g->nodes[g->outputs[i]].name);
    fprintf(f, "\nLosses:  ");
    for (int i = 0; i < g->n_losses; i++)
        fprintf(f, "%s%s (weight %g)", i ? ", " : "", g->nodes[g->losses[i]].name,
                g->nodes[g->losses[i]].loss_weight);
    fprintf(f, "%s\n", g->n_losses ? "" : "none");
}

static void dot_id(FILE *f, const char *s) { sngi_json_str(f, s); }

void sng_graph_print_dot(const sng_graph *g, FILE *f) {
    char shp[64];
    fprintf(f, "digraph ");
    dot_id(f, g->name);
    fprintf(f, " {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
    /* One cluster per distinct instance, in order of first appearance. */
    for (int i = 0; i < g->n_nodes; i++) {
        const char *inst = g->nodes[i].instance;
        if (!inst) continue;
        int seen = 0;
        for (int j = 0; j < i; j++)
            if (g->nodes[j].instance && strcmp(g->nodes[j].instance, inst) == 0) seen = 1;
        if (seen) continue;
        fprintf(f, "  subgraph \"cluster_%s\" {\n    label=", inst);
        char lab[600];
        snprintf(lab, sizeof lab, "%s (params: %s)", inst, g->nodes[i].scope);
        dot_id(f, lab);
        fprintf(f, ";\n    style=rounded;\n");
        for (int j = i; j < g->n_nodes; j++)
            if (g->nodes[j].instance && strcmp(g->nodes[j].instance, inst) == 0) {
                fprintf(f, "    ");
                dot_id(f, g->nodes[j].name);
                fprintf(f, ";\n");
            }
        fprintf(f, "  }\n");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const sngi_node *n = &g->nodes[i];
        char lab[700];
        snprintf(lab, sizeof lab, "%s\\n%s %s", n->name, n->op->name,
                 n->batched ? sngi_shape_str(&n->shape, shp, sizeof shp) : "scalar");
        fprintf(f, "  ");
        dot_id(f, n->name);
        int tied = tied_peer(g, i) >= 0;
        fprintf(f, " [label=\"%s%s\"%s%s];\n", lab, tied ? "\\n(tied)" : "",
                tied ? ", style=filled, fillcolor=\"#ffe9a8\"" : "",
                n->op->flags & SNG_OP_INPUT ? ", shape=ellipse"
                : n->is_loss                ? ", shape=octagon"
                                            : "");
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            fprintf(f, "  ");
            dot_id(f, g->nodes[g->nodes[i].in[k]].name);
            fprintf(f, " -> ");
            dot_id(f, g->nodes[i].name);
            fprintf(f, ";\n");
        }
    /* Tied parameters: a dashed undirected edge between the first nodes sharing them. */
    for (int i = 0; i < g->n_nodes; i++) {
        int peer = tied_peer(g, i);
        if (peer > i) {
            fprintf(f, "  ");
            dot_id(f, g->nodes[i].name);
            fprintf(f, " -> ");
            dot_id(f, g->nodes[peer].name);
            fprintf(f, " [style=dashed, dir=none, color=\"#c08000\", label=\"tied\", "
                       "constraint=false];\n");
        }
    }
    fprintf(f, "}\n");
}
