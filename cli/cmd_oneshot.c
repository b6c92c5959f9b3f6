/*
 * cmd_oneshot.c — one-shot use of a trained checkpoint: `compare` two images, `embed` images,
 * and the gallery (`gallery add|remove|list`, `identify`): identities enrolled from a single
 * image each, their embeddings cached in the gallery file, so adding or removing people never
 * retrains and identifying runs the branch once plus the head once per enrolled identity.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "app/ckpt.h"
#include "app/gallery.h"
#include "app/infer.h"
#include "loaders/loader_int.h"

typedef struct common {
    const char *ckpt;
    int json, no_resize, top, batch;
    long threads;
    const char *out_path;
    const char *from;  /* gallery add --from SOURCE */
    const char **pos;  /* positional arguments, pointing into argv (array: see parse_common) */
    int n_pos;
} common;

static int parse_common(int argc, char **argv, FILE *out, FILE *err, const char *help,
                        common *c) {
    memset(c, 0, sizeof *c);
    c->top = 5;
    c->batch = 64;
    /* One array for the process, grown to the longest command line seen (commands run one
     * after another), so no exit path has to free it. */
    static const char **pos;
    static int pos_cap;
    if (argc + 1 > pos_cap) {
        const char **np = realloc(pos, sizeof *np * (size_t)(argc + 1));
        if (!np) {
            fprintf(err, "sngraph %s: out of memory\n", argv[0]);
            return 2;
        }
        pos = np, pos_cap = argc + 1;
    }
    c->pos = pos;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *nx = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, out);
            return 1;
        } else if (!strcmp(a, "--ckpt")) {
            if (!nx) goto missing;
            c->ckpt = nx, i++;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!nx) goto missing;
            c->out_path = nx, i++;
        } else if (!strcmp(a, "--from")) {
            if (!nx) goto missing;
            c->from = nx, i++;
        } else if (!strcmp(a, "--top") || !strcmp(a, "--batch") || !strcmp(a, "--threads")) {
            char *end;
            long v = nx ? strtol(nx, &end, 10) : -1;
            if (!nx || *end || v < (strcmp(a, "--threads") ? 1 : 0) || v > 1000000) {
                fprintf(err, "sngraph %s: %s expects a positive integer\n", argv[0], a);
                return 2;
            }
            if (!strcmp(a, "--top")) c->top = (int)v;
            else if (!strcmp(a, "--batch")) c->batch = (int)v;
            else c->threads = v;
            i++;
        } else if (!strcmp(a, "--json")) {
            c->json = 1;
        } else if (!strcmp(a, "--no-resize")) {
            c->no_resize = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(err, "sngraph %s: unknown option '%s'\n%s", argv[0], a, help);
            return 2;
        } else {
            c->pos[c->n_pos++] = a;
        }
    }
    return 0;
missing:
    fprintf(err, "sngraph %s: an option is missing its value\n%s", argv[0], help);
    return 2;
}

/* Decodes an encoded image and converts it to the model's (C,H,W) floats, x/255. `label` names
 * it in messages (a file, or ARCHIVE:ENTRY). With no_resize an image of another size or channel
 * count is an error naming both shapes. */
