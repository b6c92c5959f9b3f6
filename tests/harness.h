/*
 * harness.h — the shared CUnit harness of every test program. Each test file defines
 * `CU_SuiteInfo sngt_suites[]` (terminated by CU_SUITE_INFO_NULL); harness.c owns main.
 */
#ifndef SNGT_HARNESS_H
#define SNGT_HARNESS_H

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>

extern CU_SuiteInfo sngt_suites[];

/* Directory of the test sources (SNG_TEST_SRCDIR, so `make distcheck` finds fixtures). */
const char *sngt_srcdir(void);
/* A private temporary directory for this test program, removed at exit. */
const char *sngt_tmpdir(void);
/* The shipped models' directory (tests/../models). Static buffer. */
const char *sngt_models_dir(void);
/* Reads a whole file, NUL-terminated; NULL if unreadable. *len_out (may be NULL) gets its
 * length. Caller frees. */
char *sngt_read_text(const char *path, size_t *len_out);
/* Path of ../shared/data/<rel> (SNG_SHARED_DATA or relative to the source tree) when it exists;
 * NULL when absent (the caller skips). Returns a static buffer. */
const char *sngt_shared_data(const char *rel);
/* Records a skipped test (printed in the summary). */
void sngt_skip(const char *why);

/* |a-b| <= atol + rtol*|b| */
#define SNGT_ASSERT_CLOSE(a, b, rtol, atol) \
    do { \
        double sngt_a_ = (a), sngt_b_ = (b); \
        if (!(fabs(sngt_a_ - sngt_b_) <= (atol) + (rtol)*fabs(sngt_b_))) \
            fprintf(stderr, "\n  %s:%d: %g vs %g\n", __FILE__, __LINE__, sngt_a_, sngt_b_); \
        CU_ASSERT(fabs(sngt_a_ - sngt_b_) <= (atol) + (rtol)*fabs(sngt_b_)); \
    } while (0)

/* Runs the program's CLI in-process: returns the exit code; output and error text land in
 * static buffers returned by sngt_out()/sngt_err() (valid until the next call). */
int sngt_cli(const char *cmdline);
const char *sngt_out(void);
/* sngt_cli with a printf-style command line. */
int sngt_cli_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *sngt_err(void);

/* Writes text to <tmpdir>/<name> and returns the full path (static buffer per call slot). */
const char *sngt_write_file(const char *name, const char *text);
/* Writes generated images of `classes` classes into dir/cNN/MM.pgm (28x28 grey, per_class each):
 * class c is a bright bar at angle (c % 4) * 45 degrees and offset (c / 4 - 1.5) * 5 pixels from
 * the centre, with jitter, blur and noise, so classes past the fourth combine an angle and an
 * offset that others have separately. Returns 0, or -1 when a file cannot be written. */
int sngt_write_bars(const char *dir, int classes, int per_class, unsigned seed);

#endif
