/*
 * ckpt_model.h — the model a checkpoint was trained as: its model.xml with the settings that
 * were given on the command line (`--set`), which the checkpoint records in settings.txt. The
 * data settings among them decide how images are preprocessed when the model serves.
 */
#ifndef SNG_CKPT_MODEL_H
#define SNG_CKPT_MODEL_H

#include "app/ckpt.h"

/* The --set overrides of g as settings.txt text: one KEY=VALUE per line, with '\\' and newline
 * escaped as \\\\ and \\n. *out (length *n) is owned by the caller (free); NULL with *n = 0
 * when there are none. */
sng_status sngi_settings_overrides(sng_ctx *ctx, const sng_graph *g, char **out, size_t *n);
/* Compiles checkpoint c's model (read from `path`, named in messages) and applies its recorded
 * settings. *out is owned by the caller (sng_graph_free). */
sng_status sngi_ckpt_graph(sng_ctx *ctx, const sngi_ckpt *c, const char *path, sng_graph **out);

#endif