static sng_status decode_into(sng_ctx *ctx, const sngi_model *m, const char *label,
                              const uint8_t *buf, size_t n, int no_resize, float *dst) {
    sngi_image img = {0};
    char why[256] = "";
    sng_status s = sngi_decode_image(buf, n, &img, why, sizeof why);
    if (s) return sngi_fail(ctx, s, "%s: cannot decode the image: %s", label, why);
    int C = m->img_shape.d[0], H = m->img_shape.d[1], W = m->img_shape.d[2];
    if (no_resize && (img.c != C || img.h != H || img.w != W)) {
        free(img.pix);
        return sngi_fail(ctx, SNG_ERR_DATA,
                         "%s: image is %dx%dx%d (CxHxW) but the model takes %dx%dx%d "
                         "(drop --no-resize to convert and resize)",
                         label, img.c, img.h, img.w, C, H, W);
    }
    uint8_t *planar = malloc((size_t)C * H * W);
    if (!planar) {
        free(img.pix);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    s = sngi_image_convert(img.pix, img.c, img.h, img.w, planar, C, H, W);
    free(img.pix);
    if (!s)
        for (size_t i = 0; i < (size_t)C * H * W; i++) dst[i] = planar[i] * (1.0f / 255.0f);
    free(planar);
    return s ? sngi_fail(ctx, s, "%s: cannot convert the image", label) : SNG_OK;
}

/* Reads a whole regular file (at most 256 MiB). *buf is owned by the caller (free). */
/* A regular file only, opened without blocking (a FIFO is refused, never waited on). */
static sng_status read_file(sng_ctx *ctx, const char *path, uint8_t **buf, size_t *n) {
    size_t cap = 0;
    *buf = NULL;
    const char *why = sngi_read_regular(path, buf, &cap, n);
    if (!why) return SNG_OK;
    free(*buf);
    *buf = NULL;
    return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, why);
}

static sng_status load_image(sng_ctx *ctx, const sngi_model *m, const char *path, int no_resize,
                             float *dst) {
    uint8_t *buf;
    size_t n;
    sng_status s = read_file(ctx, path, &buf, &n);
    if (!s) s = decode_into(ctx, m, path, buf, n, no_resize, dst);
    free(buf);
    return s;
}

/* ---- image sets: files, directories and archives --------------------------------------------- */
/* Images gathered from the command line, in order: an image file is one image; a directory or
 * an archive (any libarchive format) gives each image inside it, in name order, named
 * SOURCE:ENTRY. Entries that are not images (no PNG/JPEG/PNM signature) are skipped and
 * counted; an image that does not decode is an error naming the entry. Images are decoded into
 * one batch of pixels and embedded as the batch fills, so memory grows with the embeddings
 * (4,608 floats each for VGG16), not with the images (11,025 each at 105x105). */
typedef struct img_set {
    sng_ctx *ctx;
    sngi_model *m;
    int no_resize;
    const char *src;    /* the source being walked */
    char **names;       /* owned, each owned */
    char **stems;       /* entry path without extension (gallery names), owned */
    float *emb;         /* n * emb_numel, owned */
    float *pix;         /* one batch of images (m->batch), owned */
    int n, cap, pending, skipped;
    double embed_s;     /* seconds spent embedding */
} img_set;

static void set_free(img_set *s) {
    for (int i = 0; i < s->n; i++) free(s->names[i]), free(s->stems[i]);
    free(s->names);
    free(s->stems);
    free(s->emb);
    free(s->pix);
}

/* Embeds the decoded images still pending (the last `pending` of the n). */
static sng_status set_flush(img_set *s) {
    if (!s->pending) return SNG_OK;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sng_status st = sngi_model_embed(s->m, s->pix, s->pending,
                                     s->emb + (size_t)(s->n - s->pending) * (size_t)s->m->emb_numel);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->embed_s += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    s->pending = 0;
    return st;
}

/* A path without its extension: "people/alice.png" -> "people/alice". */
static void strip_ext(const char *path, char *out, size_t n) {
    snprintf(out, n, "%s", path);
    char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    if (dot && dot != out && (!slash || dot > slash + 1)) *dot = 0;
}

