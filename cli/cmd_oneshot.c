/*
 * cmd_oneshot.c — one-shot use of a trained checkpoint: `compare` two images, `embed` images,
 * and the gallery (`gallery add|remove|list`, `identify`): identities enrolled from a single
 * image each, their embeddings cached in the gallery file, so adding or removing people never
 * retrains and identifying runs the branch once plus the head once per enrolled identity.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "app/ckpt.h"
#include "app/gallery.h"
#include "app/imageset.h"
#include "app/infer.h"
#include "app/verify.h"

typedef struct common {
    const char *ckpt;
    int json, no_resize, top, batch;
    long threads;
    const char *out_path;
    const char *from;  /* gallery add --from SOURCE */
    const char **pos;  /* positional arguments, pointing into argv (array: see parse_common) */
    int n_pos;
} common;

/* Which of the shared options a command takes. */
enum { O_CKPT = 1, O_OUT = 2, O_FROM = 4, O_TOP = 8, O_BATCH = 16, O_JSON = 32, O_NORESIZE = 64 };

/* Parses a one-shot command's options (those in `allowed`, plus --threads) into c. Returns
 * 1 after --help, 2 after a usage error (printed), 0 when parsed. */
static int parse_common(int argc, char **argv, FILE *out, FILE *err, const char *help,
                        int allowed, common *c) {
    memset(c, 0, sizeof *c);
    long top = 5, batch = 64;
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
    const sngi_arg all[] = {
        {"--ckpt", NULL, SNGI_ARG_TEXT, &c->ckpt, 0, 0, NULL, "CHECKPOINT",
         "the trained checkpoint (required)", NULL},
        {"--output", "-o", SNGI_ARG_TEXT, &c->out_path, 0, 0, NULL, "OUT.npy",
         "where to write the embeddings", NULL},
        {"--from", NULL, SNGI_ARG_TEXT, &c->from, 0, 0, NULL, "SOURCE",
         "enrol every image of a directory or archive", NULL},
        {"--top", NULL, SNGI_ARG_INT, &top, 1, 1 << 20, NULL, "K",
         "how many identities to list (default 5)", NULL},
        SNGI_ARG_BATCH(&batch, "images embedded at once (default 64)"),
        SNGI_ARG_JSON(&c->json),
        {"--no-resize", NULL, SNGI_ARG_FLAG, &c->no_resize, 0, 0, NULL, NULL,
         "refuse images not of the model's input size instead of resizing them", NULL},
    };
    sngi_arg opts[sizeof all / sizeof all[0] + 2];
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (allowed & (1 << i)) opts[n++] = all[i];
    opts[n++] = (sngi_arg)SNGI_ARG_THREADS(&c->threads);
    opts[n] = (sngi_arg)SNGI_ARG_END;
    int rc = sngi_args_parse(argc, argv, opts, c->pos, 0, argc, &c->n_pos, help, out, err);
    c->top = (int)top;
    c->batch = (int)batch;
    return rc < 0 ? 1 : rc ? 2 : 0;
}

static sng_status load_image(sng_ctx *ctx, const sngi_model *m, const char *path, int no_resize,
                             float *dst) {
    uint8_t *buf;
    size_t n;
    sng_status s = sngi_read_image_file(ctx, path, &buf, &n);
    if (!s) s = sngi_model_decode(m, path, buf, n, no_resize, dst);
    free(buf);
    return s;
}

static int finish(FILE *err, const char *cmd, sng_ctx *ctx, sng_status st, sngi_model *m) {
    int rc = st ? sngi_cli_report(err, cmd, ctx, st) : SNG_EXIT_OK;
    sngi_model_close(m);
    sng_ctx_free(ctx);
    return rc;
}

/* The operating point a decision uses: the threshold and, when the checkpoint records them,
 * its false accept and false reject rates where it was calibrated. */
static void oppoint_text(FILE *out, const sngi_model *m) {
    fprintf(out, "threshold %.4f", m->threshold);
    if (isfinite(m->thr_far) && isfinite(m->thr_frr))
        fprintf(out, ", FAR %.4f FRR %.4f", m->thr_far, m->thr_frr);
}

static void oppoint_json(FILE *out, const sngi_model *m) {
    if (isfinite(m->thr_far) && isfinite(m->thr_frr))
        fprintf(out, "\"far\":%.6f,\"frr\":%.6f", m->thr_far, m->thr_frr);
    else
        fprintf(out, "\"far\":null,\"frr\":null");
}

