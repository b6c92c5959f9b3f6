/*
 * test_model.c — the model compiler seen from outside: parameter counts of every shipped model
 * (tied, untied, with another backbone), golden errors of malformed models (tests/models/bad/
 * NAME.xml with the expected message in NAME.err), hostile inputs (huge, exponential, symlinks
 * out of the tree), the CLI conventions of check/dot/ops, and an allocation-failure walk over the
 * loader (every sngi_* allocation made to fail in turn; libxml2's own are not covered).
 *
 * Expected parameter counts are derived by hand below; weights are (out, in, kh, kw) plus one
 * bias per output channel or unit, pooling/flatten/absdiff/sigmoid/losses have none.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/sng_int.h"
#include "harness.h"
#include "cli/cli.h"

#define PBUF (2 * PATH_MAX + 64) /* a path built from another path */

/* ---- helpers ---------------------------------------------------------------------------------- */

/* Replaces the first occurrence of `from` in s by `to`; returns a new string (caller frees) or
 * NULL if `from` is absent. */
static char *replace1(const char *s, const char *from, const char *to) {
    const char *p = strstr(s, from);
    if (!p) return NULL;
    size_t a = (size_t)(p - s), lf = strlen(from), lt = strlen(to), ls = strlen(s);
    char *r = malloc(ls - lf + lt + 1);
    memcpy(r, s, a);
    memcpy(r + a, to, lt);
    memcpy(r + a + lt, p + lf, ls - a - lf + 1);
    return r;
}

/* Removes every occurrence of `what` from s (in place). */
static void remove_all(char *s, const char *what) {
    size_t k = strlen(what);
    if (!k) return;
    for (char *p; (p = strstr(s, what));) memmove(p, p + k, strlen(p + k) + 1);
}

/* The integer after "key": in a JSON text; -1 if absent. */
static long long json_int(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Balanced {} and [] outside strings, one top-level object. */
static int json_plausible(const char *s) {
    int depth = 0, in_str = 0, tops = 0;
    while (*s == ' ' || *s == '\n') s++;
    if (*s != '{') return 0;
    for (const char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = 0;
            continue;
        }
        if (*p == '"') in_str = 1;
        else if (*p == '{' || *p == '[') depth++;
        else if (*p == '}' || *p == ']') {
            if (--depth < 0) return 0;
            if (depth == 0) tops++;
        }
    }
    return depth == 0 && !in_str && tops == 1;
}