static sng_status set_push(img_set *s, const char *name, const char *stem, const uint8_t *buf,
                           size_t n) {
    const sngi_model *m = s->m;
    if (!s->pix && !(s->pix = malloc(sizeof(float) * (size_t)m->batch * (size_t)m->img_numel)))
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        char **nn = realloc(s->names, sizeof *nn * (size_t)cap);
        if (nn) s->names = nn;
        char **ns = realloc(s->stems, sizeof *ns * (size_t)cap);
        if (ns) s->stems = ns;
        float *ne = realloc(s->emb, sizeof(float) * (size_t)cap * (size_t)m->emb_numel);
        if (ne) s->emb = ne;
        if (!nn || !ns || !ne) return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
        s->cap = cap;
    }
    sng_status st = decode_into(s->ctx, m, name, buf, n, s->no_resize,
                                s->pix + (size_t)s->pending * (size_t)m->img_numel);
    if (st) return st;
    s->names[s->n] = strdup(name);
    s->stems[s->n] = strdup(stem);
    if (!s->names[s->n] || !s->stems[s->n]) {
        free(s->names[s->n]), free(s->stems[s->n]);
        return sngi_fail(s->ctx, SNG_ERR_NOMEM, "out of memory");
    }
    s->n++;
    return ++s->pending == m->batch ? set_flush(s) : SNG_OK;
}

static sng_status set_entry(void *ud, const char *path, const uint8_t *data, size_t n) {
    img_set *s = ud;
    if (!sngi_image_sniff(data, n)) {
        s->skipped++;
        return SNG_OK;
    }
    char name[4200], stem[4096];
    snprintf(name, sizeof name, "%s:%s", s->src, path);
    strip_ext(path, stem, sizeof stem);
    return set_push(s, name, stem, data, n);
}

static sng_status set_bad(void *ud, const char *path, const char *why, int fatal) {
    img_set *s = ud;
    (void)fatal;
    return sngi_fail(s->ctx, SNG_ERR_DATA, "%s%s%s: %s", s->src, path ? ":" : "", path ? path : "",
                     why);
}

static sng_status set_add(img_set *s, const char *src) {
    struct stat st;
    sngi_walk_cb cb = {.ud = s, .file = set_entry, .bad = set_bad};
    char kind[64];
    s->src = src;
    if (stat(src, &st) == 0 && S_ISDIR(st.st_mode))
        return sngi_walk_path(s->ctx, src, &cb, kind, sizeof kind);
    uint8_t *buf;
    size_t n;
    sng_status r = read_file(s->ctx, src, &buf, &n);
    if (r) return r;
    if (sngi_image_sniff(buf, n)) {
        char stem[4096];
        const char *base = strrchr(src, '/');
        strip_ext(base ? base + 1 : src, stem, sizeof stem);
        r = set_push(s, src, stem, buf, n);
    } else {
        r = sngi_walk_memory(s->ctx, src, buf, n, &cb, kind, sizeof kind);
    }
    free(buf);
    return r;
}

static int finish(FILE *err, const char *cmd, sng_ctx *ctx, sng_status st, sngi_model *m) {
    int rc = st ? sngi_cli_report(err, cmd, ctx, st) : SNG_EXIT_OK;
    sngi_model_close(m);
    sng_ctx_free(ctx);
    return rc;
}

