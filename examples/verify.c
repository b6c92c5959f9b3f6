/*
 * verify.c — a program built against the installed libsngraph (pkg-config sngraph), as a
 * user's would be: train a model, compare two images, and enrol into and identify against a
 * gallery, through the public API only.
 *
 *   verify train MODEL RUN_DIR [KEY=VALUE]...
 *   verify compare CHECKPOINT IMAGE_A IMAGE_B
 *   verify identify CHECKPOINT GALLERY QUERY NAME IMAGE [NAME IMAGE]...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sngraph/sngraph.h>

static int fail(sng_ctx *ctx, sng_status st) {
    fprintf(stderr, "verify: %s\n", sng_ctx_errmsg(ctx)[0] ? sng_ctx_errmsg(ctx) : sng_status_str(st));
    sng_ctx_free(ctx);
    return 1;
}

static int progress(void *user, int64_t step, int64_t steps, double loss) {
    (void)user;
    if (step % 10 == 0 || step == steps) printf("step %lld/%lld loss %.4f\n", (long long)step, (long long)steps, loss);
    return 0;
}

/* Reads a whole file into memory; the caller frees it. */
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    *n = len;
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: verify train MODEL RUN_DIR [KEY=VALUE]...\n"
                        "       verify compare CHECKPOINT IMAGE_A IMAGE_B\n"
                        "       verify identify CHECKPOINT GALLERY QUERY NAME IMAGE...\n");
        return 2;
    }
    sng_ctx *ctx = sng_ctx_new();
    if (!ctx) return 1;
    sng_status st;
    if (!strcmp(argv[1], "train")) {
        sng_setting set[32];
        int n = 0;
        for (int i = 4; i < argc && n < 32; i++) {
            char *eq = strchr(argv[i], '=');
            if (!eq) continue;
            *eq = 0;
            set[n].key = argv[i];
            set[n++].value = eq + 1;
        }
        if ((st = sng_train(ctx, argv[2], set, n, argv[3], 0, progress, NULL))) return fail(ctx, st);
        printf("trained: %s/checkpoint.tar\n", argv[3]);
    } else if (!strcmp(argv[1], "compare") && argc == 5) {
        sng_verifier *v;
        double score;
        int same;
        if ((st = sng_verifier_open(ctx, argv[2], 0, &v))) return fail(ctx, st);
        st = sng_compare_files(v, argv[3], argv[4], &score, &same);
        if (!st) printf("score %.6f threshold %.6f: %s\n", score, sng_verifier_threshold(v), same ? "same" : "different");
        sng_verifier_free(v);
        if (st) return fail(ctx, st);
    } else if (!strcmp(argv[1], "identify") && argc >= 7 && argc % 2 == 1) {
        sng_verifier *v;
        sng_gallery *g;
        if ((st = sng_verifier_open(ctx, argv[2], 0, &v))) return fail(ctx, st);
        if ((st = sng_gallery_open(ctx, argv[3], v, &g))) {
            sng_verifier_free(v);
            return fail(ctx, st);
        }
        for (int i = 5; !st && i + 1 < argc; i += 2) {
            size_t n;
            unsigned char *img = slurp(argv[i + 1], &n);
            st = img ? sng_gallery_enrol(g, argv[i], img, n) : SNG_ERR_IO;
            free(img);
        }
        size_t n = 0;
        unsigned char *q = st ? NULL : slurp(argv[4], &n);
        sng_match m[3];
        int k = 0;
        if (!st) st = q ? sng_gallery_identify(g, q, n, 3, m, &k) : SNG_ERR_IO;
        for (int i = 0; !st && i < k; i++)
            printf("%d. %s %.6f%s\n", i + 1, m[i].name, m[i].score, m[i].match ? " match" : "");
        if (!st) printf("%d identities\n", sng_gallery_size(g));
        free(q);
        sng_gallery_close(g);
        sng_verifier_free(v);
        if (st) return fail(ctx, st);
    } else {
        fprintf(stderr, "verify: unknown command or wrong arguments\n");
        sng_ctx_free(ctx);
        return 2;
    }
    sng_ctx_free(ctx);
    return 0;
}
