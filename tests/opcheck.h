/*
 * opcheck.h — test helpers for ops: run a small model given as an XML string on the real
 * executor in its unplanned mode (every buffer malloc'd separately), and check gradients
 * against central finite differences.
 *
 * Typical use:
 *   static const char *xml =
 *     "<model><input name='a' shape='3,7,7'/>"
 *     "<conv2d name='c' in='a' filters='4' kernel='3' stride='2' pad='same'/>"
 *     "<output name='c'/></model>";
 *   sngt_run *r = sngt_run_new(xml, 2, 42);          // batch 2, seed 42 (random inputs/params)
 *   float *a = sngt_run_buf(r, "a");                 // input (2,3,7,7): overwrite if you like
 *   float *w = sngt_run_param(r, "c/W");             // parameter by name
 *   sngt_run_forward(r);
 *   float *y = sngt_run_buf(r, "c");                 // compare with a reference in double
 *   sngt_run_free(r);
 *
 *   sngt_gradcheck(xml, 2, NULL, 1e-2, 1e-3);        // every input and parameter
 */
#ifndef SNGT_OPCHECK_H
#define SNGT_OPCHECK_H

#include <stdint.h>

#include <sngraph/sngraph.h>

typedef struct sngt_run sngt_run;

/* Compiles xml (CU_FAIL and NULL on error; the message is printed), allocates every buffer, fills
 * inputs with U(-1,1) and parameters by their initialisers from seed. `training` defaults to 1
 * (batchnorm uses batch statistics, dropout drops); use sngt_run_new_mode for inference. */
sngt_run *sngt_run_new(const char *xml, int batch, uint64_t seed);
sngt_run *sngt_run_new_mode(const char *xml, int batch, uint64_t seed, int training);
/* The value buffer of a node (inputs: write before forward), batch-major. NULL if no such node. */
float *sngt_run_buf(sngt_run *r, const char *node);
/* Gradient buffer of a node's output (after backward), or NULL. */
float *sngt_run_grad(sngt_run *r, const char *node);
/* A parameter by full name ("c/W"), and its gradient; NULL if absent. */
float *sngt_run_param(sngt_run *r, const char *name);
float *sngt_run_param_grad(sngt_run *r, const char *name);
/* Elements of a node's value for the whole batch. */
int64_t sngt_run_numel(sngt_run *r, const char *node);
/* Forward of every node; returns the total weighted loss (0 if the model has no loss). */
double sngt_run_forward(sngt_run *r);
/* Backward: losses seeded with 1; with no loss, the <output> gradients are taken as they are
 * in sngt_run_grad(output) (set them before calling). */
void sngt_run_backward(sngt_run *r);
void sngt_run_free(sngt_run *r);
/* The run's graph and session (owned by the run). */
sng_graph *sngt_run_graph(sngt_run *r);
sng_session *sngt_run_session(sngt_run *r);

/* Finite-difference check of d(objective)/d(every non-label input and every trainable
 * parameter), central differences with step eps on float data, accumulated in double. The
 * objective is the total weighted loss, or, with no loss, sum(r * output) over every <output>
 * with fixed random r. `labels` lists input names (space-separated) filled with random 0/1 and
 * not checked (may be NULL). Checks at most 64 elements per tensor (spread evenly).
 * Passes when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|) everywhere;
 * prints the worst case. Returns the number of failures (also CU_ASSERTed). */
int sngt_gradcheck(const char *xml, int batch, const char *labels, double rtol, double atol);
/* Same with an explicit eps (default 1e-2 in sngt_gradcheck) and seed. */
int sngt_gradcheck_ex(const char *xml, int batch, const char *labels, double rtol, double atol,
                      double eps, uint64_t seed);

#endif
