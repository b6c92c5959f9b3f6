# bench/ — benchmark programs (built by `make`, not installed).
# bench/ops: conv2d forward/backward GFLOP/s per VGG16 layer against BLIS sgemm.
noinst_PROGRAMS = bench/ops
bench_ops_SOURCES = bench/ops.c
bench_ops_CFLAGS = $(AM_CFLAGS)
bench_ops_LDADD = libsngcore.la -lm
# bench/serve_load: bounded concurrent HTTP load on `sngraph serve` (bench/serve_load.sh).
noinst_PROGRAMS += bench/serve_load
bench_serve_load_SOURCES = bench/serve_load.c
bench_serve_load_CFLAGS = $(AM_CFLAGS)
bench_serve_load_LDADD = -lpthread
