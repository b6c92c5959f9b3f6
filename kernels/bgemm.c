/*
 * bgemm.c — the bf16 GEMM's entry point and what its implementations share: scaling C by beta
 * before accumulation, and packing an fp32 operand into bf16 VNNI-pair panels (the rounding
 * happens here, once per element).
 */
#include "config.h"

#include <string.h>

#include "kernels.h"

int sngi_bgemm(sngi_isa isa, int n_threads, int ta, int tb, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    switch (isa) {
    case SNGI_ISA_AMX:
        return sngi_bgemm_amx(n_threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    case SNGI_ISA_AVX512BF16:
        return sngi_bgemm_avx512(n_threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    default:
        return sngi_bgemm_ref(n_threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

void sngi_bgemm_scale_c(int n_threads, int m, int n, float beta, float *c, int ldc) {
    if (beta == 1.0f) return;
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((int64_t)m * n > 32768)
    for (int i = 0; i < m; i++) {
        float *r = c + (int64_t)i * ldc;
        if (beta == 0.0f)
            memset(r, 0, sizeof(float) * n);
        else
            for (int j = 0; j < n; j++) r[j] *= beta;
    }
}

void sngi_bgemm_pack_b(int n_threads, int tb, int k, int n, const float *b, int ldb, int nr,
                       int kq, uint32_t *dst) {
    int panels = (n + nr - 1) / nr;
    /* Work items are (panel, block of 64 pairs), so a narrow B still spreads over threads. */
    int qb = (kq + 63) / 64;
    int64_t items = (int64_t)panels * qb;
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((int64_t)k * n > 32768)
    for (int64_t it = 0; it < items; it++) {
        int jb = (int)(it / qb), q0 = (int)(it % qb) * 64, q1 = q0 + 64 < kq ? q0 + 64 : kq;
        int j0 = jb * nr, jn = n - j0 < nr ? n - j0 : nr;
        uint32_t *p = dst + ((int64_t)jb * kq + q0) * nr;
        for (int q = q0; q < q1; q++, p += nr) {
            int p0 = 2 * q, p1 = 2 * q + 1;
            int jj = 0;
            if (!tb && p1 < k) {
                /* rows p0, p1 of B are contiguous in j: the common case (conv columns) */
                const float *r0 = b + (int64_t)p0 * ldb + j0, *r1 = b + (int64_t)p1 * ldb + j0;
                for (; jj < jn; jj++)
                    p[jj] = sngi_f2bf(r0[jj]) | (uint32_t)sngi_f2bf(r1[jj]) << 16;
            } else {
                for (; jj < jn; jj++) {
                    int j = j0 + jj;
                    float v0 = p0 < k ? (tb ? b[(int64_t)j * ldb + p0] : b[(int64_t)p0 * ldb + j]) : 0;
                    float v1 = p1 < k ? (tb ? b[(int64_t)j * ldb + p1] : b[(int64_t)p1 * ldb + j]) : 0;
                    p[jj] = sngi_f2bf(v0) | (uint32_t)sngi_f2bf(v1) << 16;
                }
            }
            for (; jj < nr; jj++) p[jj] = 0;
        }
    }
}
