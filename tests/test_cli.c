/*
 * test_cli.c — the option parser (cli/args.c) and the conventions every command shares through
 * it: `--x v` and `--x=v`, one range per option, usage errors with exit status 2, generated
 * --help, unknown --set keys named with the closest one; and doc/model-format.md's settings
 * table kept equal to the settings table (app/settings.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "harness.h"

/* ---- the parser -------------------------------------------------------------------------------- */
typedef struct parsed {
    long n;
    double x;
    const char *name;
    int flag, mode;
    sngi_sets sets;
    const char *pos[4];
    int n_pos;
    char err[4096], out[8192];
} parsed;

/* Parses the space-separated cmdline (argv[0] "demo") into p; returns the parser's result. */
static int parse(parsed *p, const char *cmdline) {
    static char copy[1024];
    char *argv[32];
    int argc = 0;
    memset(p, 0, sizeof *p);
    snprintf(copy, sizeof copy, "demo %s", cmdline);
    for (char *t = strtok(copy, " "); t && argc < 31; t = strtok(NULL, " ")) argv[argc++] = t;
    const sngi_arg opts[] = {
        {"--count", "-n", SNGI_ARG_INT, &p->n, 1, 10, NULL, "N", "how many", NULL},
        {"--ratio", NULL, SNGI_ARG_REAL, &p->x, 0, 1, NULL, NULL, "a fraction", NULL},
        {"--name", NULL, SNGI_ARG_TEXT, &p->name, 0, 0, NULL, "NAME", "a name", NULL},
        {"--flag", NULL, SNGI_ARG_FLAG, &p->flag, 0, 0, NULL, NULL, "a flag", NULL},
        {"--mode", NULL, SNGI_ARG_CHOICE, &p->mode, 0, 0, NULL, NULL,
         "a choice, with a long doc that the generated help must wrap before the hundredth "
         "column so that it stays readable in a terminal", "fp32|bf16|auto"},
        SNGI_ARG_SET(&p->sets),
        SNGI_ARG_END,
    };
    FILE *out = fmemopen(p->out, sizeof p->out - 1, "w");
    FILE *err = fmemopen(p->err, sizeof p->err - 1, "w");
    int rc = sngi_args_parse(argc, argv, opts, p->pos, 0, 4, &p->n_pos,
                             "Usage: demo [options] ARG...\n", out, err);
    fclose(out);
    fclose(err);
    return rc;
}

static void test_args_forms(void) {
    parsed p;
    CU_ASSERT_EQUAL(parse(&p, "--count 3 --ratio=0.25 --name=a=b -n 4 --flag x y"), 0);
    CU_ASSERT_EQUAL(p.n, 4); /* the last one wins */
    CU_ASSERT_DOUBLE_EQUAL(p.x, 0.25, 0);
    CU_ASSERT_STRING_EQUAL(p.name, "a=b");
    CU_ASSERT_EQUAL(p.flag, 1);
    CU_ASSERT_EQUAL(p.n_pos, 2);
    CU_ASSERT_EQUAL(parse(&p, "--count=7"), 0);
    CU_ASSERT_EQUAL(p.n, 7);
    CU_ASSERT_EQUAL(parse(&p, "--set train.batch=8 --set=data.std=2"), 0);
    CU_ASSERT_EQUAL(p.sets.n, 2);
    CU_ASSERT_STRING_EQUAL(p.sets.set[0].key, "train.batch");
    CU_ASSERT_STRING_EQUAL(p.sets.set[1].value, "2");
    /* `--` ends the options: what follows is positional, even --help */
    CU_ASSERT_EQUAL(parse(&p, "a -- --count --help -"), 0);
    CU_ASSERT_EQUAL(p.n_pos, 4);
    CU_ASSERT_STRING_EQUAL(p.pos[1], "--count");
    CU_ASSERT_STRING_EQUAL(p.pos[3], "-");
}