int sngi_cmd_compare(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph compare --ckpt CHECKPOINT [--json] [--no-resize] IMAGE_A IMAGE_B\n"
        "Prints the similarity of two images and 'same' or 'different' at the checkpoint's\n"
        "calibrated threshold. Images are converted and resized to the model's input unless\n"
        "--no-resize is given (then another size is an error).\n";
    common c;
    int r = parse_common(argc, argv, out, err, help, &c);
    if (r) return r == 1 ? SNG_EXIT_OK : SNG_EXIT_USAGE;
    if (!c.ckpt || c.n_pos != 2) {
        fprintf(err, "sngraph compare: need --ckpt and two images\n%s", help);
        return SNG_EXIT_USAGE;
    }
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_model *m = NULL;
    sng_status st = sngi_model_open(ctx, c.ckpt, 2, 1, (int)c.threads, &m);
    float *img = NULL, *emb = NULL, score = 0;
    if (!st) {
        img = malloc(sizeof(float) * (size_t)(2 * m->img_numel));
        emb = malloc(sizeof(float) * (size_t)(2 * m->emb_numel));
        if (!img || !emb) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    if (!st) st = load_image(ctx, m, c.pos[0], c.no_resize, img);
    if (!st) st = load_image(ctx, m, c.pos[1], c.no_resize, img + m->img_numel);
    if (!st) st = sngi_model_embed(m, img, 2, emb);
    if (!st) st = sngi_model_score(m, emb, emb + m->emb_numel, 1, 1, &score);
    if (!st) {
        int same = score >= m->threshold;
        if (c.json)
            fprintf(out, "{\"a\":\"%s\",\"b\":\"%s\",\"similarity\":%.6f,\"threshold\":%.6f,"
                         "\"same\":%s}\n",
                    c.pos[0], c.pos[1], score, m->threshold, same ? "true" : "false");
        else
            fprintf(out, "%s %s: similarity %.4f (threshold %.4f): %s\n", c.pos[0], c.pos[1], score,
                    m->threshold, same ? "same" : "different");
    }
    free(img);
    free(emb);
    return finish(err, "compare", ctx, st, m);
}

static sng_status write_npy(sng_ctx *ctx, const char *path, const float *v, int rows, int cols) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", tmp, strerror(errno));
    char dict[128];
    int dl = snprintf(dict, sizeof dict,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols);
    int total = 10 + dl + 1, pad = (64 - total % 64) % 64;
    unsigned short hl = (unsigned short)(dl + pad + 1);
    int bad = fwrite("\x93NUMPY\x01\x00", 1, 8, f) != 8 || fwrite(&hl, 1, 2, f) != 2 ||
              fwrite(dict, 1, (size_t)dl, f) != (size_t)dl;
    for (int i = 0; i < pad && !bad; i++) bad = fputc(' ', f) == EOF;
    if (!bad) bad = fputc('\n', f) == EOF;
    if (!bad) bad = fwrite(v, sizeof(float), (size_t)rows * cols, f) != (size_t)rows * cols;
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path)) {
        unlink(tmp);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: write failed", path);
    }
    return SNG_OK;
}

int sngi_cmd_embed(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph embed --ckpt CHECKPOINT -o OUT.npy [--batch N] [--no-resize] SOURCE...\n"
        "Writes one embedding per image as a float32 NumPy array (N, D) to OUT.npy and the\n"
        "image names, one per line in the same order, to OUT.npy.txt. A SOURCE is an image\n"
        "file, or a directory or archive (zip, tar, ...) whose images are taken in name order\n"
        "(named SOURCE:ENTRY; other files are skipped). Default batch 64.\n";
    common c;
    int r = parse_common(argc, argv, out, err, help, &c);
    if (r) return r == 1 ? SNG_EXIT_OK : SNG_EXIT_USAGE;
    if (!c.ckpt || !c.out_path || c.n_pos < 1) {
        fprintf(err, "sngraph embed: need --ckpt, -o and at least one image\n%s", help);
        return SNG_EXIT_USAGE;
    }
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_model *m = NULL;
    sng_status st = sngi_model_open(ctx, c.ckpt, c.batch, 1, (int)c.threads, &m);
    img_set set = {.ctx = ctx, .m = m, .no_resize = c.no_resize};
    for (int i = 0; !st && i < c.n_pos; i++) st = set_add(&set, c.pos[i]);
    if (!st) st = set_flush(&set);
    if (!st && set.n == 0)
        st = sngi_fail(ctx, SNG_ERR_DATA, "no images found in the given sources (%d other "
                                          "files skipped: PNG, JPEG and PGM/PPM are read)",
                       set.skipped);
    if (!st) st = write_npy(ctx, c.out_path, set.emb, set.n, (int)m->emb_numel);
    if (!st) {
        char idx[4200];
        snprintf(idx, sizeof idx, "%s.txt", c.out_path);
        FILE *f = fopen(idx, "w");
        if (!f) st = sngi_fail(ctx, SNG_ERR_IO, "%s: %s", idx, strerror(errno));
        for (int i = 0; f && i < set.n; i++) fprintf(f, "%s\n", set.names[i]);
        if (f && fclose(f)) st = sngi_fail(ctx, SNG_ERR_IO, "%s: write failed", idx);
        double sec = set.embed_s;
        if (!st)
            fprintf(out, "%d embeddings of %lld floats -> %s (%.1f images/s at batch %d)%s\n",
                    set.n, (long long)m->emb_numel, c.out_path, set.n / (sec > 0 ? sec : 1e-9),
                    c.batch, set.skipped ? "; skipped non-image entries" : "");
    }
    set_free(&set);
    return finish(err, "embed", ctx, st, m);
}

