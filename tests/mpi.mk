# MPI tests (configure --with-mpi): two ranks under mpirun on this machine train to the same
# parameters as one process with the doubled batch; a killed rank or an unwritable checkpoint
# ends the job cleanly. The test runs mpirun ($(MPIRUN), or $SNG_MPIRUN) on $SNG_BIN.
check_PROGRAMS += tests/test_mpi
tests_test_mpi_SOURCES = tests/harness.c tests/harness.h tests/test_mpi.c
tests_test_mpi_CFLAGS = $(TEST_CFLAGS) -DSNG_MPIRUN='"$(MPIRUN)"'
tests_test_mpi_LDADD = $(TEST_LIBS)
