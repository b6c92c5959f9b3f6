/*
 * describe.c — what a dataset holds, for `sngraph data`: layout, groups, classes, images per
 * class (min/median/max), the stored shape and memory, the source images' sizes and modes, and
 * every skipped entry with its reason. Text for people, JSON (--json) for scripts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/loader_int.h"

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static char *commas(int64_t v, char *buf, size_t n) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
    size_t len = strlen(tmp), k = 0;
    if (v < 0 && k + 1 < n) buf[k++] = '-';
    for (size_t i = 0; i < len && k + 1 < n; i++) {
        if (i && (len - i) % 3 == 0 && k + 1 < n) buf[k++] = ',';
        buf[k++] = tmp[i];
    }
    buf[k] = 0;
    return buf;
}

static int int_cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* min / median / max of the images per class (median of an even count: the lower middle). */
static void per_class(const sngi_dataset *d, int *mn, int *md, int *mx) {
    *mn = *md = *mx = 0;
    if (!d->n_classes) return;
    int *c = malloc(sizeof(int) * (size_t)d->n_classes);
    if (!c) return;
    memcpy(c, d->class_count, sizeof(int) * (size_t)d->n_classes);
    qsort(c, (size_t)d->n_classes, sizeof(int), int_cmp);
    *mn = c[0];
    *md = c[(d->n_classes - 1) / 2];
    *mx = c[d->n_classes - 1];
    free(c);
}

static int group_classes(const sngi_dataset *d, int g) {
    int n = 0;
    for (int c = 0; c < d->n_classes; c++) n += d->class_group[c] == g;
    return n;
}

static void describe_json(const sngi_dataset *d, FILE *out) {
    int mn, md, mx;
    per_class(d, &mn, &md, &mx);
    fputs("{\"source\": ", out);
    json_str(out, d->source);
    fputs(", \"kind\": ", out);
    json_str(out, d->kind);
    fputs(", \"prefix\": ", out);
    json_str(out, d->prefix ? d->prefix : "");
    fprintf(out, ", \"class_depth\": %d, \"n_groups\": %d, \"n_classes\": %d, \"n_images\": %d,"
            " \"images_per_class\": {\"min\": %d, \"median\": %d, \"max\": %d},"
            " \"stored\": {\"channels\": %d, \"height\": %d, \"width\": %d, \"dtype\": \"uint8\","
            " \"pixel_bytes\": %lld, \"total_bytes\": %lld}, \"n_pairs\": %d,",
            d->class_depth, d->n_groups, d->n_classes, d->n_images, mn, md, mx, d->c, d->h, d->w,
            (long long)sngi_dataset_pixel_bytes(d), (long long)sngi_dataset_total_bytes(d),
            d->n_pairs);
    fputs(" \"source_images\": [", out);
    for (int i = 0; i < d->n_native; i++) {
        const sngi_native *n = &d->native[i];
        fprintf(out, "%s{\"format\": \"%s\", \"mode\": \"%s\", \"bits\": %d, \"width\": %d, "
                "\"height\": %d, \"count\": %d}", i ? ", " : "", n->format, n->mode, n->bits,
                n->w, n->h, n->count);
    }
    fputs("], \"groups\": [", out);
    for (int g = 0; g < d->n_groups; g++) {
        fputs(g ? ", {\"name\": " : "{\"name\": ", out);
        json_str(out, d->group_name[g]);
        fprintf(out, ", \"classes\": %d}", group_classes(d, g));
    }
    fputs("], \"classes\": [", out);
    for (int c = 0; c < d->n_classes; c++) {
        fputs(c ? ", {\"name\": " : "{\"name\": ", out);
        json_str(out, d->class_name[c]);
        fprintf(out, ", \"group\": %d, \"images\": %d}", d->class_group[c], d->class_count[c]);
    }
    fputs("], \"skipped\": [", out);
    for (int i = 0; i < d->n_skips; i++) {
        fputs(i ? ", {\"entry\": " : "{\"entry\": ", out);
        json_str(out, d->skips[i].entry);
        fputs(", \"reason\": ", out);
        json_str(out, d->skips[i].reason);
        fputc('}', out);
    }
    fputs("]}\n", out);
}

void sngi_data_describe(const sngi_dataset *d, FILE *out, int json) {
    if (json) {
        describe_json(d, out);
        return;
    }
    char b1[32], b2[32], b3[32];
    int mn, md, mx;
    per_class(d, &mn, &md, &mx);
    fprintf(out, "source:    %s (%s)\n", d->source, d->kind);
    if (d->prefix && d->prefix[0]) fprintf(out, "prefix:    %s/\n", d->prefix);
    int has_groups = d->n_groups < d->n_classes;
    fprintf(out, "layout:    class depth %d (%s)\n", d->class_depth,
            has_groups ? "group/class: e.g. alphabet/character" : "one folder per class");
    if (has_groups) fprintf(out, "groups:    %d\n", d->n_groups);
    fprintf(out, "classes:   %s\n", commas(d->n_classes, b1, sizeof b1));
    fprintf(out, "images:    %s\n", commas(d->n_images, b1, sizeof b1));
    fprintf(out, "per class: min %d, median %d, max %d\n", mn, md, mx);
    fprintf(out, "stored:    %dx%dx%d uint8 (C,H,W), %s bytes of pixels, %s bytes in all\n", d->c,
            d->h, d->w, commas(sngi_dataset_pixel_bytes(d), b2, sizeof b2),
            commas(sngi_dataset_total_bytes(d), b3, sizeof b3));
    fprintf(out, "source images:\n");
    for (int i = 0; i < d->n_native; i++) {
        const sngi_native *n = &d->native[i];
        fprintf(out, "  %8s  %dx%d %s %d-bit %s\n", commas(n->count, b1, sizeof b1), n->w, n->h,
                n->mode, n->bits, n->format);
    }
    if (d->n_native_other)
        fprintf(out, "  %8s  of other sizes and modes\n", commas(d->n_native_other, b1, sizeof b1));
    if (has_groups && d->n_groups <= 100) {
        fprintf(out, "groups (classes each):\n");
        for (int g = 0; g < d->n_groups; g++)
            fprintf(out, "  %s (%d)\n", d->group_name[g], group_classes(d, g));
    }
    if (d->n_pairs) fprintf(out, "pairs list: %d pairs\n", d->n_pairs);
    fprintf(out, "skipped:   %d\n", d->n_skips);
    for (int i = 0; i < d->n_skips; i++)
        fprintf(out, "  %s%s%s\n", d->skips[i].entry, d->skips[i].entry[0] ? ": " : "",
                d->skips[i].reason);
}
