/*
 * cmd_settings.c — `sngraph settings`: the run settings table (app/settings.c) as text, JSON
 * or the Markdown table of doc/model-format.md, which a test keeps equal to it.
 */
#include "config.h"

#include <string.h>

#include "args.h"
#include "cli.h"
#include "app/settings.h"

static const char *type_name[] = {"int", "real", "text", "choice"};

/* The accepted values: "[lo, hi]", the choices joined by sep, or "" for text. */
static void range(char *b, size_t n, const sngi_setting_def *d, const char *sep) {
    char lo[32], hi[32];
    *b = 0;
    if (d->type == SNGI_SET_CHOICE) {
        size_t k = 0;
        for (const char *c = d->choices; *c && k + 8 < n; c++) {
            if (*c == '|') k += (size_t)snprintf(b + k, n - k, "%s", sep);
            else b[k++] = *c, b[k] = 0;
        }
    } else if (d->type != SNGI_SET_TEXT) {
        sngi_args_bound(lo, sizeof lo, d->type == SNGI_SET_INT, d->lo);
        sngi_args_bound(hi, sizeof hi, d->type == SNGI_SET_INT, d->hi);
        snprintf(b, n, "[%s, %s]", lo, hi);
    }
}

static void print_json(FILE *out, const sngi_setting_def *t, int n) {
    fputs("[", out);
    for (int i = 0; i < n; i++) {
        fprintf(out, "%s\n{\"key\":", i ? "," : "");
        sngi_json_str(out, t[i].key);
        fprintf(out, ",\"type\":\"%s\",\"default\":", type_name[t[i].type]);
        if (t[i].def) sngi_json_str(out, t[i].def);
        else fputs("null", out);
        if (t[i].type == SNGI_SET_INT || t[i].type == SNGI_SET_REAL)
            fprintf(out, ",\"min\":%.17g,\"max\":%.17g", t[i].lo, t[i].hi);
        if (t[i].type == SNGI_SET_CHOICE) {
            fputs(",\"choices\":", out);
            sngi_json_str(out, t[i].choices);
        }
        fputs(",\"doc\":", out);
        sngi_json_str(out, t[i].doc);
        fputs("}", out);
    }
    fputs("\n]\n", out);
}

static void print_markdown(FILE *out, const sngi_setting_def *t, int n) {
    char r[256];
    fputs("| key | type | default | accepted | meaning |\n|---|---|---|---|---|\n", out);
    for (int i = 0; i < n; i++) {
        range(r, sizeof r, &t[i], "`, `");
        fprintf(out, "| `%s` | %s | %s%s%s | %s%s%s | %s |\n", t[i].key, type_name[t[i].type],
                t[i].def ? "`" : "", t[i].def ? t[i].def : "—", t[i].def ? "`" : "",
                t[i].type == SNGI_SET_CHOICE ? "`" : "", r,
                t[i].type == SNGI_SET_CHOICE ? "`" : "", t[i].doc);
    }
}

int sngi_cmd_settings(int argc, char **argv, FILE *out, FILE *err) {
    static const char help[] =
        "Usage: sngraph settings [--json|--markdown]\n"
        "Lists the run settings (train.*, data.*, eval.*) that a model's <train>, <data> and\n"
        "<eval> sections and --set may give: key, type, default, accepted values and meaning.\n"
        "A default of '-' depends on other settings (see the meaning) or means unset.\n";
    int json = 0, markdown = 0;
    const sngi_arg opts[] = {
        SNGI_ARG_JSON(&json),
        {"--markdown", NULL, SNGI_ARG_FLAG, &markdown, 0, 0, NULL, NULL,
         "print the Markdown table of doc/model-format.md", NULL},
        SNGI_ARG_END,
    };
    int rc = sngi_args_parse(argc, argv, opts, NULL, 0, 0, NULL, help, out, err);
    if (rc) return rc < 0 ? SNG_EXIT_OK : rc;
    if (json && markdown)
        return sngi_args_usage(err, "settings", help, opts,
                               "--json and --markdown exclude each other");
    int n;
    const sngi_setting_def *t = sngi_settings(&n);
    if (json) {
        print_json(out, t, n);
    } else if (markdown) {
        print_markdown(out, t, n);
    } else {
        char r[256];
        fprintf(out, "%-22s %-6s %-19s %-20s %s\n", "key", "type", "default", "accepted",
                "meaning");
        for (int i = 0; i < n; i++) {
            range(r, sizeof r, &t[i], "|");
            fprintf(out, "%-22s %-6s %-19s %-20s %s\n", t[i].key, type_name[t[i].type],
                    t[i].def ? t[i].def : "-", r, t[i].doc);
        }
    }
    return SNG_EXIT_OK;
}