int sngi_cmd_compare(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph compare --ckpt CHECKPOINT [--json] [--no-resize] IMAGE_A IMAGE_B\n"
        "Prints the similarity of two images and 'same' or 'different' at the checkpoint's\n"
        "calibrated threshold. Images are converted and resized to the model's input unless\n"
        "--no-resize is given (then another size is an error).\n";
    common c;
    int r = parse_common(argc, argv, out, err, help,
                         O_CKPT | O_JSON | O_NORESIZE, &c);
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
        if (c.json) {
            fprintf(out, "{\"a\":");
            sngi_json_str(out, c.pos[0]);
            fprintf(out, ",\"b\":");
            sngi_json_str(out, c.pos[1]);
            fprintf(out, ",\"similarity\":%.6f,\"threshold\":%.6f,", score, m->threshold);
            oppoint_json(out, m);
            fprintf(out, ",\"same\":%s}\n", same ? "true" : "false");
        } else {
            fprintf(out, "%s %s: similarity %.4f (", c.pos[0], c.pos[1], score);
            oppoint_text(out, m);
            fprintf(out, "): %s\n", same ? "same" : "different");
        }
    }
    free(img);
    free(emb);
    return finish(err, "compare", ctx, st, m);
}

int sngi_cmd_embed(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph embed --ckpt CHECKPOINT -o OUT.npy [--batch N] [--no-resize] SOURCE...\n"
        "Writes one embedding per image as a float32 NumPy array (N, D) to OUT.npy and the\n"
        "image names, one per line in the same order, to OUT.npy.txt. A SOURCE is an image\n"
        "file, or a directory or archive (zip, tar, ...) whose images are taken in name order\n"
        "(named SOURCE:ENTRY; other files are skipped). Default batch 64.\n";
    common c;
    int r = parse_common(argc, argv, out, err, help,
                         O_CKPT | O_OUT | O_BATCH | O_NORESIZE, &c);
    if (r) return r == 1 ? SNG_EXIT_OK : SNG_EXIT_USAGE;
    if (!c.ckpt || !c.out_path || c.n_pos < 1) {
        fprintf(err, "sngraph embed: need --ckpt, -o and at least one image\n%s", help);
        return SNG_EXIT_USAGE;
    }
    sng_ctx *ctx = sngi_cli_ctx();
    sngi_model *m = NULL;
    sng_status st = sngi_model_open(ctx, c.ckpt, c.batch, 1, (int)c.threads, &m);
    sngi_imageset set = {.ctx = ctx, .m = m, .no_resize = c.no_resize};
    for (int i = 0; !st && i < c.n_pos; i++) st = sngi_imageset_add(&set, c.pos[i]);
    if (!st) st = sngi_imageset_flush(&set);
    if (!st && set.n == 0)
        st = sngi_fail(ctx, SNG_ERR_DATA, "no images found in the given sources (%d other "
                                          "files skipped: PNG, JPEG and PGM/PPM are read)",
                       set.skipped);
    if (!st) st = sngi_imageset_save(&set, c.out_path);
    if (!st) {
        double sec = set.embed_s;
        if (!st)
            fprintf(out, "%d embeddings of %lld floats -> %s (%.1f images/s at batch %d)%s\n",
                    set.n, (long long)m->emb_numel, c.out_path, set.n / (sec > 0 ? sec : 1e-9),
                    c.batch, set.skipped ? "; skipped non-image entries" : "");
    }
    sngi_imageset_free(&set);
    return finish(err, "embed", ctx, st, m);
}

/* gallery add/remove run as edits inside sngi_gallery_update, on the gallery as re-read under
 * its lock. */
typedef struct enrol {
    const char *path, *ckpt;
    const sngi_model *m;
    const char **names;
    const float *emb;
    int n, total; /* total: identities after the edit */
} enrol;

static sng_status enrol_edit(sng_ctx *ctx, sngi_gallery *gal, void *arg) {
    enrol *e = arg;
    sng_status st = sngi_gallery_bind(ctx, gal, e->m, e->path);
    for (int i = 0; !st && i < e->n; i++)
        st = sngi_gallery_add(ctx, gal, e->names[i], e->emb + (size_t)i * (size_t)gal->dim);
    e->total = gal->n;
    return st;
}

