# Op tests: elementwise, distances, normalisation, dropout and losses (helper-owned fragment).
check_PROGRAMS += tests/test_ops_elem
tests_test_ops_elem_SOURCES = tests/harness.c tests/harness.h tests/opcheck.c tests/opcheck.h \
	tests/test_ops_elem.c
tests_test_ops_elem_CFLAGS = $(TEST_CFLAGS)
tests_test_ops_elem_LDADD = $(TEST_LIBS)
# Every op in the registry has a forward reference test and a gradient check (the table there).
check_PROGRAMS += tests/test_op_coverage
tests_test_op_coverage_SOURCES = tests/harness.c tests/harness.h tests/test_op_coverage.c
tests_test_op_coverage_CFLAGS = $(TEST_CFLAGS)
tests_test_op_coverage_LDADD = $(TEST_LIBS)
