/*
 * preprocess.c — decode, convert, normalise (see preprocess.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/preprocess.h"
#include "app/settings.h"
#include "loaders/loader.h"
#include "loaders/loader_int.h"

sng_status sngi_prep_from_graph(sng_ctx *ctx, sng_graph *g, int img_node, sngi_prep *p) {
    const sngi_node *n = &g->nodes[img_node];
    if (n->shape.nd != 3)
        return sngi_fail(ctx, SNG_ERR_MODEL, "%s: image input '%s' must be (C,H,W)", g->file,
                         n->name);
    p->c = (int)n->shape.d[0];
    p->h = (int)n->shape.d[1];
    p->w = (int)n->shape.d[2];
    double v;
    sng_status st;
    if ((st = sngi_setting_double(ctx, g, "data.scale", &v))) return st;
    p->scale = (float)v;
    if ((st = sngi_setting_double(ctx, g, "data.mean", &v))) return st;
    p->mean = (float)v;
    if ((st = sngi_setting_double(ctx, g, "data.std", &v))) return st;
    p->std = (float)v;
    return SNG_OK;
}

sng_status sngi_prep_decode(sng_ctx *ctx, const sngi_prep *p, const char *label,
                            const uint8_t *buf, size_t n, int no_resize, float *dst) {
    sngi_image img = {0};
    char why[256] = "";
    sng_status s = sngi_decode_image(buf, n, &img, why, sizeof why);
    if (s) return sngi_fail(ctx, s, "%s: cannot decode the image: %s", label, why);
    if (no_resize && (img.c != p->c || img.h != p->h || img.w != p->w)) {
        free(img.pix);
        return sngi_fail(ctx, SNG_ERR_DATA,
                         "%s: image is %dx%dx%d (CxHxW) but the model takes %dx%dx%d "
                         "(drop --no-resize to convert and resize)",
                         label, img.c, img.h, img.w, p->c, p->h, p->w);
    }
    uint8_t *planar = malloc((size_t)p->c * p->h * p->w);
    if (!planar) {
        free(img.pix);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    s = sngi_image_convert(img.pix, img.c, img.h, img.w, planar, p->c, p->h, p->w);
    free(img.pix);
    /* The same packing as training batches without augmentation (loaders/augment.c). */
    if (!s) sngi_augment_pack(planar, p->c, p->h, p->w, NULL, 0, p->scale, p->mean, p->std, dst);
    free(planar);
    return s ? sngi_fail(ctx, s, "%s: cannot convert the image", label) : SNG_OK;
}

sng_status sngi_read_image_file(sng_ctx *ctx, const char *path, uint8_t **buf, size_t *n) {
    *buf = NULL;
    *n = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    FILE *f = NULL;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > SNGI_MAX_IMAGE_FILE ||
        !(f = fdopen(fd, "rb"))) {
        close(fd);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: not a regular file of at most 256 MiB", path);
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *b = malloc(len ? len : 1);
    if (!b) {
        fclose(f);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    size_t got = fread(b, 1, len, f);
    int bad = got != len || ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: read error", path);
    }
    *buf = b;
    *n = len;
    return SNG_OK;
}
