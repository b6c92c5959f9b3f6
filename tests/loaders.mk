# Loader tests: decoders, sources, bad input, splits, samplers, prefetch, `sngraph data`, and the
# real datasets in ../shared/data (skipped when absent). The test writes its own archives and
# images, so it also links the writers of libarchive, libpng, libjpeg and zlib directly.
check_PROGRAMS += tests/test_loaders
tests_test_loaders_SOURCES = tests/harness.c tests/harness.h tests/test_loaders.c
tests_test_loaders_CFLAGS = $(TEST_CFLAGS)
tests_test_loaders_LDADD = $(TEST_LIBS) $(ARCHIVE_LIBS) $(PNG_LIBS) $(ZLIB_LIBS) $(JPEG_LIBS) \
	-lpthread