static void test_args_choice(void) {
    parsed p;
    CU_ASSERT_EQUAL(parse(&p, "--mode bf16"), 0);
    CU_ASSERT_EQUAL(p.mode, 1);
    CU_ASSERT_EQUAL(parse(&p, "--mode=auto"), 0);
    CU_ASSERT_EQUAL(p.mode, 2);
    CU_ASSERT_EQUAL(parse(&p, "--mode fp32"), 0);
    CU_ASSERT_EQUAL(p.mode, 0);
    CU_ASSERT_EQUAL(parse(&p, "--mode fp16"), SNG_EXIT_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.err, "--mode expects one of fp32|bf16|auto"));
    CU_ASSERT_EQUAL(parse(&p, "--mode=bf"), SNG_EXIT_USAGE);
}

static void test_args_errors(void) {
    static const struct { const char *cmdline, *msg; } bad[] = {
        {"--count 11", "--count expects an integer in [1, 10]"},
        {"--count=0", "--count expects an integer in [1, 10]"},
        {"--count 3x", "--count expects an integer in [1, 10]"},
        {"--ratio 1.5", "--ratio expects a number in [0, 1]"},
        {"--ratio nan", "--ratio expects a number in [0, 1]"},
        {"--bogus", "unknown option '--bogus'"},
        {"--bogus=1", "unknown option '--bogus'"},
        {"-z", "unknown option '-z'"},
        {"--flag=1", "--flag takes no value"},
        {"--count", "--count needs a value"},
        {"--set novalue", "expected KEY=VALUE"},
        {"--set =v", "expected KEY=VALUE"},
        {"a b c d e", "unexpected argument 'e'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parsed p;
        int rc = parse(&p, bad[i].cmdline);
        if (rc != SNG_EXIT_USAGE || !strstr(p.err, bad[i].msg) || !strstr(p.err, "Usage: demo"))
            fprintf(stderr, "\n  '%s': exit %d, %s", bad[i].cmdline, rc, p.err);
        CU_ASSERT_EQUAL(rc, SNG_EXIT_USAGE);
        CU_ASSERT_PTR_NOT_NULL(strstr(p.err, bad[i].msg));
        CU_ASSERT_PTR_NOT_NULL(strstr(p.err, "sngraph demo: "));
    }
}

/* Every line of text at most 100 columns. */
static int fits(const char *text) {
    for (const char *l = text; *l;) {
        size_t n = strcspn(l, "\n");
        if (n > 100) {
            fprintf(stderr, "\n  over 100 columns: %.*s", (int)n, l);
            return 0;
        }
        l += n + (l[n] == '\n');
    }
    return 1;
}

static void test_args_help(void) {
    parsed p;
    CU_ASSERT_EQUAL(parse(&p, "--count 3 --help"), -1);
    static const char head[] = "Usage: demo [options] ARG...\n\nOptions:\n";
    CU_ASSERT_EQUAL(strncmp(p.out, head, strlen(head)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.out, "  -n, --count N           how many [1, 10]\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.out, "  --mode fp32|bf16|auto   a choice"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.out, "  --flag                  a flag\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.out, "  --set KEY=VALUE  "));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.out, "  -h, --help              print this help\n"));
    /* a long doc goes on under its own column */
    CU_ASSERT_PTR_NOT_NULL(strstr(p.out, "\n                          hundredth column"));
    CU_ASSERT(fits(p.out));
}

/* ---- every command ----------------------------------------------------------------------------- */
static const char *const commands[] = {"run", "eval", "compare", "embed", "gallery", "identify",
                                       "ckpt", "check", "dot", "ops", "plan", "gradcheck",
                                       "bench", "data", "settings", "calibrate"};

