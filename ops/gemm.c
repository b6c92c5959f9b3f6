/*
 * gemm.c — the one place that calls BLIS sgemm. A per-call rntm_t carries the thread count, so
 * GEMMs of concurrently running nodes split the cores instead of oversubscribing them.
 */
#include "config.h"

#include <blis.h>

#include "op.h"

void sngi_sgemm(int n_threads, int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(n_threads > 0 ? n_threads : 1, &rntm);
    /* Row-major op(A) (m x k) with leading dim lda: element (i,p) at a[i*lda + p], or, when
     * transposed, A is stored (k x m) and element (i,p) is at a[p*lda + i]. */
    bli_sgemm_ex(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &alpha, (float *)a, lda, 1,
                 (float *)b, ldb, 1, &beta, c, ldc, 1, NULL, &rntm);
}
