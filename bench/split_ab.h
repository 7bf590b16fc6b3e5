/* nablas-bench-train --split-ab / --split-sweep (split_ab.c). */
#ifndef NB_BENCH_SPLIT_AB_H
#define NB_BENCH_SPLIT_AB_H

#include <stdbool.h>
#include <stddef.h>

#include "bench_util.h"

/* The workloads (list, NULL: all) with the split rule, unsplit and on one thread. */
int split_ab(const char *workloads, int threads, size_t repeats, bool quick, bu_json *js);
/* Forced split vs unsplit over networks and batch sizes (the rule's measurements). */
int split_sweep(int threads, size_t repeats, bu_json *js);

#endif