static sng_status unenrol_edit(sng_ctx *ctx, sngi_gallery *gal, void *arg) {
    enrol *e = arg;
    sng_status st = sngi_gallery_remove(ctx, gal, e->names[0]);
    e->total = gal->n;
    return st;
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
    const int allowed = O_CKPT | O_FROM | O_BATCH | O_JSON | O_NORESIZE;
    common c;
    if (argc < 2 || argv[1][0] == '-') { /* no action: the help, with its options */
        int r = parse_common(argc, argv, out, err, help, allowed, &c);
        if (r) return r == 1 ? SNG_EXIT_OK : SNG_EXIT_USAGE;
        fprintf(err, "sngraph gallery: missing the action (add, remove, list)\n%s", help);
        return SNG_EXIT_USAGE;
    }
    const char *verb = argv[1];
    int r = parse_common(argc - 1, argv + 1, out, err, help, allowed, &c);
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
        /* Every image is decoded and embedded before the gallery changes: any error leaves
         * the file as it was. */
        sngi_imageset set = {.ctx = ctx, .m = m, .no_resize = c.no_resize};
        const char **names = NULL;
        if (!st && c.from) {
            st = sngi_imageset_add(&set, c.from);
            if (!st && set.n == 0) st = sngi_fail(ctx, SNG_ERR_DATA, "%s: no images", c.from);
        }
        for (int i = 1; !st && !c.from && i + 1 < c.n_pos; i += 2) {
            int before = set.n;
            st = sngi_imageset_add(&set, c.pos[i + 1]);
            if (!st && set.n != before + 1)
                st = sngi_fail(ctx, SNG_ERR_USAGE, "%s: give one image per name (use --from for "
                                                   "a directory or archive)", c.pos[i + 1]);
        }
        if (!st) st = sngi_imageset_flush(&set);
        if (!st && !(names = calloc((size_t)set.n, sizeof *names)))
            st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        for (int i = 0; !st && i < set.n; i++) names[i] = c.from ? set.stems[i] : c.pos[1 + 2 * i];
        enrol e = {c.pos[0], c.ckpt, m, names, set.emb, set.n, 0};
        if (!st) st = sngi_gallery_update(ctx, c.pos[0], 1, enrol_edit, &e);
        if (!st && set.n == 1) fprintf(out, "enrolled '%s' (%d identities)\n", names[0], e.total);
        else if (!st) fprintf(out, "enrolled %d identities (%d in all)\n", set.n, e.total);
        sngi_imageset_free(&set);
        free(names);
    } else if (!strcmp(verb, "remove")) {
        if (c.n_pos != 2) {
            fprintf(err, "sngraph gallery remove: need GALLERY NAME\n");
            sng_ctx_free(ctx);
            return SNG_EXIT_USAGE;
        }
        enrol e = {.names = (const char **)&c.pos[1]};
        st = sngi_gallery_update(ctx, c.pos[0], 0, unenrol_edit, &e);
        if (!st) fprintf(out, "removed '%s' (%d identities)\n", c.pos[1], e.total);
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
    int r = parse_common(argc, argv, out, err, help,
                         O_CKPT | O_TOP | O_JSON | O_NORESIZE, &c);
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
    if (!st && gal->n > 0) st = sngi_gallery_bind(ctx, gal, m, c.pos[0]);
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
    int k = 0, *order = NULL;
    if (!st && !(order = malloc(sizeof(int) * (size_t)gal->n)))
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    if (!st) st = sngi_identify(m, gal, q, c.top, score, order, &k);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!st) {
        double ms = 1e3 * ((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        if (c.json) {
            fprintf(out, "{\"image\":");
            sngi_json_str(out, c.pos[1]);
            fprintf(out, ",\"threshold\":%.6f,", m->threshold);
            oppoint_json(out, m);
            fprintf(out, ",\"match\":%s,\"gallery_size\":%d,\"ms\":%.3f,\"top\":[",
                    k > 0 && score[order[0]] >= m->threshold ? "true" : "false", gal->n, ms);
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
            if (k > 0 && score[order[0]] >= m->threshold)
                fprintf(out, "decision: match '%s'", gal->names[order[0]]);
            else
                fprintf(out, "decision: no match");
            fprintf(out, " (");
            oppoint_text(out, m);
            fprintf(out, ")\n(%d identities, %.2f ms)\n", gal->n, ms);
        }
    }
    free(order);
    free(img);
    free(q);
    free(score);
    sngi_gallery_free(gal);
    return finish(err, "identify", ctx, st, m);
}
