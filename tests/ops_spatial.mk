# Op tests: convolution, pooling, dense, flatten/reshape (helper-owned fragment).
check_PROGRAMS += tests/test_ops_spatial
tests_test_ops_spatial_SOURCES = tests/harness.c tests/harness.h tests/opcheck.c tests/opcheck.h \
	tests/test_ops_spatial.c
tests_test_ops_spatial_CFLAGS = $(TEST_CFLAGS)
tests_test_ops_spatial_LDADD = $(TEST_LIBS)
