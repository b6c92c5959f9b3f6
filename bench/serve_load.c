/*
 * serve_load.c — bounded concurrent load on a `sngraph serve` over loopback: C clients each send
 * the same POST (one connection per request) until the request count or the time limit is
 * reached, then it prints throughput and latency percentiles as one JSON line.
 *
 * Usage: serve_load PORT PATH CONTENT_TYPE BODY_FILE CLIENTS REQUESTS SECONDS
 * Only 127.0.0.1 is ever contacted.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, total;
static double limit_s, t_start;
static const char *path, *ctype;
static char *req;  /* the whole request: headers and body */
static size_t req_n;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int issued, failed;
static double *lat;
static int n_lat;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One request; returns the HTTP status, or 0 when the connection failed. */
static int one(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0) return 0;
    int status = 0;
    char buf[65536];
    /* Headers and body in one send: two small writes would meet Nagle's algorithm and the
     * peer's delayed ACK, a 40 ms stall that measures the client, not the server. */
    if (!connect(fd, (struct sockaddr *)&a, sizeof a) &&
        send(fd, req, req_n, MSG_NOSIGNAL) == (ssize_t)req_n) {
        ssize_t k, got = 0;
        while ((k = recv(fd, buf + got, sizeof buf - 1 - (size_t)got, 0)) > 0 && got < 64)
            got += k;
        buf[got] = 0;
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) status = 0;
        while (k > 0) k = recv(fd, buf, sizeof buf, 0); /* drain to the close */
    }
    close(fd);
    return status;
}

static void *client(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        int go = issued < total && now() - t_start < limit_s;
        if (go) issued++;
        pthread_mutex_unlock(&mu);
        if (!go) return NULL;
        double t0 = now();
        int st = one();
        double dt = now() - t0;
        pthread_mutex_lock(&mu);
        if (st == 200) lat[n_lat++] = dt;
        else failed++;
        pthread_mutex_unlock(&mu);
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: serve_load PORT PATH CONTENT_TYPE BODY_FILE CLIENTS REQUESTS SECONDS\n");
        return 2;
    }
    port = atoi(argv[1]), path = argv[2], ctype = argv[3];
    int clients = atoi(argv[5]);
    total = atoi(argv[6]);
    limit_s = atof(argv[7]);
    FILE *f = fopen(argv[4], "rb");
    if (!f || clients < 1 || clients > 256 || total < 1 || total > 1000000 || limit_s <= 0) {
        fprintf(stderr, "serve_load: bad arguments or unreadable %s\n", argv[4]);
        return 2;
    }
    char *body = malloc(16 << 20);
    size_t body_n = fread(body, 1, 16 << 20, f);
    fclose(f);
    req = malloc(body_n + 1024);
    int hn = snprintf(req, 1024, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", path, ctype, body_n);
    memcpy(req + hn, body, body_n);
    req_n = (size_t)hn + body_n;
    free(body);
    lat = malloc(sizeof(double) * (size_t)total);
    pthread_t th[256];
    t_start = now();
    for (int i = 0; i < clients; i++) pthread_create(&th[i], NULL, client, NULL);
    for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
    double el = now() - t_start;
    qsort(lat, (size_t)n_lat, sizeof *lat, cmp);
    double p50 = n_lat ? lat[n_lat / 2] : 0, p99 = n_lat ? lat[(n_lat * 99) / 100 < n_lat ? (n_lat * 99) / 100 : n_lat - 1] : 0;
    printf("{\"path\":\"%s\",\"clients\":%d,\"ok\":%d,\"failed\":%d,\"seconds\":%.3f,"
           "\"rps\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
           path, clients, n_lat, failed, el, n_lat / el, 1e3 * p50, 1e3 * p99);
    free(req);
    free(lat);
    return failed ? 1 : 0;
}
