/*
 * test_exec.c — autodiff, planner and executor: gradients of whole models, planned vs unplanned
 * execution, planner properties over random DAGs.
 */
#include <string.h>

#include "engine/session.h"
#include "harness.h"
#include "opcheck.h"

static void test_exec_dense_gradcheck(void) {
    const char *xml = "<model><input name='a' shape='7'/>"
                      "<dense name='d1' in='a' units='5' activation='sigmoid'/>"
                      "<dense name='d2' in='d1' units='3' activation='tanh'/>"
                      "<output name='d2'/></model>";
    CU_ASSERT_EQUAL(sngt_gradcheck(xml, 3, NULL, 1e-2, 1e-4), 0);
}

static void test_exec_fanout_gradcheck(void) {
    /* d1 feeds two consumers: its gradient is the sum of both uses. */
    const char *xml = "<model><input name='a' shape='6'/>"
                      "<dense name='d1' in='a' units='4' activation='tanh'/>"
                      "<dense name='d2' in='d1' units='2'/>"
                      "<dense name='d3' in='d1' units='2'/>"
                      "<output name='d2'/><output name='d3'/></model>";
    CU_ASSERT_EQUAL(sngt_gradcheck(xml, 2, NULL, 1e-2, 1e-4), 0);
}

static CU_TestInfo exec_tests[] = {
    {"test_exec_dense_gradcheck", test_exec_dense_gradcheck},
    {"test_exec_fanout_gradcheck", test_exec_fanout_gradcheck},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {
    {"exec", NULL, NULL, NULL, NULL, exec_tests},
    CU_SUITE_INFO_NULL,
};
