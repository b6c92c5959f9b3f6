/*
 * settings.h — the one table of run settings (train.*, data.*, eval.*): name, type, default,
 * range and a line of documentation. Every reader goes through it, so a key has one default
 * and one range wherever it is read, `sngraph settings` prints it, and a key that is not in it
 * is reported with the closest known key.
 */
#ifndef SNG_SETTINGS_H
#define SNG_SETTINGS_H

#include "engine/sng_int.h"

typedef enum { SNGI_SET_INT, SNGI_SET_REAL, SNGI_SET_TEXT, SNGI_SET_CHOICE } sngi_set_type;

typedef struct sngi_setting_def {
    const char *key;
    sngi_set_type type;
    const char *def;      /* default as text; NULL: unset (TEXT) or depends on another key */
    double lo, hi;        /* INT and REAL: the accepted range */
    const char *choices;  /* CHOICE: "a|b|c" */
    const char *doc;      /* one line */
} sngi_setting_def;

/* The table, in documentation order; *n receives its length. Static storage. */
const sngi_setting_def *sngi_settings(int *n);
/* The definition of key, or NULL. */
const sngi_setting_def *sngi_setting_find(const char *key);

/* Typed readers: the value from g (model or --set) or the table's default, checked against the
 * table's type and range; a bad value names the file and line where it was written. Reading a
 * key that is not in the table, or of another type, is a programming error (SNG_ERR_INTERNAL).
 * The *_or forms give the default for keys whose default depends on another setting. */
sng_status sngi_setting_int(sng_ctx *ctx, sng_graph *g, const char *key, long *out);
sng_status sngi_setting_double(sng_ctx *ctx, sng_graph *g, const char *key, double *out);
sng_status sngi_setting_double_or(sng_ctx *ctx, sng_graph *g, const char *key, double def,
                                  double *out);
/* TEXT: the value, or the default (may be NULL); an empty value counts as unset. *out borrows
 * from g or the table. */
sng_status sngi_setting_text(sng_ctx *ctx, sng_graph *g, const char *key, const char **out);
/* CHOICE: *out = the index of the value among the table's choices. */
sng_status sngi_setting_choice(sng_ctx *ctx, sng_graph *g, const char *key, int *out);

/* Every setting of g must be in the table; the first that is not is reported where it was
 * written, with the closest known key when one is near. */
sng_status sngi_settings_check(sng_ctx *ctx, const sng_graph *g);

#endif
