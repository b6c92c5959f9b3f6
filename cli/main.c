/*
 * main.c — the sngraph program: process-wide set-up the library leaves to its host, then the
 * commands (cli.c).
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

/* libgomp reads its environment before main runs, so a wait policy can only be given by
 * running the program again with it set. Unset, idle OpenMP threads spin for up to 300,000
 * iterations, and two sngraph processes on the same cores then slow each other several-fold.
 * A short spin keeps a lone process as fast and lets others run. The user's own settings win;
 * SNG_NO_REEXEC=1 skips this. */
static void set_omp_policy(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || getenv("SNG_NO_REEXEC")) return;
    if (setenv("GOMP_SPINCOUNT", "10000", 1)) return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): go on with the defaults. */
}

/* Debian's BLIS 0.9 does not recognise the AVX-512 FMA units of some CPUs and falls back to
 * AVX2 kernels (~60% of the skx rate). BLIS reads BLIS_ARCH_TYPE once, so it is set before
 * the first session; the user's own value wins. */
static void set_blis_arch(void) {
    __builtin_cpu_init();
    if (!getenv("BLIS_ARCH_TYPE") && __builtin_cpu_supports("avx512f"))
        setenv("BLIS_ARCH_TYPE", "skx", 1);
}

int main(int argc, char **argv) {
    set_omp_policy(argv);
    set_blis_arch();
    return sngi_cli_main(argc, argv, stdout, stderr);
}
