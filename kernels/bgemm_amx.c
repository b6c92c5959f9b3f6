/*
 * bgemm_amx.c — the bf16 GEMM on AMX (TDPBF16PS), for Sapphire Rapids and later.
 * UNVERIFIED on the development machine (AMD Zen 4, no AMX): written from Intel's
 * documentation of the tile instructions; its test runs only where the CPU has AMX.
 *
 * Tiles are 16 rows of 64 bytes. One TDPBF16PS adds A(16 x 16 k-pairs) * B(16 k-pairs x 16)
 * into C(16 x 16 fp32), where an A row holds 32 consecutive bf16 of K (16 pairs) and a B row
 * holds, for one k-pair, 16 columns of (b[2q][j], b[2q+1][j]) — the VNNI pair layout.
 * The micro-kernel owns a 32 x 32 block of C in four accumulator tiles (tmm0..3), with two A
 * tiles (tmm4, 5) and two B tiles (tmm6, 7), so each loaded tile is used twice.
 *
 * Packing: op(A) as rows of k-pair words (row-major, K padded to 16 pairs, rows padded to 32)
 * and op(B) in 32-column panels of k-pair rows (kernels/bgemm.c), K padded to 16 pairs; the
 * padding is zero, so edge blocks compute on zeros and only the valid part is written back.
 * Threads split the 32 x 32 blocks of C statically; each block sums all of K in order, so
 * results do not depend on the thread count. Each thread loads the tile configuration itself
 * (it is per thread) and releases it when done.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define BM 32
#define BN 32

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define T_AMX __attribute__((target("amx-tile,amx-bf16,avx512f")))

typedef struct {
    uint8_t palette_id;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((aligned(64))) tilecfg;

/* Block (ib, jb): tmp(32 x 32) = Ap rows [32 ib, +32) * Bp panel jb over kq16 pairs. */
T_AMX static void block(int kq16, const uint32_t *ap, const uint32_t *bp, float *tmp) {
    size_t sa = (size_t)kq16 * 4, sb = BN * 4, sc = BN * 4;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int q = 0; q < kq16; q += 16) {
        _tile_loadd(4, ap + q, sa);
        _tile_loadd(5, ap + (size_t)16 * kq16 + q, sa);
        _tile_loadd(6, bp + (size_t)q * BN, sb);
        _tile_loadd(7, bp + (size_t)q * BN + 16, sb);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, tmp, sc);
    _tile_stored(1, tmp + 16, sc);
    _tile_stored(2, tmp + 16 * BN, sc);
    _tile_stored(3, tmp + 16 * BN + 16, sc);
}

T_AMX static void tiles_on(void) {
    tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette_id = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
}

T_AMX static void tiles_off(void) { _tile_release(); }

int sngi_bgemm_amx(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c,
                   int ldc) {
    if (m <= 0 || n <= 0) return 0;
    if (sngi_isa_missing(SNGI_ISA_AMX)) /* never fault: a caller that skipped the check */
        return sngi_bgemm_ref(n_threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (n_threads < 1) n_threads = 1;
    int kq16 = ((k + 1) / 2 + 15) / 16 * 16, mb = (m + BM - 1) / BM, nb = (n + BN - 1) / BN;
    /* Packed operands: owned here, freed before returning. */
    size_t na = (size_t)mb * BM * kq16 * 4, nbb = (size_t)nb * BN * kq16 * 4;
    uint32_t *ap = aligned_alloc(64, na), *bp = aligned_alloc(64, nbb);
    if (!ap || !bp) {
        free(ap);
        free(bp);
        return -1;
    }
    /* Rows of op(A) are "panels" one column wide of op(A)^T; rows past m are zero. */
    sngi_bgemm_pack_b(n_threads, !ta, k, m, a, lda, 1, kq16, ap);
    memset(ap + (size_t)m * kq16, 0, (size_t)(mb * BM - m) * kq16 * 4);
    sngi_bgemm_pack_b(n_threads, tb, k, n, b, ldb, BN, kq16, bp);
    sngi_bgemm_scale_c(n_threads, m, n, beta, c, ldc);
    int64_t blocks = (int64_t)mb * nb;
#pragma omp parallel num_threads(n_threads) if (blocks > 1)
    {
        float tmp[BM * BN] __attribute__((aligned(64)));
        tiles_on();
#pragma omp for schedule(static)
        for (int64_t t = 0; t < blocks; t++) {
            int jb = (int)(t / mb), ib = (int)(t % mb), i0 = ib * BM, j0 = jb * BN;
            block(kq16, ap + (size_t)i0 * kq16, bp + (size_t)jb * BN * kq16, tmp);
            int mr = m - i0 < BM ? m - i0 : BM, nr = n - j0 < BN ? n - j0 : BN;
            for (int i = 0; i < mr; i++) {
                float *r = c + (int64_t)(i0 + i) * ldc + j0;
                for (int j = 0; j < nr; j++) r[j] += alpha * tmp[i * BN + j];
            }
        }
        tiles_off();
    }
    free(ap);
    free(bp);
    return 0;
}

#else
int sngi_bgemm_amx(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c,
                   int ldc) {
    return sngi_bgemm_ref(n_threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif
