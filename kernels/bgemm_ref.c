/*
 * bgemm_ref.c — the scalar bf16 GEMM: the definition the fast kernels are tested against and
 * the fallback on CPUs without bf16 instructions. Each operand is rounded to bf16 exactly as
 * the packers do, products are summed in fp32 in increasing K order; parallel over rows of C
 * (each row owned by one thread, so the result does not depend on the thread count).
 */
#include "config.h"

#include "kernels.h"

int sngi_bgemm_ref(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c,
                   int ldc) {
    if (m <= 0 || n <= 0) return 0;
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((int64_t)m * n * k > 32768)
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            float acc = 0;
            for (int p = 0; p < k; p++) {
                float av = sngi_bf2f(sngi_f2bf(sngi_opa(a, lda, ta, i, p)));
                float bv = sngi_bf2f(sngi_f2bf(tb ? b[(int64_t)j * ldb + p] : b[(int64_t)p * ldb + j]));
                acc += av * bv;
            }
            float *cp = c + (int64_t)i * ldc + j;
            *cp = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cp;
        }
    }
    return 0;
}
