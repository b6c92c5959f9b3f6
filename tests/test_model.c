/* test_model.c — placeholder, filled below */
#include "harness.h"
static void t(void) { CU_ASSERT(1); }
static CU_TestInfo tests[] = {{"t", t}, CU_TEST_INFO_NULL};
CU_SuiteInfo sngt_suites[] = {{"model", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