static void test_cli_help_generated(void) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "%s --help", commands[i]);
        CU_ASSERT_EQUAL(sngt_cli(cmd), 0);
        const char *o = sngt_out();
        if (!strstr(o, "\nOptions:\n") || !strstr(o, "print this help"))
            fprintf(stderr, "\n  %s: no generated options section", cmd);
        CU_ASSERT_PTR_NOT_NULL(strstr(o, "Usage: sngraph "));
        CU_ASSERT_PTR_NOT_NULL(strstr(o, "\nOptions:\n"));
        CU_ASSERT(fits(o));
    }
    CU_ASSERT_EQUAL(sngt_cli("run --help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "`sngraph settings`"));
}

/* One --threads range everywhere: each command whose help lists --threads refuses 100000, in
 * both forms, before it reads anything. */
static void test_cli_threads_one_range(void) {
    int n_with = 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        CU_ASSERT_EQUAL(sngt_cli_fmt("%s --help", commands[i]), 0);
        if (!strstr(sngt_out(), "  --threads T ")) continue;
        n_with++;
        for (int form = 0; form < 2; form++) {
            char cmd[128];
            snprintf(cmd, sizeof cmd, "%s%s --threads%s100000 x", commands[i],
                     strcmp(commands[i], "gallery") ? "" : " add", form ? "=" : " ");
            int rc = sngt_cli(cmd);
            if (rc != 2 || !strstr(sngt_err(), "--threads expects an integer in [0, 1024]"))
                fprintf(stderr, "\n  '%s': exit %d: %.200s", cmd, rc, sngt_err());
            CU_ASSERT_EQUAL(rc, 2);
            CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "--threads expects an integer in [0, 1024]"));
        }
    }
    /* run eval compare embed gallery identify plan gradcheck bench calibrate */
    CU_ASSERT_EQUAL(n_with, 10);
    /* and the same --batch range */
    static const char *const with_batch[] = {"embed", "plan m.xml", "gradcheck m.xml",
                                             "bench m.xml", "gallery add"};
    for (size_t i = 0; i < sizeof with_batch / sizeof with_batch[0]; i++) {
        CU_ASSERT_EQUAL(sngt_cli_fmt("%s --batch=65537", with_batch[i]), 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "--batch expects an integer in [1, 65536]"));
    }
}

static void test_cli_usage_errors(void) {
    static const char *const bad[] = {
        "check --json=1 m.xml", "eval --json=yes --ckpt c", "settings --json=1",
        "settings --markdown=1", "plan --train=1 m.xml", "bench --frob m.xml", "data --strict=1 x",
        "ops extra", "ops --x", "ckpt list c.tar", "ckpt info", "gradcheck --eps=0 m.xml",
        "gradcheck --tol -1 m.xml", "data --depth 17 x", "data --max=0 x", "bench --steps 0 m.xml",
        "plan --max-memory 12Q m.xml", "plan --train --infer m.xml", "settings --json --markdown",
        "check", "run", "gradcheck", "plan", "bench", "data", "eval"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sngt_cli(bad[i]);
        if (rc != 2 || !strstr(sngt_err(), "Usage: sngraph"))
            fprintf(stderr, "\n  '%s': exit %d: %.200s", bad[i], rc, sngt_err());
        CU_ASSERT_EQUAL(rc, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "Usage: sngraph"));
    }
    CU_ASSERT_EQUAL(sngt_cli("check --json=1 m.xml"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "--json takes no value"));
}

/* Every command that takes --set names the closest key for a misspelt one. */
static void test_cli_set_unknown_key(void) {
    setenv("SNG_MODEL_DIR", sngt_models_dir(), 1);
    char cmd[PATH_MAX + 128];
    static const char *const with_set[] = {"check", "dot", "plan", "bench --steps 1 --batch 1",
                                           "gradcheck", "data", "run --run-dir RUN"};
    for (size_t i = 0; i < sizeof with_set / sizeof with_set[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s --set=train.bacth=8 siamese_small", with_set[i]);
        char *run = strstr(cmd, "RUN");
        if (run) {
            char tail[128];
            snprintf(tail, sizeof tail, "%s", run + 3);
            snprintf(run, sizeof cmd - (size_t)(run - cmd), "%s/run_unknown_key%s", sngt_tmpdir(),
                     tail);
        }
        int rc = sngt_cli(cmd);
        if (rc != 1 || !strstr(sngt_err(), "did you mean 'train.batch'"))
            fprintf(stderr, "\n  '%s': exit %d: %.200s", cmd, rc, sngt_err());
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "unknown setting 'train.bacth' (did you mean "
                                                  "'train.batch'?)"));
    }
    CU_ASSERT_EQUAL(sngt_cli("check --set data.std=2 siamese_small"), 0);
}

