/*
 * metrics.h — the server's counters in Prometheus text format: requests by endpoint and status,
 * latency histograms by endpoint, branch batch sizes, gallery size, queue depth.
 */
#ifndef SNGI_METRICS_H
#define SNGI_METRICS_H

#include <pthread.h>
#include <stddef.h>

enum {
    SNGI_EP_HEALTHZ, SNGI_EP_READYZ, SNGI_EP_METRICS, SNGI_EP_COMPARE, SNGI_EP_EMBED,
    SNGI_EP_IDENTIFY, SNGI_EP_GALLERY_LIST, SNGI_EP_GALLERY_ADD, SNGI_EP_GALLERY_DELETE,
    SNGI_EP_OTHER, SNGI_EP_COUNT
};
#define SNGI_N_STATUS 16
#define SNGI_N_LAT 13
#define SNGI_N_BATCH 9

typedef struct sngi_metrics {
    pthread_mutex_t mu;
    int status_code[SNGI_N_STATUS]; /* the distinct codes seen, in first-seen order */
    int n_status;
    unsigned long long req[SNGI_EP_COUNT][SNGI_N_STATUS];
    unsigned long long lat[SNGI_EP_COUNT][SNGI_N_LAT + 1]; /* per bucket, last is +Inf */
    double lat_sum[SNGI_EP_COUNT];
    unsigned long long batch[SNGI_N_BATCH + 1];
    unsigned long long batch_images;
    int queue_depth, gallery_size;
} sngi_metrics;

const char *sngi_endpoint_name(int ep);
void sngi_metrics_init(sngi_metrics *m);
void sngi_metrics_destroy(sngi_metrics *m);
void sngi_metrics_request(sngi_metrics *m, int ep, int status, double seconds);
void sngi_metrics_batch(sngi_metrics *m, int images);
void sngi_metrics_gauges(sngi_metrics *m, int queue_depth, int gallery_size);
/* The exposition text; *out is owned by the caller (free). Returns 0, or -1 on OOM. */
int sngi_metrics_render(sngi_metrics *m, char **out, size_t *len);

#endif
