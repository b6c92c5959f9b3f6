/*
 * test_kernels.c — the kernels/ layer: bf16 rounding (ties to even, NaN, Inf, overflow,
 * denormals), the vector conversion against the scalar one, and every bf16 GEMM path against a
 * double-precision reference on odd shapes, all transpose combinations and several alpha/beta.
 *
 * Error bound of a bf16 GEMM element against the exact product of the fp32 inputs: each operand
 * is rounded to bf16 with relative error <= 2^-8 (8 significant bits), so a product is off by <= (2^-7 + 2^-16) of
 * |a||b|; the fp32 sum of k terms adds <= k * 2^-24 of sum |a||b| (the standard recursive-sum
 * bound). So |C - C_exact| <= |alpha| * (2^-7 + 2^-15 + k 2^-24) * sum_p |a_ip||b_pj|, plus the
 * rounding of beta*C. Against the exact product of the bf16-ROUNDED inputs only the second term
 * remains, which checks that the kernels really multiply the rounded values.
 * Paths the CPU cannot run are skipped with the reason printed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels/kernels.h"

static float u2f(uint32_t u) {
    union { uint32_t u; float f; } v = {u};
    return v.f;
}

static void test_rne_cases(void) {
    /* 1 + 2^-8 is exactly between bf16 1.0 and 1.0078125: ties go to the even one (1.0). */
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x3f808000u)), 0x3f80);
    /* 1 + 3*2^-8 is between 1.0078125 (odd) and 1.015625 (even): rounds up. */
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x3f818000u)), 0x3f82);
    /* just above and below a tie */
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x3f808001u)), 0x3f81);
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x3f807fffu)), 0x3f80);
    CU_ASSERT_EQUAL(sngi_f2bf(-1.0f), 0xbf80);
    CU_ASSERT_EQUAL(sngi_f2bf(0.0f), 0x0000);
    CU_ASSERT_EQUAL(sngi_f2bf(-0.0f), 0x8000);
    /* Inf stays Inf; the largest float rounds up to Inf (overflow). */
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x7f800000u)), 0x7f80);
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0xff800000u)), 0xff80);
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x7f7fffffu)), 0x7f80);
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x7f7f7fffu)), 0x7f7f); /* below the overflow tie: finite */
    /* NaN stays NaN and becomes quiet, even a signalling NaN whose payload is in the low half */
    sngi_bf16 h = sngi_f2bf(u2f(0x7f800001u));
    CU_ASSERT((h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0 && (h & 0x40));
    h = sngi_f2bf(u2f(0xffc00000u));
    CU_ASSERT_EQUAL(h, 0xffc0);
    /* denormals become signed zeros (what VCVTNE2PS2BF16 does) */
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x00400000u)), 0x0000);
    CU_ASSERT_EQUAL(sngi_f2bf(u2f(0x80000001u)), 0x8000);
    CU_ASSERT_EQUAL(sngi_bf2f(0x3f80), 1.0f);
}

static void test_vector_conversion_matches_scalar(void) {
    enum { N = 1000 };
    float src[N];
    sngi_bf16 dst[N];
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        src[i] = u2f(s); /* every bit pattern: NaNs, Infs, denormals, ties */
    }
    src[0] = u2f(0x3f808000u);
    src[1] = u2f(0x7f7fffffu);
    sngi_f2bf_n(src, dst, N);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += dst[i] != sngi_f2bf(src[i]);
    CU_ASSERT_EQUAL(bad, 0);
    if (!sngi_cpu_get()->avx512_bf16)
        sngt_skip("vector bf16 conversion: the CPU lacks avx512_bf16 (scalar path tested)");
}

typedef int (*bgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                        int, float, float *, int);

static float frand(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float rb(float f) { return sngi_bf2f(sngi_f2bf(f)); }

/* Runs fn on every shape, transpose pair and (alpha, beta); returns the number of elements out
 * of bound (and prints the first). */
static int check_path(const char *name, bgemm_fn fn, int threads) {
    static const int dims[] = {1, 7, 13, 33, 65, 130};
    static const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-1.5f, 0.25f}};
    int nd = sizeof dims / sizeof dims[0], bad = 0, cas = 0;
    uint32_t s = 7;
    for (int im = 0; im < nd; im++)
        for (int in = 0; in < nd; in++)
            for (int ik = 0; ik < nd; ik++)
                for (int tr = 0; tr < 4; tr++, cas++) {
                    int m = dims[im], n = dims[in], k = dims[ik], ta = tr & 1, tb = tr >> 1;
                    float alpha = ab[cas % 3][0], beta = ab[cas % 3][1];
                    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
                    float *a = malloc(sizeof(float) * (ta ? k : m) * lda);
                    float *b = malloc(sizeof(float) * (tb ? n : k) * ldb);
                    float *c = malloc(sizeof(float) * m * ldc), *c0 = malloc(sizeof(float) * m * ldc);
                    for (int i = 0; i < (ta ? k : m) * lda; i++) a[i] = frand(&s);
                    for (int i = 0; i < (tb ? n : k) * ldb; i++) b[i] = frand(&s);
                    for (int i = 0; i < m * ldc; i++)
                        c0[i] = beta == 0.0f ? u2f(0x7fc00000u) : frand(&s); /* NaN: overwritten */
                    memcpy(c, c0, sizeof(float) * m * ldc);
                    CU_ASSERT_EQUAL(fn(threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), 0);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double ex = 0, exr = 0, mag = 0;
                            for (int p = 0; p < k; p++) {
                                float av = ta ? a[p * lda + i] : a[i * lda + p];
                                float bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                                ex += (double)av * bv;
                                exr += (double)rb(av) * rb(bv);
                                mag += fabs((double)av * bv);
                            }
                            double cb = beta == 0.0f ? 0 : (double)beta * c0[i * ldc + j];
                            double got = c[i * ldc + j];
                            double fa = fabs(alpha), tol_c = 2e-7 * fabs(cb) + 1e-30;
                            double tol = fa * (1.0 / 128 + 1.0 / 32768 + k * 0x1p-24) * mag * 1.01 + tol_c;
                            double tolr = fa * (k + 2) * 0x1p-24 * mag * 1.01 + 2 * tol_c + 1e-7 * fabs(got);
                            int ok = fabs(got - (alpha * ex + cb)) <= tol &&
                                     fabs(got - (alpha * exr + cb)) <= tolr;
                            if (!ok && !bad++)
                                fprintf(stderr, "\n  %s m=%d n=%d k=%d ta=%d tb=%d alpha=%g beta=%g "
                                        "C[%d,%d]=%.9g exact %.9g (bf16 inputs %.9g)\n", name, m, n,
                                        k, ta, tb, alpha, beta, i, j, got, alpha * ex + cb,
                                        alpha * exr + cb);
                        }
                    /* the padding columns of C are untouched */
                    for (int i = 0; i < m; i++)
                        for (int j = n; j < ldc; j++)
                            if (memcmp(&c[i * ldc + j], &c0[i * ldc + j], 4) && !bad++)
                                fprintf(stderr, "\n  %s wrote past n at (%d,%d)\n", name, i, j);
                    free(a), free(b), free(c), free(c0);
                }
    return bad;
}

