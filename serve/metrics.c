/*
 * metrics.c — counters behind GET /metrics (see metrics.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/metrics.h"

static const char *const ep_names[SNGI_EP_COUNT] = {
    "healthz", "readyz", "metrics", "compare", "embed", "identify", "gallery_list",
    "gallery_add", "gallery_delete", "other"};
static const double lat_le[SNGI_N_LAT] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
static const int batch_le[SNGI_N_BATCH] = {1, 2, 4, 8, 16, 32, 64, 128, 256};

const char *sngi_endpoint_name(int ep) { return ep_names[ep >= 0 && ep < SNGI_EP_COUNT ? ep : SNGI_EP_OTHER]; }

void sngi_metrics_init(sngi_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void sngi_metrics_destroy(sngi_metrics *m) { pthread_mutex_destroy(&m->mu); }

void sngi_metrics_request(sngi_metrics *m, int ep, int status, double seconds) {
    if (ep < 0 || ep >= SNGI_EP_COUNT) ep = SNGI_EP_OTHER;
    pthread_mutex_lock(&m->mu);
    int s = 0;
    while (s < m->n_status && m->status_code[s] != status) s++;
    if (s == m->n_status && s < SNGI_N_STATUS) m->status_code[m->n_status++] = status;
    if (s < SNGI_N_STATUS) m->req[ep][s]++;
    int b = 0;
    while (b < SNGI_N_LAT && seconds > lat_le[b]) b++;
    m->lat[ep][b]++;
    m->lat_sum[ep] += seconds;
    pthread_mutex_unlock(&m->mu);
}

void sngi_metrics_batch(sngi_metrics *m, int images) {
    pthread_mutex_lock(&m->mu);
    int b = 0;
    while (b < SNGI_N_BATCH && images > batch_le[b]) b++;
    m->batch[b]++;
    m->batch_images += (unsigned long long)images;
    pthread_mutex_unlock(&m->mu);
}

void sngi_metrics_gauges(sngi_metrics *m, int queue_depth, int gallery_size) {
    pthread_mutex_lock(&m->mu);
    if (queue_depth >= 0) m->queue_depth = queue_depth;
    if (gallery_size >= 0) m->gallery_size = gallery_size;
    pthread_mutex_unlock(&m->mu);
}

/* Prints one histogram's buckets (cumulative, as Prometheus wants), sum and count. */
static void histogram(FILE *f, const char *name, const char *label, const unsigned long long *c,
                      int nb, const double *le_d, const int *le_i, double sum) {
    unsigned long long cum = 0;
    for (int b = 0; b <= nb; b++) {
        cum += c[b];
        if (b == nb) fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, *label ? "," : "", cum);
        else if (le_d) fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, label, *label ? "," : "", le_d[b], cum);
        else fprintf(f, "%s_bucket{%s%sle=\"%d\"} %llu\n", name, label, *label ? "," : "", le_i[b], cum);
    }
    fprintf(f, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, *label ? "{" : "", label,
            *label ? "}" : "", sum, name, *label ? "{" : "", label, *label ? "}" : "", cum);
}

int sngi_metrics_render(sngi_metrics *m, char **out, size_t *len) {
    *out = NULL;
    FILE *f = open_memstream(out, len);
    if (!f) return -1;
    pthread_mutex_lock(&m->mu);
    fputs("# HELP sngraph_requests_total HTTP requests by endpoint and status.\n"
          "# TYPE sngraph_requests_total counter\n", f);
    for (int e = 0; e < SNGI_EP_COUNT; e++)
        for (int s = 0; s < m->n_status; s++)
            if (m->req[e][s])
                fprintf(f, "sngraph_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
                        ep_names[e], m->status_code[s], m->req[e][s]);
    fputs("# HELP sngraph_request_seconds Request latency by endpoint.\n"
          "# TYPE sngraph_request_seconds histogram\n", f);
    for (int e = 0; e < SNGI_EP_COUNT; e++) {
        char label[64];
        snprintf(label, sizeof label, "endpoint=\"%s\"", ep_names[e]);
        histogram(f, "sngraph_request_seconds", label, m->lat[e], SNGI_N_LAT, lat_le, NULL,
                  m->lat_sum[e]);
    }
    fputs("# HELP sngraph_batch_images Images per branch pass (dynamic batching).\n"
          "# TYPE sngraph_batch_images histogram\n", f);
    histogram(f, "sngraph_batch_images", "", m->batch, SNGI_N_BATCH, NULL, batch_le,
              (double)m->batch_images);
    fprintf(f, "# HELP sngraph_gallery_identities Enrolled identities.\n"
               "# TYPE sngraph_gallery_identities gauge\nsngraph_gallery_identities %d\n"
               "# HELP sngraph_queue_depth Requests waiting for the model.\n"
               "# TYPE sngraph_queue_depth gauge\nsngraph_queue_depth %d\n",
            m->gallery_size, m->queue_depth);
    pthread_mutex_unlock(&m->mu);
    return fclose(f) ? -1 : 0;
}
