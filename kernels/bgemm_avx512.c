/*
 * bgemm_avx512.c — the bf16 GEMM on AVX512-BF16 (VDPBF16PS), for CPUs without AMX such as
 * AMD Zen 4/5 and Cooper Lake.
 *
 * op(A) is packed into row panels of MR rows and op(B) into column panels of NR columns, both
 * as VNNI pairs (kernels/bgemm.c): for k-pair q a B panel row is NR words = two zmm of 16
 * (bf16 b[2q][j], b[2q+1][j]) pairs, and an A panel row is MR words, each broadcast to a zmm.
 * VDPBF16PS then adds a[i][2q]*b[2q][j] + a[i][2q+1]*b[2q+1][j] into fp32 lane j. The
 * micro-kernel keeps an MR x NR block of C in 24 zmm accumulators.
 *
 * K is cut into blocks of KC pairs so an A panel (MR*KC*4 = 12 KiB) stays in L1 and a B panel
 * (NR*KC*4 = 32 KiB) in L2. Within a K block the (B panel, A panel) tiles are split over the
 * threads statically; K blocks run one after the other, each adding alpha*(its partial sum)
 * into C. An output element's arithmetic therefore never depends on the thread count: results
 * are bitwise reproducible run to run and across thread counts.
 */
#include "config.h"

#include <stdlib.h>

#include "kernels.h"

#define MR 12
#define NR 32
#define KC 256

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define T_BF16 __attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl")))

/* C[0..mr) x [0..nr) += alpha * Ap(MR x kq pairs) * Bp(kq pairs x NR). */
T_BF16 static void micro(int kq, const uint32_t *ap, const uint32_t *bp, float alpha, float *c,
                         int ldc, int mr, int nr) {
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int q = 0; q < kq; q++, ap += MR, bp += NR) {
        __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)bp);
        __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(bp + 16));
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
        }
    }
    __m512 va = _mm512_set1_ps(alpha);
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    for (int i = 0; i < mr; i++) {
        float *r = c + (int64_t)i * ldc;
        __m512 c0 = _mm512_maskz_loadu_ps(m0, r), c1 = _mm512_maskz_loadu_ps(m1, r + 16);
        _mm512_mask_storeu_ps(r, m0, _mm512_fmadd_ps(va, acc[i][0], c0));
        _mm512_mask_storeu_ps(r + 16, m1, _mm512_fmadd_ps(va, acc[i][1], c1));
    }
}

int sngi_bgemm_avx512(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc) {
    if (m <= 0 || n <= 0) return 0;
    if (n_threads < 1) n_threads = 1;
    int kq = (k + 1) / 2, mp = (m + MR - 1) / MR, np = (n + NR - 1) / NR;
    if (kq == 0) {
        sngi_bgemm_scale_c(n_threads, m, n, beta, c, ldc);
        return 0;
    }
    /* Both packed operands: owned here, freed before returning. */
    size_t na = (size_t)mp * kq * MR * 4, nb = (size_t)np * kq * NR * 4;
    uint32_t *ap = aligned_alloc(64, (na + 63) & ~(size_t)63);
    uint32_t *bp = aligned_alloc(64, (nb + 63) & ~(size_t)63);
    if (!ap || !bp) {
        free(ap);
        free(bp);
        return -1;
    }
    /* op(A) packed as the "B" of op(A)^T: row i of op(A) becomes column i. */
    sngi_bgemm_pack_b(n_threads, !ta, k, m, a, lda, MR, kq, ap);
    sngi_bgemm_pack_b(n_threads, tb, k, n, b, ldb, NR, kq, bp);
    sngi_bgemm_scale_c(n_threads, m, n, beta, c, ldc);
    int64_t tiles = (int64_t)mp * np;
#pragma omp parallel num_threads(n_threads) if (tiles > 1 && (int64_t)m * n * k > 65536)
    for (int q0 = 0; q0 < kq; q0 += KC) {
        int kl = kq - q0 < KC ? kq - q0 : KC;
#pragma omp for schedule(static)
        for (int64_t t = 0; t < tiles; t++) {
            int jb = (int)(t / mp), ib = (int)(t % mp);
            int i0 = ib * MR, j0 = jb * NR;
            micro(kl, ap + ((int64_t)ib * kq + q0) * MR, bp + ((int64_t)jb * kq + q0) * NR, alpha,
                  c + (int64_t)i0 * ldc + j0, ldc, m - i0 < MR ? m - i0 : MR,
                  n - j0 < NR ? n - j0 : NR);
        }
    }
    free(ap);
    free(bp);
    return 0;
}

#else
int sngi_bgemm_avx512(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc) {
    return sngi_bgemm_ref(n_threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif
