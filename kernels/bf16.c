/*
 * bf16.c — fp32 -> bf16 conversion of arrays. With AVX512-BF16 one VCVTNE2PS2BF16 converts 32
 * floats; its rounding (nearest even, DAZ, quiet NaN) is what sngi_f2bf does, so the two agree
 * bit for bit and the choice never changes a result. The vector function carries its own
 * target attribute: the rest of the build stays generic x86-64.
 */
#include "config.h"

#include "kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SNGI_HAVE_AVX512BF16_CC 1

__attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl"))) static void
f2bf_avx512(const float *src, sngi_bf16 *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo = _mm512_loadu_ps(src + i), hi = _mm512_loadu_ps(src + i + 16);
        __m512bh v = _mm512_cvtne2ps_pbh(hi, lo);
        _mm512_storeu_si512((void *)(dst + i), (__m512i)v);
    }
    for (; i < n; i++) dst[i] = sngi_f2bf(src[i]);
}
#endif

void sngi_f2bf_n(const float *src, sngi_bf16 *dst, int64_t n) {
#ifdef SNGI_HAVE_AVX512BF16_CC
    if (sngi_cpu_get()->avx512_bf16) {
        f2bf_avx512(src, dst, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = sngi_f2bf(src[i]);
}