int sngi_cmd_gallery(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph gallery add --ckpt CHECKPOINT GALLERY NAME IMAGE [NAME IMAGE]...\n"
        "       sngraph gallery add --ckpt CHECKPOINT [--batch N] GALLERY --from SOURCE\n"
        "       sngraph gallery remove GALLERY NAME\n"
        "       sngraph gallery list [--json] GALLERY\n"
        "Enrols identities from one image each (their embeddings are cached in GALLERY, created\n"
        "when missing), removes one, or lists them. Never retrains. --from enrols every image of\n"
        "a directory or archive under its entry path without extension (people/alice.png ->\n"
        "people/alice). The file is replaced atomically, and only when every image enrolled.\n";
    if (argc < 2 || (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(help, argc < 2 ? err : out);
        return argc < 2 ? SNG_EXIT_USAGE : SNG_EXIT_OK;
    }
    const char *verb = argv[1];
    common c;
    int r = parse_common(argc - 1, argv + 1, out, err, help, &c);
    if (r) return r == 1 ? SNG_EXIT_OK : SNG_EXIT_USAGE;
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_model *m = NULL;
    sngi_gallery *gal = NULL;
    sng_status st = SNG_OK;
    if (!strcmp(verb, "add")) {
        if (!c.ckpt || (c.from ? c.n_pos != 1 : c.n_pos < 3 || c.n_pos % 2 == 0)) {
            fprintf(err, "sngraph gallery add: need --ckpt GALLERY NAME IMAGE [NAME IMAGE]... or "
                         "--ckpt GALLERY --from SOURCE\n");
            sng_ctx_free(ctx);
            return SNG_EXIT_USAGE;
        }
        st = sngi_model_open(ctx, c.ckpt, c.from || c.n_pos > 3 ? c.batch : 1, 1, (int)c.threads,
                             &m);
        if (!st) st = sngi_gallery_load(ctx, c.pos[0], 1, &gal);
        if (!st && gal->n == 0 && gal->dim == 0) {
            gal->fingerprint = m->fingerprint;
            gal->dim = (int)m->emb_numel;
        }
        if (!st && (gal->fingerprint != m->fingerprint || gal->dim != m->emb_numel))
            st = sngi_fail(ctx, SNG_ERR_DATA,
                           "%s was made with another checkpoint (fingerprint %016llx), not %s "
                           "(%016llx): embeddings would not be comparable",
                           c.pos[0], (unsigned long long)gal->fingerprint, c.ckpt,
                           (unsigned long long)m->fingerprint);
        /* Every image is decoded and embedded before the gallery changes: any error leaves
         * the file as it was. */
        img_set set = {.ctx = ctx, .m = m, .no_resize = c.no_resize};
        const char **names = NULL;
        if (!st && c.from) {
            st = set_add(&set, c.from);
            if (!st && set.n == 0) st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no images", c.from);
        }
        for (int i = 1; !st && !c.from && i + 1 < c.n_pos; i += 2) {
            int before = set.n;
            st = set_add(&set, c.pos[i + 1]);
            if (!st && set.n != before + 1)
                st = sngi_fail(ctx, SNG_ERR_USAGE, "%s: give one image per name (use --from for "
                                                   "a directory or archive)", c.pos[i + 1]);
        }
        if (!st) st = set_flush(&set);
        if (!st && !(names = calloc((size_t)set.n, sizeof *names)))
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        for (int i = 0; !st && i < set.n; i++) names[i] = c.from ? set.stems[i] : c.pos[1 + 2 * i];
        for (int i = 0; !st && i < set.n; i++)
            st = sngi_gallery_add(ctx, gal, names[i], set.emb + (size_t)i * (size_t)m->emb_numel);
        if (!st) st = sngi_gallery_save(ctx, gal, c.pos[0]);
        if (!st && set.n == 1) fprintf(out, "enrolled '%s' (%d identities)\n", names[0], gal->n);
        else if (!st) fprintf(out, "enrolled %d identities (%d in all)\n", set.n, gal->n);
        set_free(&set);
        free(names);
    } else if (!strcmp(verb, "remove")) {
        if (c.n_pos != 2) {
            fprintf(err, "sngraph gallery remove: need GALLERY NAME\n");
            sng_ctx_free(ctx);
            return SNG_EXIT_USAGE;
        }
        st = sngi_gallery_load(ctx, c.pos[0], 0, &gal);
        if (!st) st = sngi_gallery_remove(ctx, gal, c.pos[1]);
        if (!st) st = sngi_gallery_save(ctx, gal, c.pos[0]);
        if (!st) fprintf(out, "removed '%s' (%d identities)\n", c.pos[1], gal->n);
    } else if (!strcmp(verb, "list")) {
        if (c.n_pos != 1) {
            fprintf(err, "sngraph gallery list: need GALLERY\n");
            sng_ctx_free(ctx);
            return SNG_EXIT_USAGE;
        }
        st = sngi_gallery_load(ctx, c.pos[0], 0, &gal);
        if (!st && c.json) {
            fprintf(out, "{\"identities\":[");
            for (int i = 0; i < gal->n; i++) {
                fprintf(out, i ? "," : "");
                sngi_json_str(out, gal->names[i]);
            }
            fprintf(out, "],\"dim\":%d,\"fingerprint\":\"%016llx\"}\n", gal->dim,
                    (unsigned long long)gal->fingerprint);
        } else if (!st) {
            for (int i = 0; i < gal->n; i++) fprintf(out, "%s\n", gal->names[i]);
        }
    } else {
        fprintf(err, "sngraph gallery: unknown action '%s' (add, remove, list)\n", verb);
        sng_ctx_free(ctx);
        return SNG_EXIT_USAGE;
    }
    sngi_gallery_free(gal);
    return finish(err, "gallery", ctx, st, m);
}

int sngi_cmd_identify(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph identify --ckpt CHECKPOINT [--top K] [--json] GALLERY IMAGE\n"
        "Ranks the enrolled identities by similarity to IMAGE: one branch pass for the image,\n"
        "then the head once per identity (batched) on the cached embeddings. An identity at or\n"
        "above the calibrated threshold is a match.\n";
    common c;
    int r = parse_common(argc, argv, out, err, help, &c);
    if (r) return r == 1 ? SNG_EXIT_OK : SNG_EXIT_USAGE;
    if (!c.ckpt || c.n_pos != 2) {
        fprintf(err, "sngraph identify: need --ckpt GALLERY IMAGE\n%s", help);
        return SNG_EXIT_USAGE;
    }
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_model *m = NULL;
    sngi_gallery *gal = NULL;
    sng_status st = sngi_gallery_load(ctx, c.pos[0], 0, &gal);
    /* One image through the branch, then the head over the gallery in batches of up to 1024. */
    if (!st)
        st = sngi_model_open(ctx, c.ckpt, 1, gal->n < 1024 ? (gal->n > 0 ? gal->n : 1) : 1024,
                             (int)c.threads, &m);
    if (!st && (gal->fingerprint != m->fingerprint || gal->dim != m->emb_numel))
        st = sngi_fail(ctx, SNG_ERR_DATA,
                       "%s was made with another checkpoint (fingerprint %016llx), not %s "
                       "(%016llx)",
                       c.pos[0], (unsigned long long)gal->fingerprint, c.ckpt,
                       (unsigned long long)m->fingerprint);
    if (!st && gal->n == 0) st = sngi_fail(ctx, SNG_ERR_DATA, "%s: the gallery is empty", c.pos[0]);
    float *img = NULL, *q = NULL, *score = NULL;
    if (!st) {
        img = malloc(sizeof(float) * (size_t)m->img_numel);
        q = malloc(sizeof(float) * (size_t)m->emb_numel);
        score = malloc(sizeof(float) * (size_t)gal->n);
        if (!img || !q || !score) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    struct timespec t0, t1;
    if (!st) st = load_image(ctx, m, c.pos[1], c.no_resize, img);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!st) st = sngi_model_embed(m, img, 1, q);
    if (!st) st = sngi_model_score(m, gal->emb, q, 1, gal->n, score);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!st) {
        int k = c.top < gal->n ? c.top : gal->n;
        int *order = malloc(sizeof(int) * (size_t)gal->n);
        for (int i = 0; i < gal->n; i++) order[i] = i;
        for (int i = 0; i < k; i++) /* partial selection sort: top K */
            for (int j = i + 1; j < gal->n; j++)
                if (score[order[j]] > score[order[i]]) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
        double ms = 1e3 * ((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        if (c.json) {
            fprintf(out, "{\"image\":");
            sngi_json_str(out, c.pos[1]);
            fprintf(out, ",\"threshold\":%.6f,\"gallery_size\":%d,\"ms\":%.3f,\"top\":[",
                    m->threshold, gal->n, ms);
            for (int i = 0; i < k; i++) {
                fprintf(out, "%s{\"name\":", i ? "," : "");
                sngi_json_str(out, gal->names[order[i]]);
                fprintf(out, ",\"similarity\":%.6f,\"match\":%s}", score[order[i]],
                        score[order[i]] >= m->threshold ? "true" : "false");
            }
            fprintf(out, "]}\n");
        } else {
            for (int i = 0; i < k; i++)
                fprintf(out, "%2d. %-30s %.4f%s\n", i + 1, gal->names[order[i]], score[order[i]],
                        score[order[i]] >= m->threshold ? "  match" : "");
            fprintf(out, "(%d identities, %.2f ms; threshold %.4f)\n", gal->n, ms, m->threshold);
        }
        free(order);
    }
    free(img);
    free(q);
    free(score);
    sngi_gallery_free(gal);
    return finish(err, "identify", ctx, st, m);
}

int sngi_cmd_ckpt(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] = "Usage: sngraph ckpt info CHECKPOINT\n"
                               "Lists a checkpoint: model, step, metrics, parameters.\n";
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(help, out);
        return SNG_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "info")) {
        fputs(help, err);
        return SNG_EXIT_USAGE;
    }
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_ckpt *c;
    sng_status st = sngi_ckpt_read(ctx, argv[2], &c);
    if (st) {
        int rc = sngi_cli_report(err, "ckpt", ctx, st);
        sng_ctx_free(ctx);
        return rc;
    }
    fprintf(out, "%s: %d entries\n", argv[2], c->n);
    fprintf(out, "manifest: %s", (const char *)sngi_ckpt_entry(c, "manifest.json", NULL));
    for (int i = 0; i < c->n; i++) fprintf(out, "  %-60s %12zu bytes\n", c->names[i], c->sizes[i]);
    sngi_ckpt_free(c);
    sng_ctx_free(ctx);
    return SNG_EXIT_OK;
}