static void test_bgemm_ref(void) { CU_ASSERT_EQUAL(check_path("ref", sngi_bgemm_ref, 2), 0); }

static void test_bgemm_avx512(void) {
    const char *why = sngi_isa_missing(SNGI_ISA_AVX512BF16);
    if (why) {
        fprintf(stderr, "\n  skipping the AVX512-BF16 GEMM test: %s\n", why);
        sngt_skip("bgemm avx512bf16: the CPU cannot run it");
        return;
    }
    CU_ASSERT_EQUAL(check_path("avx512bf16", sngi_bgemm_avx512, 1), 0);
    CU_ASSERT_EQUAL(check_path("avx512bf16", sngi_bgemm_avx512, 2), 0);
}

static void test_bgemm_amx(void) {
    const char *why = sngi_isa_missing(SNGI_ISA_AMX);
    if (why) {
        fprintf(stderr, "\n  skipping the AMX GEMM test: %s\n", why);
        sngt_skip("bgemm amx: the CPU cannot run it (AMX path unverified here)");
        return;
    }
    CU_ASSERT_EQUAL(check_path("amx", sngi_bgemm_amx, 1), 0);
    CU_ASSERT_EQUAL(check_path("amx", sngi_bgemm_amx, 2), 0);
}

/* Each output block is summed by one thread in a fixed K order: 1 and 2 threads, and two runs,
 * give the same bits, for every path this CPU runs. Large enough to split K into blocks. */
static void test_bgemm_bitwise_reproducible(void) {
    int m = 70, n = 97, k = 1100;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c1 = calloc((size_t)m * n, 4), *c2 = calloc((size_t)m * n, 4), *c3 = calloc((size_t)m * n, 4);
    uint32_t s = 99;
    for (int i = 0; i < m * k; i++) a[i] = frand(&s);
    for (int i = 0; i < k * n; i++) b[i] = frand(&s);
    for (sngi_isa isa = SNGI_ISA_REF; isa <= SNGI_ISA_AMX; isa++) {
        if (sngi_isa_missing(isa)) continue;
        sngi_bgemm(isa, 1, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n);
        sngi_bgemm(isa, 2, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n);
        sngi_bgemm(isa, 2, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c3, n);
        CU_ASSERT(memcmp(c1, c2, sizeof(float) * m * n) == 0);
        CU_ASSERT(memcmp(c2, c3, sizeof(float) * m * n) == 0);
    }
    free(a), free(b), free(c1), free(c2), free(c3);
}

static void test_isa_names_and_best(void) {
    CU_ASSERT_STRING_EQUAL(sngi_isa_name(SNGI_ISA_AMX), "amx");
    CU_ASSERT_STRING_EQUAL(sngi_isa_name(SNGI_ISA_AVX512BF16), "avx512bf16");
    CU_ASSERT_PTR_NULL(sngi_isa_missing(SNGI_ISA_REF));
    sngi_isa best = sngi_isa_best();
    CU_ASSERT(best == SNGI_ISA_FP32 || sngi_isa_missing(best) == NULL);
    const sngi_cpu *p = sngi_cpu_get();
    fprintf(stderr, "\n  cpu: avx512f %d avx512_bf16 %d amx_tile %d amx_bf16 %d amx_perm %d -> %s\n",
            p->avx512f, p->avx512_bf16, p->amx_tile, p->amx_bf16, p->amx_perm,
            sngi_isa_name(best));
}

static CU_TestInfo kernel_tests[] = {
    {"test_rne_cases", test_rne_cases},
    {"test_vector_conversion_matches_scalar", test_vector_conversion_matches_scalar},
    {"test_isa_names_and_best", test_isa_names_and_best},
    {"test_bgemm_ref", test_bgemm_ref},
    {"test_bgemm_avx512", test_bgemm_avx512},
    {"test_bgemm_amx", test_bgemm_amx},
    {"test_bgemm_bitwise_reproducible", test_bgemm_bitwise_reproducible},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {
    {"kernels", NULL, NULL, NULL, NULL, kernel_tests},
    CU_SUITE_INFO_NULL,
};
