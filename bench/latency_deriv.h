/* The derivative rows of nablas-bench-latency (latency_deriv.c): J1, one row's Jacobian of the
   4-32-32-1 tanh surrogate beside one-row inference; J2, the Jacobian of 1,024 rows of W2's
   network (64-128-64-10, ReLU) beside one batched forward of the same rows. */
#ifndef NB_BENCH_LATENCY_DERIV_H
#define NB_BENCH_LATENCY_DERIV_H

#include <stddef.h>

#include "bench_util.h"

/* calls: timed one-row calls of each (J1); reps: timed batched calls of each (J2).
   Returns 0, or 1 if a network or context cannot be made. */
int lat_deriv_j1(size_t calls, bu_json *js);
int lat_deriv_j2(size_t reps, bu_json *js);

#endif
