/*
 * kernels.h — the numeric kernels below the ops: CPU feature detection, fp32 <-> bf16
 * conversion and the bf16 GEMM (bf16 inputs, fp32 accumulation) with its three
 * implementations. This layer includes nothing from engine/, app/ or cli/: it sees only the C
 * library and the compiler's intrinsics, so ops (and tests) can call it directly.
 */
#ifndef SNGI_KERNELS_H
#define SNGI_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ---- CPU features (kernels/cpu.c) ------------------------------------------------------------ */
/* Which instruction sets the CPU has AND the OS lets us use (CPUID plus XCR0; for AMX also the
 * Linux tile-data permission). Computed once, cached; thread-safe. */
typedef struct sngi_cpu {
    int avx512f;     /* CPUID.7.0:EBX[16] and XCR0 opmask|ZMM state */
    int avx512bw;
    int avx512vl;
    int avx512_bf16; /* CPUID.7.1:EAX[5] */
    int amx_tile;    /* CPUID.7.0:EDX[24] and XCR0 XTILECFG|XTILEDATA */
    int amx_bf16;    /* CPUID.7.0:EDX[22] */
    int amx_perm;    /* arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) succeeded */
} sngi_cpu;
const sngi_cpu *sngi_cpu_get(void);

/* The bf16 GEMM implementations, in order of preference. */
typedef enum sngi_isa {
    SNGI_ISA_FP32 = 0,   /* no bf16: the fp32 BLIS path */
    SNGI_ISA_REF,        /* scalar bf16 reference (portable; tests and fallback) */
    SNGI_ISA_AVX512BF16, /* VDPBF16PS micro-kernel */
    SNGI_ISA_AMX         /* TDPBF16PS tile micro-kernel */
} sngi_isa;

/* Static name of an isa ("fp32", "bf16-ref", "avx512bf16", "amx"). */
const char *sngi_isa_name(sngi_isa isa);
/* NULL when the CPU (and OS) can run isa, else a static sentence naming what is missing,
 * e.g. "the CPU lacks amx_bf16". */
const char *sngi_isa_missing(sngi_isa isa);
/* The fastest bf16 isa this CPU runs (SNGI_ISA_AMX, _AVX512BF16), or SNGI_ISA_FP32 if none. */
sngi_isa sngi_isa_best(void);

/* ---- bf16 conversion (kernels/bf16.c) -------------------------------------------------------- */
typedef uint16_t sngi_bf16;
/* Round to nearest even; NaN stays NaN (made quiet), Inf stays Inf, overflow rounds to Inf.
 * Denormals become a zero of the same sign, as VCVTNE2PS2BF16 does (it assumes DAZ), so the
 * scalar and the vector conversion agree bit for bit. */
static inline sngi_bf16 sngi_f2bf(float f) {
    union { float f; uint32_t u; } v = {f};
    uint32_t mag = v.u & 0x7fffffffu;
    if (mag > 0x7f800000u) return (sngi_bf16)((v.u >> 16) | 0x0040u);
    if (mag < 0x00800000u) return (sngi_bf16)((v.u >> 16) & 0x8000u);
    return (sngi_bf16)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}
static inline float sngi_bf2f(sngi_bf16 h) {
    union { uint32_t u; float f; } v = {(uint32_t)h << 16};
    return v.f;
}
/* dst[i] = sngi_f2bf(src[i]) for n values; vectorised with AVX512-BF16 when the CPU has it
 * (bitwise equal to the scalar rounding). */
void sngi_f2bf_n(const float *src, sngi_bf16 *dst, int64_t n);

/* ---- bf16 GEMM (kernels/bgemm*.c) ------------------------------------------------------------ */
/* C(m x n, fp32, row-major, ldc) = alpha * op(A)(m x k) * op(B)(k x n) + beta * C.
 * A and B are fp32 (row-major; op = transpose when ta/tb): they are rounded to bf16 (nearest
 * even) while being packed, and products are summed in fp32. beta == 0 overwrites C (NaNs in C
 * do not propagate). Runs on n_threads OpenMP threads; each output block is owned by one thread
 * and summed in a fixed K order, so results are bitwise reproducible at any thread count.
 * isa must be runnable (sngi_isa_missing(isa) == NULL) and not SNGI_ISA_FP32.
 * Returns 0, or -1 when its packing buffers could not be allocated (C is then untouched and
 * the caller falls back to fp32). */
int sngi_bgemm(sngi_isa isa, int n_threads, int ta, int tb, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* The implementations behind sngi_bgemm (same contract); exposed for the tests. */
int sngi_bgemm_ref(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c,
                   int ldc);
int sngi_bgemm_avx512(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc);
int sngi_bgemm_amx(int n_threads, int ta, int tb, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c,
                   int ldc);

/* ---- shared by the implementations (kernels/bgemm_pack.c) ------------------------------------ */
/* op(A)(i,p) and op(B)(p,j) of row-major fp32 storage. */
static inline float sngi_opa(const float *a, int lda, int ta, int i, int p) {
    return ta ? a[(int64_t)p * lda + i] : a[(int64_t)i * lda + p];
}
/* C = beta * C over the m x n block (beta == 0 stores zeros), before accumulation. */
void sngi_bgemm_scale_c(int n_threads, int m, int n, float beta, float *c, int ldc);
/* Packs op(B) (k x n) into column panels of nr columns: panel jb holds, for each k-pair q in
 * [0, kq), nr 32-bit words (bf16 of op(B)(2q, j) in the low half, op(B)(2q+1, j) in the high
 * half): the VNNI pair layout VDPBF16PS and TDPBF16PS read. Rows past k and columns past n
 * are zero. dst has ceil(n/nr) * kq * nr words. */
void sngi_bgemm_pack_b(int n_threads, int tb, int k, int n, const float *b, int ldb, int nr,
                       int kq, uint32_t *dst);

#endif /* SNGI_KERNELS_H */