/* Copies the shipped backbones into <tmpdir>/<dir>/backbones/. */
static void copy_backbones(const char *dir) {
    static const char *const names[] = {"vgg16.xml", "koch2015.xml", "small.xml", NULL};
    for (int i = 0; names[i]; i++) {
        char src[PBUF], rel[PBUF];
        snprintf(src, sizeof src, "%s/backbones/%s", sngt_models_dir(), names[i]);
        snprintf(rel, sizeof rel, "%s/backbones/%s", dir, names[i]);
        char *text = sngt_read_text(src, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        sngt_write_file(rel, text);
        free(text);
    }
}

/* Runs `check --json path`; returns the exit code and the two totals. */
static int check_counts(const char *path, long long *trainable, long long *untied) {
    int rc = sngt_cli_fmt("check --json %s", path);
    if (rc != 0) fprintf(stderr, "\n  check %s: rc %d: %s\n", path, rc, sngt_err());
    *trainable = json_int(sngt_out(), "trainable_params");
    *untied = json_int(sngt_out(), "untied_trainable_params");
    return rc;
}

/* ---- expected parameter counts -----------------------------------------------------------------
 * VGG16 backbone on 1x105x105 ("same" 3x3 convs; pools 105->52->26->13->6->3):
 *   block1: 64*1*9+64 = 640;        64*64*9+64 = 36,928
 *   block2: 128*64*9+128 = 73,856;  128*128*9+128 = 147,584
 *   block3: 256*128*9+256 = 295,168; 2 x (256*256*9+256) = 2 x 590,080
 *   block4: 512*256*9+512 = 1,180,160; 2 x (512*512*9+512) = 2 x 2,359,808
 *   block5: 3 x 2,359,808
 *   total 14,713,536; features 512*3*3 = 4,608
 * Head of siamese_vgg16: fc1 4,608*512+512 = 2,359,808; logit 512+1 = 513 -> 2,360,321
 *   tied:   14,713,536 + 2,360,321 = 17,073,857
 *   untied: 2*14,713,536 + 2,360,321 = 31,787,393
 * Koch 2015 backbone on 1x105x105 (valid convs; 96 -> 48 -> 42 -> 21 -> 18 -> 9 -> 6):
 *   conv1 64*1*10*10+64 = 6,464; conv2 128*64*7*7+128 = 401,536; conv3 128*128*4*4+128 = 262,272
 *   conv4 256*128*4*4+256 = 524,544; flat 256*6*6 = 9,216; features 9,216*4,096+4,096 = 37,752,832
 *   total 38,947,648; head fc1 4,096*512+512 = 2,097,664, logit 513 -> 2,098,177
 *   tied: 38,947,648 + 2,098,177 = 41,045,825; untied: 2*38,947,648 + 2,098,177 = 79,993,473
 * Small backbone (conv 3x3 "same" 8 and 16 filters, 2x2 pools, dense 32):
 *   on 1x28x28: conv1 8*1*9+8 = 80; conv2 16*8*9+16 = 1,168; flat 16*7*7 = 784;
 *     features 784*32+32 = 25,120 -> 26,368
 *   on 1x105x105 (105 -> 52 -> 26): flat 16*26*26 = 10,816; features 10,816*32+32 = 346,144
 *     -> 80 + 1,168 + 346,144 = 347,392
 * siamese_small (small on 28x28, head fc1 32*32+32 = 1,056, logit 33 -> 1,089):
 *   tied 26,368 + 1,089 = 27,457; untied 2*26,368 + 1,089 = 53,825
 * triplet_small (three tied small backbones on 28x28, no head): 26,368; untied 3*26,368 = 79,104
 * siamese_vgg16 with backbones/small.xml (head fc1 32*512+512 = 16,896, logit 513 -> 17,409):
 *   tied 347,392 + 17,409 = 364,801; untied 2*347,392 + 17,409 = 712,193 */
#define VGG_TIED 17073857LL
#define VGG_UNTIED 31787393LL
#define KOCH_TIED 41045825LL
#define KOCH_UNTIED 79993473LL
#define SMALL105_TIED 364801LL
#define SMALL105_UNTIED 712193LL

static void test_model_params_shipped(void) {
    static const struct {
        const char *name;
        long long tied, untied;
    } m[] = {
        {"siamese_vgg16.xml", VGG_TIED, VGG_UNTIED},
        {"siamese_small.xml", 27457, 53825},
        {"triplet_small.xml", 26368, 79104},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char path[PBUF];
        snprintf(path, sizeof path, "%s/%s", sngt_models_dir(), m[i].name);
        long long t, u;
        CU_ASSERT_EQUAL(check_counts(path, &t, &u), 0);
        if (t != m[i].tied || u != m[i].untied)
            fprintf(stderr, "\n  %s: trainable %lld untied %lld, expected %lld %lld\n", m[i].name,
                    t, u, m[i].tied, m[i].untied);
        CU_ASSERT_EQUAL(t, m[i].tied);
        CU_ASSERT_EQUAL(u, m[i].untied);
    }
    /* The same through the library API, and the human-readable summary. */
    char path[PBUF];
    snprintf(path, sizeof path, "%s/siamese_vgg16.xml", sngt_models_dir());
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load(ctx, path, NULL, 0, &g), SNG_OK);
    sng_graph_stats s;
    sng_graph_stats_get(g, &s);
    CU_ASSERT_EQUAL(s.trainable, VGG_TIED);
    CU_ASSERT_EQUAL(s.untied_trainable, VGG_UNTIED);
    CU_ASSERT_EQUAL(s.non_trainable, 0);
    CU_ASSERT(s.flops_per_sample > 1e10); /* two VGG16 passes on 105x105: ~13 GFLOP */
    CU_ASSERT(s.activation_bytes > 0);
    sng_graph_free(g);
    sng_ctx_free(ctx);
    CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "17,073,857"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "31,787,393"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "right/block1_conv1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "[params 'branch']"));
}

