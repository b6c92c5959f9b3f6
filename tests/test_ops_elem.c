/* placeholder: replaced by the op tests */
#include "harness.h"
static void t(void) { CU_ASSERT(1); }
static CU_TestInfo tests[] = {{"placeholder", t}, CU_TEST_INFO_NULL};
CU_SuiteInfo sngt_suites[] = {{"ops", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
