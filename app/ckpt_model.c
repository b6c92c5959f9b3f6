/*
 * ckpt_model.c — a checkpoint's model with its recorded settings (see ckpt_model.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ckpt_model.h"

sng_status sngi_settings_overrides(sng_ctx *ctx, const sng_graph *g, char **out, size_t *n) {
    *out = NULL;
    *n = 0;
    FILE *f = open_memstream(out, n);
    if (!f) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->cfg.n; i++) {
        if (strcmp(g->cfg.files[i], "--set") != 0) continue;
        fprintf(f, "%s=", g->cfg.kv[i].key);
        for (const char *p = g->cfg.kv[i].val; *p; p++) {
            if (*p == '\\') fputs("\\\\", f);
            else if (*p == '\n') fputs("\\n", f);
            else fputc(*p, f);
        }
        fputc('\n', f);
    }
    if (fclose(f)) {
        free(*out);
        *out = NULL;
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    return SNG_OK;
}

/* Applies settings.txt text (len bytes) to g. */
static sng_status apply(sng_ctx *ctx, sng_graph *g, const char *text, size_t len,
                        const char *path) {
    char *buf = malloc(len + 1);
    if (!buf) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st = SNG_OK;
    int line = 0;
    for (size_t i = 0; i < len && !st; line++) {
        size_t j = i, k = 0;
        while (j < len && text[j] != '\n') {
            char ch = text[j++];
            if (ch == '\\' && j < len) ch = text[j++] == 'n' ? '\n' : text[j - 1];
            buf[k++] = ch;
        }
        buf[k] = 0;
        i = j + 1;
        char *eq = strchr(buf, '=');
        if (!eq || eq == buf) {
            st = sngi_fail(ctx, SNG_ERR_DATA, "%s:settings.txt:%d: not KEY=VALUE", path, line + 1);
            break;
        }
        *eq = 0;
        st = sngi_cfg_set(ctx, g, buf, eq + 1);
    }
    free(buf);
    return st;
}

sng_status sngi_ckpt_graph(sng_ctx *ctx, const sngi_ckpt *c, const char *path, sng_graph **out) {
    *out = NULL;
    size_t len, slen;
    const char *xml = sngi_ckpt_entry(c, "model.xml", &len);
    if (!xml) return sngi_fail(ctx, SNG_ERR_DATA, "%s: no model.xml in the checkpoint", path);
    char *name = malloc(strlen(path) + 16);
    if (!name) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    sprintf(name, "%s:model.xml", path);
    sng_graph *g = NULL;
    sng_status st = sng_graph_load_string(ctx, xml, len, name, NULL, &g);
    free(name);
    /* Checkpoints written before settings.txt have none: the model's own settings hold. */
    const char *set = st ? NULL : sngi_ckpt_entry(c, "settings.txt", &slen);
    if (set) st = apply(ctx, g, set, slen, path);
    if (st) {
        sng_graph_free(g);
        return st;
    }
    *out = g;
    return SNG_OK;
}