/* siamese_vgg16 with both params="branch" removed: each instance owns its parameters. */
static void test_model_params_untied(void) {
    char src[PBUF];
    snprintf(src, sizeof src, "%s/siamese_vgg16.xml", sngt_models_dir());
    char *text = sngt_read_text(src, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *t1 = replace1(text, "in=\"img_a\" params=\"branch\"", "in=\"img_a\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t1);
    char *t2 = replace1(t1, "in=\"img_b\" params=\"branch\"", "in=\"img_b\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t2);
    CU_ASSERT_PTR_NULL(strstr(t2, "params=\"branch\"/>"));
    copy_backbones("untie");
    const char *path = sngt_write_file("untie/siamese_untied.xml", t2);
    long long t, u;
    CU_ASSERT_EQUAL(check_counts(path, &t, &u), 0);
    CU_ASSERT_EQUAL(t, VGG_UNTIED);
    CU_ASSERT_EQUAL(u, VGG_UNTIED);
    /* Nothing is tied, so the summary names no peer. */
    CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 0);
    CU_ASSERT_PTR_NULL(strstr(sngt_out(), "[params '"));
    /* Distinct scopes also untie: params="a" and params="b". */
    char *t3 = replace1(text, "in=\"img_a\" params=\"branch\"", "in=\"img_a\" params=\"a\"");
    char *t4 = replace1(t3, "in=\"img_b\" params=\"branch\"", "in=\"img_b\" params=\"b\"");
    path = sngt_write_file("untie/siamese_ab.xml", t4);
    CU_ASSERT_EQUAL(check_counts(path, &t, &u), 0);
    CU_ASSERT_EQUAL(t, VGG_UNTIED);
    free(text);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
}

/* The same model with another backbone: only the XInclude href changes. */
static void test_model_backbone_swap(void) {
    char src[PBUF];
    snprintf(src, sizeof src, "%s/siamese_vgg16.xml", sngt_models_dir());
    char *text = sngt_read_text(src, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    copy_backbones("swap");
    static const struct {
        const char *href, *file;
        long long tied, untied;
    } b[] = {
        {"backbones/koch2015.xml", "swap/siamese_koch.xml", KOCH_TIED, KOCH_UNTIED},
        {"backbones/small.xml", "swap/siamese_smallbb.xml", SMALL105_TIED, SMALL105_UNTIED},
        {"backbones/vgg16.xml", "swap/siamese_vgg16.xml", VGG_TIED, VGG_UNTIED},
    };
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        char *t = replace1(text, "backbones/vgg16.xml", b[i].href);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_EQUAL(strlen(t) - strlen(b[i].href), strlen(text) - strlen("backbones/vgg16.xml"));
        const char *path = sngt_write_file(b[i].file, t);
        long long tied, untied;
        CU_ASSERT_EQUAL(check_counts(path, &tied, &untied), 0);
        if (tied != b[i].tied || untied != b[i].untied)
            fprintf(stderr, "\n  %s: %lld / %lld, expected %lld / %lld\n", b[i].href, tied, untied,
                    b[i].tied, b[i].untied);
        CU_ASSERT_EQUAL(tied, b[i].tied);
        CU_ASSERT_EQUAL(untied, b[i].untied);
        free(t);
    }
    /* The Koch network ends in a 4096-d sigmoid embedding, so the head sees (4096). */
    CU_ASSERT_EQUAL(sngt_cli_fmt("check %s/swap/siamese_koch.xml", sngt_tmpdir()), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "(4096)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "(256,6,6)"));
    free(text);
}

/* ---- golden malformed models ------------------------------------------------------------------ */
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_model_bad_golden(void) {
    char dir[PBUF], real[PBUF];
    snprintf(dir, sizeof dir, "%s/models/bad", sngt_srcdir());
    if (!realpath(dir, real)) snprintf(real, sizeof real, "%s", dir);
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char *names[256];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 256;) {
        size_t k = strlen(e->d_name);
        if (k > 4 && strcmp(e->d_name + k - 4, ".xml") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    CU_ASSERT(n >= 15);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char xml[2 * PBUF], errf[2 * PBUF], prefix[2 * PBUF];
        snprintf(xml, sizeof xml, "%s/%s", dir, names[i]);
        snprintf(errf, sizeof errf, "%s/%s", dir, names[i]);
        memcpy(errf + strlen(errf) - 4, ".err", 4);
        char *want = sngt_read_text(errf, NULL);
        if (!want) {
            fprintf(stderr, "\n  %s: no .err file next to it\n", names[i]);
            CU_FAIL("malformed model without .err");
            bad++;
            continue;
        }
        for (size_t k = strlen(want); k && (want[k - 1] == '\n' || want[k - 1] == '\r');)
            want[--k] = 0;
        int rc = sngt_cli_fmt("check %s", xml);
        char *err = strdup(sngt_err());
        /* Strip the directory: as given, and as realpath() spells it (XIncluded files). */
        snprintf(prefix, sizeof prefix, "%s/", dir);
        remove_all(err, prefix);
        snprintf(prefix, sizeof prefix, "%s/", real);
        remove_all(err, prefix);
        int ok_rc = rc == SNG_EXIT_INPUT, ok_msg = strstr(err, want) != NULL;
        /* One message, on one line, in the FILE:LINE: error: form. */
        int ok_form = strstr(err, ": error: ") && strchr(err, '\n') == err + strlen(err) - 1;
        if (!ok_rc || !ok_msg || !ok_form) {
            fprintf(stderr, "\n  %s: exit %d (want 1)\n    want: %s\n    got:  %s", names[i], rc,
                    want, err);
            bad++;
        }
        CU_ASSERT(ok_rc);
        CU_ASSERT(ok_msg);
        CU_ASSERT(ok_form);
        CU_ASSERT_STRING_EQUAL(sngt_out(), ""); /* nothing on stdout */
        free(err);
        free(want);
    }
    if (bad) fprintf(stderr, "\n  %d of %d malformed models gave the wrong result\n", bad, n);
    for (int i = 0; i < n; i++) free(names[i]);
}

/* Hostile inputs that are generated rather than stored. */
static void test_model_bad_generated(void) {
    /* Larger than the 16 MiB limit: refused before parsing. */
    {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/huge.xml", sngt_tmpdir());
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs("<model name=\"m\">", f);
        static char blanks[1 << 16];
        memset(blanks, ' ', sizeof blanks);
        for (int i = 0; i < 17 * 16; i++) fwrite(blanks, 1, sizeof blanks, f);
        fputs("</model>", f);
        fclose(f);
        CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "huge.xml:1: error: model file larger than"));
    }
    /* Subgraphs instantiating the previous one twice, 14 levels: 2^14 copies (the model-level
     * billion laughs) must stop at the node limit, quickly. */
    {
        char *s = malloc(1 << 16);
        size_t k = (size_t)sprintf(s, "<model name=\"m\">\n<input name=\"a\" shape=\"4\"/>\n"
                                      "<subgraph name=\"s0\"><input name=\"x\"/>"
                                      "<relu name=\"r\" in=\"x\"/><relu name=\"r2\" in=\"r\"/>"
                                      "<output name=\"r2\"/></subgraph>\n");
        for (int i = 1; i < 15; i++)
            k += (size_t)sprintf(s + k,
                                 "<subgraph name=\"s%d\"><input name=\"x\"/>"
                                 "<instance name=\"p\" of=\"s%d\" in=\"x\"/>"
                                 "<instance name=\"q\" of=\"s%d\" in=\"p\"/>"
                                 "<output name=\"q\"/></subgraph>\n",
                                 i, i - 1, i - 1);
        sprintf(s + k, "<instance name=\"top\" of=\"s14\" in=\"a\"/><output name=\"top\"/>"
                       "</model>\n");
        const char *path = sngt_write_file("expo.xml", s);
        CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 1);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(sngt_err(), "expo.xml:3: error: <relu name=\"top/p/q/q/q/q/q/q/"));
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "more than 16384 nodes"));
        free(s);
    }
    /* Too many elements for schema validation (which is quadratic in libxml2). */
    {
        size_t cap = 20000 * 40 + 200, k = 0;
        char *s = malloc(cap);
        k += (size_t)sprintf(s + k, "<model name=\"m\"><input name=\"a0\" shape=\"4\"/>\n");
        for (int i = 1; i < 20000; i++)
            k += (size_t)sprintf(s + k, "<relu name=\"a%d\" in=\"a%d\"/>\n", i, i - 1);
        sprintf(s + k, "<output name=\"a19999\"/></model>\n");
        const char *path = sngt_write_file("many.xml", s);
        CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "many.xml:16384: error: <relu>: the model has "
                                                  "more than 16384 elements"));
        free(s);
    }
    /* A symlink inside the model's directory that points outside it is outside. */
    {
        const char *path = sngt_write_file(
            "sym/model.xml",
            "<model name=\"m\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
            "  <input name=\"a\" shape=\"4\"/>\n  <xi:include href=\"evil.xml\"/>\n"
            "  <output name=\"a\"/>\n</model>\n");
        char link[PATH_MAX];
        snprintf(link, sizeof link, "%s/sym/evil.xml", sngt_tmpdir());
        CU_ASSERT_EQUAL(symlink("/etc/passwd", link), 0);
        CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "model.xml:3: error: <xi:include "
                                                  "href=\"evil.xml\">: not a readable model file"));
    }
    /* Not regular files, nothing at all, NUL bytes. */
    CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", sngt_tmpdir()), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "not a regular file"));
    CU_ASSERT_EQUAL(sngt_cli("check /dev/null"), 1);
    CU_ASSERT_EQUAL(sngt_cli("check /nonexistent/model.xml"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "no such model file"));
    {
        sng_ctx *ctx = sng_ctx_new();
        sng_graph *g = (sng_graph *)1;
        static const char nul[] = "<model name=\"m\">\0<input name=\"a\" shape=\"4\"/></model>";
        CU_ASSERT_NOT_EQUAL(sng_graph_load_string(ctx, nul, sizeof nul, "nul.xml", NULL, &g),
                            SNG_OK);
        CU_ASSERT_PTR_NULL(g);
        CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "nul.xml:1: error: "));
        /* Without a base directory nothing may be included at all. */
        static const char inc[] =
            "<model xmlns:xi=\"http://www.w3.org/2001/XInclude\"><input name=\"a\" shape=\"4\"/>"
            "<xi:include href=\"/etc/hostname\"/><output name=\"a\"/></model>";
        CU_ASSERT_EQUAL(sng_graph_load_string(ctx, inc, strlen(inc), "inc.xml", NULL, &g),
                        SNG_ERR_XML);
        CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "not a readable model file"));
        sng_ctx_free(ctx);
    }
}

