# bench/ — benchmark programs (built by `make`, not installed).
# bench/ops: conv2d forward/backward GFLOP/s per VGG16 layer against BLIS sgemm.
noinst_PROGRAMS = bench/ops
bench_ops_SOURCES = bench/ops.c
bench_ops_CFLAGS = $(AM_CFLAGS)
bench_ops_LDADD = libsngcore.la -lm