/* ---- the settings table and its documentation ------------------------------------------------- */
typedef struct rows {
    char *text;  /* owned */
    char *line[256];
    int n;
} rows;

/* The rows "| `key` | ..." of a Markdown table in text from `from` on, up to the next "## ". */
static void table_rows(rows *r, const char *text, const char *from) {
    memset(r, 0, sizeof *r);
    const char *s = from ? strstr(text, from) : text;
    if (!s) return;
    const char *end = strstr(s + 1, "\n## ");
    size_t n = end ? (size_t)(end - s) : strlen(s);
    r->text = strndup(s, n);
    for (char *save = NULL, *l = strtok_r(r->text, "\n", &save); l && r->n < 256;
         l = strtok_r(NULL, "\n", &save))
        if (!strncmp(l, "| `", 3)) r->line[r->n++] = l;
}

static const char *row_key(const char *line, char *key, size_t n) {
    const char *e = strchr(line + 3, '`');
    snprintf(key, n, "%.*s", e ? (int)(e - line - 3) : 0, line + 3);
    return key;
}

/* The row of key in r, or NULL. */
static const char *find_row(const rows *r, const char *key) {
    char k[128];
    for (int i = 0; i < r->n; i++)
        if (!strcmp(row_key(r->line[i], k, sizeof k), key)) return r->line[i];
    return NULL;
}

static void test_settings_doc_table(void) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/../doc/model-format.md", sngt_srcdir());
    char *doc = sngt_read_text(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL_FATAL(sngt_cli("settings --markdown"), 0);
    rows want, have;
    table_rows(&want, sngt_out(), NULL);
    table_rows(&have, doc, "## Run settings");
    CU_ASSERT(want.n > 40);
    char k[128];
    int bad = 0;
    for (int i = 0; i < want.n; i++) {
        const char *d = find_row(&have, row_key(want.line[i], k, sizeof k));
        if (!d) fprintf(stderr, "\n  doc/model-format.md lacks setting '%s'", k), bad++;
        else if (strcmp(d, want.line[i]))
            fprintf(stderr, "\n  doc/model-format.md: setting '%s' differs:\n    doc:   %s\n    table: %s",
                    k, d, want.line[i]), bad++;
    }
    for (int i = 0; i < have.n; i++)
        if (!find_row(&want, row_key(have.line[i], k, sizeof k)))
            fprintf(stderr, "\n  doc/model-format.md documents '%s', which is not a setting", k),
                bad++;
    if (bad) fprintf(stderr, "\n  (regenerate the table with `sngraph settings --markdown`)");
    CU_ASSERT_EQUAL(bad, 0);
    /* The other forms list every key too. */
    CU_ASSERT_EQUAL(sngt_cli("settings"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "train.batch"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "eval.episodes"));
    CU_ASSERT_EQUAL(sngt_cli("settings --json"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "{\"key\":\"train.optimizer\",\"type\":\"choice\","
                                              "\"default\":\"sgd\",\"choices\":\"sgd|adam|adamw\""));
    free(want.text);
    free(have.text);
    free(doc);
}

static CU_TestInfo tests[] = {
    {"args_forms", test_args_forms},
    {"args_choice", test_args_choice},
    {"args_errors", test_args_errors},
    {"args_help", test_args_help},
    {"help_generated", test_cli_help_generated},
    {"threads_one_range", test_cli_threads_one_range},
    {"usage_errors", test_cli_usage_errors},
    {"set_unknown_key", test_cli_set_unknown_key},
    {"settings_doc_table", test_settings_doc_table},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {{"cli", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