/* Error lines are where the element starts, even when its start tag spans several lines. */
static void test_model_error_lines(void) {
    const char *path = sngt_write_file("lines.xml",
                                       "<model name=\"m\">\n"                       /* 1 */
                                       "  <input name=\"a\" shape=\"16\"/>\n"       /* 2 */
                                       "  <dense name=\"fc\"\n"                     /* 3 */
                                       "         in=\"a\"\n"                        /* 4 */
                                       "         units=\"4\"\n"                     /* 5 */
                                       "         bogus=\"1\"/>\n"                   /* 6 */
                                       "  <output name=\"fc\"/>\n"                  /* 7 */
                                       "</model>\n");
    CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "lines.xml:3: error: <dense name=\"fc\">: unknown "
                                              "attribute 'bogus' for op 'dense'"));
    path = sngt_write_file("lines2.xml",
                           "<model name=\"m\"><input name=\"a\" shape=\"16\"/>\n"
                           "\n"
                           "<relu\n name=\"r\"\n in=\"nope\"/><output name=\"r\"/></model>\n");
    CU_ASSERT_EQUAL(sngt_cli_fmt("check %s", path), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "lines2.xml:3: error: <relu name=\"r\">: input "
                                              "'nope'"));
}

/* ---- CLI conventions ------------------------------------------------------------------------- */
static void test_model_cli_help_version(void) {
    CU_ASSERT_EQUAL(sngt_cli("--help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "Usage: sngraph"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "check"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "dot"));
    CU_ASSERT_EQUAL(sngt_cli("check --help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "Usage: sngraph check"));
    CU_ASSERT_EQUAL(sngt_cli("dot --help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "Usage: sngraph dot"));
    CU_ASSERT_EQUAL(sngt_cli("ops --help"), 0);
    CU_ASSERT_EQUAL(sngt_cli("--version"), 0);
    CU_ASSERT_EQUAL(strncmp(sngt_out(), "sngraph ", 8), 0);
    CU_ASSERT_EQUAL(sngt_cli(""), 2); /* no command */
    CU_ASSERT_EQUAL(sngt_cli("frobnicate"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "unknown command 'frobnicate'"));
    CU_ASSERT_EQUAL(sngt_cli("check"), 2); /* missing MODEL */
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "missing MODEL"));
    CU_ASSERT_EQUAL(sngt_cli("check --frob siamese_small"), 2);
    CU_ASSERT_EQUAL(sngt_cli("check siamese_small siamese_small"), 2);
    CU_ASSERT_EQUAL(sngt_cli("check --set siamese_small"), 2); /* not KEY=VALUE */
    CU_ASSERT_EQUAL(sngt_cli("dot"), 2);
}

static void test_model_cli_bare_name(void) {
    setenv("SNG_MODEL_DIR", sngt_models_dir(), 1);
    CU_ASSERT_EQUAL(sngt_cli("check siamese_small"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "27,457"));
    CU_ASSERT_EQUAL(sngt_cli("check siamese_small.xml"), 0);
    CU_ASSERT_EQUAL(sngt_cli("check no_such_model_anywhere"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "nor in the model directories"));
    /* Several directories, ':'-separated: the second one has it. */
    char two[2 * PATH_MAX];
    snprintf(two, sizeof two, "%s:%s", sngt_tmpdir(), sngt_models_dir());
    setenv("SNG_MODEL_DIR", two, 1);
    CU_ASSERT_EQUAL(sngt_cli("check triplet_small"), 0);
    setenv("SNG_MODEL_DIR", sngt_models_dir(), 1);
}

static void test_model_cli_json(void) {
    setenv("SNG_MODEL_DIR", sngt_models_dir(), 1);
    CU_ASSERT_EQUAL_FATAL(sngt_cli("check --json siamese_vgg16"), 0);
    const char *j = sngt_out();
    CU_ASSERT(json_plausible(j));
    CU_ASSERT_EQUAL(json_int(j, "trainable_params"), VGG_TIED);
    CU_ASSERT_EQUAL(json_int(j, "untied_trainable_params"), VGG_UNTIED);
    CU_ASSERT(json_int(j, "flops_per_sample") > 0);
    CU_ASSERT(json_int(j, "activation_bytes_per_sample") > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"tied_with\":\"right/block1_conv1\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"name\":\"left/block1_conv1\""));
    /* --set reaches the model; an unknown key is harmless for check (nobody reads it yet) */
    CU_ASSERT_EQUAL(sngt_cli("check --json --set train.batch=8 siamese_small"), 0);
    CU_ASSERT(json_plausible(sngt_out()));
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_model_cli_dot(void) {
    setenv("SNG_MODEL_DIR", sngt_models_dir(), 1);
    CU_ASSERT_EQUAL_FATAL(sngt_cli("dot siamese_vgg16"), 0);
    const char *d = sngt_out();
    CU_ASSERT_EQUAL(strncmp(d, "digraph ", 8), 0);
    CU_ASSERT_EQUAL(count(d, "subgraph \"cluster_left\""), 1);
    CU_ASSERT_EQUAL(count(d, "subgraph \"cluster_right\""), 1);
    CU_ASSERT(count(d, "label=\"tied\"") >= 1);
    CU_ASSERT_EQUAL(count(d, "{"), count(d, "}"));
    CU_ASSERT_EQUAL(sngt_cli("dot siamese_small"), 0);
    CU_ASSERT(count(sngt_out(), "label=\"tied\"") >= 1);
    CU_ASSERT_EQUAL(sngt_cli("ops"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "conv2d"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "dense"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "contrastive"));
}

/* ---- allocation failures ---------------------------------------------------------------------- */
static void test_model_alloc_fail_walk(void) {
    static const char xml[] =
        "<model name=\"m\">\n"
        "  <input name=\"a\" shape=\"6\"/><input name=\"b\" shape=\"6\"/>"
        "  <input name=\"same\" shape=\"1\"/>\n"
        "  <subgraph name=\"bb\"><input name=\"x\"/>\n"
        "    <dense name=\"h\" in=\"x\" units=\"5\" activation=\"relu\" doc=\"hidden\"/>\n"
        "    <dense name=\"e\" in=\"h\" units=\"4\"/><output name=\"e\"/></subgraph>\n"
        "  <instance name=\"left\" of=\"bb\" in=\"a\" params=\"branch\"/>\n"
        "  <instance name=\"right\" of=\"bb\" in=\"b\" params=\"branch\"/>\n"
        "  <absdiff name=\"l1\" in=\"left right\"/><dense name=\"logit\" in=\"l1\" units=\"1\"/>\n"
        "  <sigmoid name=\"score\" in=\"logit\"/><output name=\"score\"/>\n"
        "  <contrastive name=\"lc\" in=\"left right same\" margin=\"1\"/>\n"
        "  <train batch=\"4\"><optimizer kind=\"sgd\" lr=\"0.1\"/></train>\n"
        "</model>\n";
    sng_ctx *ctx = sng_ctx_new();
    long k;
    int n_nomem = 0, n_other = 0;
    for (k = 0; k < 100000; k++) {
        sng_graph *g = (sng_graph *)1;
        sngi_alloc_fail_after(k);
        sng_status st = sng_graph_load_string(ctx, xml, strlen(xml), "walk.xml", NULL, &g);
        sngi_alloc_fail_after(-1);
        if (st == SNG_OK) {
            CU_ASSERT_PTR_NOT_NULL(g);
            sng_graph_stats s;
            sng_graph_stats_get(g, &s);
            CU_ASSERT_EQUAL(s.trainable, 6 * 5 + 5 + 5 * 4 + 4 + 4 + 1);
            sng_graph_free(g);
            break;
        }
        CU_ASSERT_PTR_NULL(g);
        if (st == SNG_ERR_NOMEM) {
            n_nomem++;
        } else {
            n_other++;
            fprintf(stderr, "\n  fail after %ld allocations: %s: %s", k, sng_status_str(st),
                    sng_ctx_errmsg(ctx));
        }
    }
    CU_ASSERT(k < 100000);
    CU_ASSERT(n_nomem > 10);
    CU_ASSERT_EQUAL(n_other, 0);
    sng_ctx_free(ctx);
}

/* Long but legal names and scopes are kept whole: three nested instances with 250-byte params
 * scopes around a batchnorm with a 200-byte name give four distinct parameters (a cut name once
 * merged them into one), and a 1,000-reference in= list keeps every reference. */
static void test_model_long_scopes_and_lists(void) {
    char p1[251], p2[251], p3[251], bn[201];
    memset(p1, 'p', 250), memset(p2, 'q', 250), memset(p3, 'r', 250), memset(bn, 'b', 200);
    p1[250] = p2[250] = p3[250] = bn[200] = 0;
    size_t cap = 8192;
    char *xml = malloc(cap);
    snprintf(xml, cap,
             "<model><input name='x' shape='4'/>"
             "<subgraph name='s3'><input name='i'/><batchnorm name='%s' in='i'/>"
             "<output name='%s'/></subgraph>"
             "<subgraph name='s2'><input name='i'/><instance name='c' of='s3' in='i' "
             "params='%s'/><output name='c'/></subgraph>"
             "<subgraph name='s1'><input name='i'/><instance name='b' of='s2' in='i' "
             "params='%s'/><output name='b'/></subgraph>"
             "<instance name='a' of='s1' in='x' params='%s'/><output name='a'/></model>",
             bn, bn, p3, p2, p1);
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "long", NULL, &g), SNG_OK);
    CU_ASSERT_EQUAL(g->n_params, 4);
    for (int i = 0; i < g->n_params; i++) {
        CU_ASSERT(strlen(g->params[i].name) > 950);
        CU_ASSERT_PTR_NOT_NULL(strstr(g->params[i].name, "/running_var") ||
                               strstr(g->params[i].name, "/running_mean") ||
                               strstr(g->params[i].name, "/gamma") ||
                               strstr(g->params[i].name, "/beta"));
    }
    sng_graph_free(g);
    /* 1,000 inputs into one concat. */
    size_t k = 0;
    cap = 64 * 1000 + 256;
    xml = realloc(xml, cap);
    k += (size_t)snprintf(xml + k, cap - k, "<model>");
    for (int i = 0; i < 1000; i++)
        k += (size_t)snprintf(xml + k, cap - k, "<input name='input_%04d' shape='1'/>", i);
    k += (size_t)snprintf(xml + k, cap - k, "<concat name='c' in='");
    for (int i = 0; i < 1000; i++) k += (size_t)snprintf(xml + k, cap - k, " input_%04d", i);
    snprintf(xml + k, cap - k, "'/><output name='c'/></model>");
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "wide", NULL, &g), SNG_OK);
    int c = sngi_graph_find(g, "c");
    CU_ASSERT_EQUAL(g->nodes[c].n_in, 1000);
    CU_ASSERT_EQUAL(g->nodes[c].shape.d[0], 1000);
    sng_graph_free(g);
    /* A qualified name past the reader's limit is refused at its element, not cut: five nested
     * 250-byte instance names. */
    char deep[8192];
    k = (size_t)snprintf(deep, sizeof deep, "<model><input name='x' shape='4'/>\n"
                         "<subgraph name='s0'><input name='i'/><relu name='%s' in='i'/>"
                         "<output name='%s'/></subgraph>\n", p1, p1);
    for (int lv = 1; lv < 5; lv++)
        k += (size_t)snprintf(deep + k, sizeof deep - k,
                              "<subgraph name='s%d'><input name='i'/><instance name='%s' of='s%d' "
                              "in='i'/><output name='%s'/></subgraph>\n", lv, p2, lv - 1, p2);
    snprintf(deep + k, sizeof deep - k, "<instance name='%s' of='s4' in='x'/><output name='%s'/>"
             "</model>", p3, p3);
    CU_ASSERT_EQUAL(sng_graph_load_string(ctx, deep, strlen(deep), "deep", NULL, &g),
                    SNG_ERR_MODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "deep:4: error: <instance>: qualified name"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "is longer than 1023 bytes"));
    free(xml);
    sng_ctx_free(ctx);
}

