/*
 * inspect.h — what the tool commands (plan, bench) show of a session: the memory plan as a
 * table, JSON or SVG, the per-op profile, synthetic inputs and the sgemm probe. They go through
 * engine/state.h, so the commands need no view of the session's structure.
 */
#ifndef SNG_APP_INSPECT_H
#define SNG_APP_INSPECT_H

#include <stdio.h>

#include "engine/state.h"

/* Prints the plan of s (built for `batch`, training or not): totals and every buffer, as a table
 * or (json) one JSON object. */
void sngi_plan_print(FILE *out, const sng_session *s, long batch, int training, int json);
/* Draws the buffers of s in time x address into an SVG file at path. Returns 0, or the errno
 * of the open or of a failed write. */
int sngi_plan_svg(const sng_session *s, const char *path);
/* Prints the profile accumulated over `steps` steps since sngi_session_profile: time per op
 * and pass, with its share. Nothing when the session was not profiled. */
void sngi_profile_print(FILE *out, const sng_session *s, long steps);
/* Fills every graph input of s: labels (one element) alternate 0/1, images are uniform in
 * [0,1) from seed. */
void sngi_fill_inputs(sng_session *s, uint64_t seed);
/* GFLOP/s of an n x n x n sgemm on `threads` threads (best of 3 after a warm-up); 0 on OOM. */
double sngi_sgemm_peak(int threads, int n);

#endif
