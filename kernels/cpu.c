/*
 * cpu.c — which bf16 instruction sets this process may use. CPUID says what the CPU has; XCR0
 * (xgetbv) says which register states the OS saves, without which the instructions fault; and
 * Linux hands out AMX tile data (8 KiB a thread) only after arch_prctl(ARCH_REQ_XCOMP_PERM).
 * Detection runs once; the result is immutable afterwards.
 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>

#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define SNGI_X86 1
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static sngi_cpu cpu;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

#ifdef SNGI_X86
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static void detect(void) {
#ifdef SNGI_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return; /* no OSXSAVE: no xgetbv */
    uint64_t xcr0 = xgetbv0();
    /* bits 1,2 SSE/AVX; 5,6,7 opmask, ZMM_Hi256, Hi16_ZMM; 17,18 XTILECFG, XTILEDATA */
    int os_zmm = (xcr0 & 0xe6) == 0xe6, os_tile = (xcr0 & 0x60000) == 0x60000;
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    cpu.avx512f = os_zmm && (b >> 16 & 1);
    cpu.avx512bw = cpu.avx512f && (b >> 30 & 1);
    cpu.avx512vl = cpu.avx512f && (b >> 31 & 1);
    cpu.amx_bf16 = os_tile && (d >> 22 & 1);
    cpu.amx_tile = os_tile && (d >> 24 & 1);
    unsigned max_sub = a;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        cpu.avx512_bf16 = cpu.avx512bw && cpu.avx512vl && (a >> 5 & 1);
    }
#if defined(__linux__)
    if (cpu.amx_tile && cpu.amx_bf16)
        cpu.amx_perm = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    cpu.amx_perm = cpu.amx_tile; /* other OSes enable tile state through XCR0 alone */
#endif
#endif
}

const sngi_cpu *sngi_cpu_get(void) {
    pthread_once(&cpu_once, detect);
    return &cpu;
}

const char *sngi_isa_name(sngi_isa isa) {
    switch (isa) {
    case SNGI_ISA_FP32: return "fp32";
    case SNGI_ISA_REF: return "bf16-ref";
    case SNGI_ISA_AVX512BF16: return "avx512bf16";
    case SNGI_ISA_AMX: return "amx";
    }
    return "?";
}

const char *sngi_isa_missing(sngi_isa isa) {
    const sngi_cpu *p = sngi_cpu_get();
    switch (isa) {
    case SNGI_ISA_FP32:
    case SNGI_ISA_REF: return NULL;
    case SNGI_ISA_AVX512BF16:
        if (!p->avx512f) return "the CPU (or the OS) lacks avx512f";
        if (!p->avx512_bf16) return "the CPU lacks avx512_bf16";
        return NULL;
    case SNGI_ISA_AMX:
        if (!p->amx_tile) return "the CPU (or the OS) lacks amx_tile";
        if (!p->amx_bf16) return "the CPU lacks amx_bf16";
        if (!p->amx_perm)
            return "the kernel refused AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM failed)";
        return NULL;
    }
    return "an unknown isa";
}

sngi_isa sngi_isa_best(void) {
    if (!sngi_isa_missing(SNGI_ISA_AMX)) return SNGI_ISA_AMX;
    if (!sngi_isa_missing(SNGI_ISA_AVX512BF16)) return SNGI_ISA_AVX512BF16;
    return SNGI_ISA_FP32;
}