/* A FIFO given as the model is refused at once, not opened blocking forever. */
static void test_model_fifo_refused(void) {
    char p[PBUF];
    snprintf(p, sizeof p, "%s/model.fifo.xml", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(mkfifo(p, 0644), 0);
    alarm(30); /* a blocking open fails the test instead of hanging it */
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g = NULL;
    CU_ASSERT_EQUAL(sng_graph_load(ctx, p, NULL, 0, &g), SNG_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "not a regular file"));
    alarm(0);
    sng_ctx_free(ctx);
}

static CU_TestInfo tests[] = {
    {"params_shipped", test_model_params_shipped},
    {"params_untied", test_model_params_untied},
    {"backbone_swap", test_model_backbone_swap},
    {"bad_golden", test_model_bad_golden},
    {"bad_generated", test_model_bad_generated},
    {"error_lines", test_model_error_lines},
    {"cli_help_version", test_model_cli_help_version},
    {"cli_bare_name", test_model_cli_bare_name},
    {"cli_json", test_model_cli_json},
    {"cli_dot", test_model_cli_dot},
    {"alloc_fail_walk", test_model_alloc_fail_walk},
    {"long_scopes_and_lists", test_model_long_scopes_and_lists},
    {"fifo_refused", test_model_fifo_refused},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {{"model", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
