/*
 * harness.c — main() of every CUnit test program: registers sngt_suites, runs them in basic
 * mode, and exits non-zero on any failure. Also temp dirs, shared data lookup and CLI capture.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <CUnit/Basic.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sngraph/sngraph.h"

static char tmpdir[512];
static int n_skipped;

const char *sngt_srcdir(void) {
    const char *s = getenv("SNG_TEST_SRCDIR");
    return s && *s ? s : "tests";
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void cleanup(void) {
    if (tmpdir[0] && !getenv("SNG_TEST_KEEP")) nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

const char *sngt_tmpdir(void) {
    if (!tmpdir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/sngtest.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(99);
        }
        atexit(cleanup);
    }
    return tmpdir;
}

/* Class c: a bright bar at angle (c % 4) * 45 degrees and offset (c / 4 - 1.5) * 5 pixels from
 * the centre, with jitter, blur and noise. Unseen classes combine an angle and an offset that
 * training saw separately. */
static void bars_draw(unsigned char *px, int cls, unsigned *seed) {
    double a = (cls % 4) * M_PI / 4.0, o = (cls / 4 - 1.5) * 5.0;
    double jitter = ((rand_r(seed) % 100) / 100.0 - 0.5) * 0.15;
    double ca = cos(a + jitter), sa = sin(a + jitter);
    double shift = ((rand_r(seed) % 100) / 100.0 - 0.5) * 2.0;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            double d = fabs((x - 13.5) * sa - (y - 13.5) * ca - o - shift);
            double v = d < 2.0 ? 230 : d < 3.5 ? 230 * (3.5 - d) / 1.5 : 0;
            v += rand_r(seed) % 40;
            px[y * 28 + x] = (unsigned char)(v > 255 ? 255 : v);
        }
}

int sngt_write_bars(const char *dir, int classes, int per_class, unsigned seed) {
    mkdir(dir, 0755);
    for (int c = 0; c < classes; c++) {
        char cdir[1200];
        snprintf(cdir, sizeof cdir, "%s/c%02d", dir, c);
        mkdir(cdir, 0755);
        for (int i = 0; i < per_class; i++) {
            char path[1300];
            snprintf(path, sizeof path, "%s/%02d.pgm", cdir, i);
            FILE *f = fopen(path, "wb");
            if (!f) return -1;
            unsigned char px[28 * 28];
            bars_draw(px, c, &seed);
            fprintf(f, "P5\n28 28\n255\n");
            fwrite(px, 1, sizeof px, f);
            if (fclose(f)) return -1;
        }
    }
    return 0;
}

const char *sngt_shared_data(const char *rel) {
    static char buf[4][1024];
    static int slot;
    char *b = buf[slot++ & 3];
    const char *env = getenv("SNG_SHARED_DATA");
    struct stat st;
    if (env && *env) {
        snprintf(b, 1024, "%s/%s", env, rel);
        if (stat(b, &st) == 0) return b;
    }
    /* tests/ -> checkout -> ../shared/data */
    snprintf(b, 1024, "%s/../../shared/data/%s", sngt_srcdir(), rel);
    if (stat(b, &st) == 0) return b;
    return NULL;
}

void sngt_skip(const char *why) {
    n_skipped++;
    fprintf(stdout, "\n  SKIP: %s\n", why);
}

/* ---- files ----------------------------------------------------------------------------------- */
/* Directory of the shipped models (tests/../models). Static buffer. */
const char *sngt_models_dir(void) {
    static char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s/../models", sngt_srcdir());
    return buf;
}

/* Reads a whole file; NULL if unreadable. Caller frees. */
char *sngt_read_text(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)(n < 0 ? 0 : n) + 1);
    size_t got = b ? fread(b, 1, (size_t)(n < 0 ? 0 : n), f) : 0;
    fclose(f);
    if (!b) return NULL;
    b[got] = 0;
    if (len_out) *len_out = got;
    return b;
}

/* ---- CLI capture ------------------------------------------------------------------------------ */
static char *out_buf, *err_buf;

const char *sngt_out(void) { return out_buf ? out_buf : ""; }
const char *sngt_err(void) { return err_buf ? err_buf : ""; }

int sngt_cli(const char *cmdline) {
    char *argv[64];
    char *copy = strdup(cmdline);
    int argc = 0;
    /* "check m.xml" and "sngraph check m.xml" both work: argv[0] is the program. */
    if (strncmp(copy, "sngraph ", 8) != 0) argv[argc++] = (char *)"sngraph";
    for (char *tok = strtok(copy, " "); tok && argc < 63; tok = strtok(NULL, " ")) argv[argc++] = tok;
    argv[argc] = NULL;
    free(out_buf);
    free(err_buf);
    size_t on = 0, en = 0;
    out_buf = err_buf = NULL;
    FILE *o = open_memstream(&out_buf, &on), *e = open_memstream(&err_buf, &en);
    int rc = sngi_cli_main(argc, argv, o, e);
    fclose(o);
    fclose(e);
    free(copy);
    return rc;
}

int sngt_cli_fmt(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return sngt_cli(cmd);
}

const char *sngt_write_file(const char *name, const char *text) {
    static char buf[8][1024];
    static int slot;
    char *b = buf[slot++ & 7];
    snprintf(b, 1024, "%s/%s", sngt_tmpdir(), name);
    char *dir = strdup(b);
    for (char *p = dir + strlen(sngt_tmpdir()) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0755);
            *p = '/';
        }
    free(dir);
    FILE *f = fopen(b, "wb");
    if (!f) {
        perror(b);
        exit(99);
    }
    fputs(text, f);
    fclose(f);
    return b;
}

int main(int argc, char **argv) {
    (void)argc; (void)argv;
    if (CU_initialize_registry() != CUE_SUCCESS) return 99;
    if (CU_register_suites(sngt_suites) != CUE_SUCCESS) {
        fprintf(stderr, "suite registration failed: %s\n", CU_get_error_msg());
        return 99;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    if (n_skipped) printf("  (%d skipped for missing data)\n", n_skipped);
    CU_cleanup_registry();
    return failed ? 1 : (run ? 0 : 77);
}
