/* The sgemm floor of a workload: the sgemm calls nablas' BLAS path makes for one epoch
   (forward X W with beta = 1 over the bias, input gradient G W^T, and the weight update
   W <- W - lr X^T G fused as alpha = -lr, beta = 1), replayed with the same shapes and
   transposes and nothing else.  An engine cannot train faster than these calls take. */
#ifndef NB_BENCH_SGEMM_FLOOR_H
#define NB_BENCH_SGEMM_FLOOR_H

#include "workloads.h"

typedef struct sgemm_floor sgemm_floor;

sgemm_floor *floor_create(const bw_workload *w);
void floor_free(sgemm_floor *f);
double floor_epoch_time(sgemm_floor *f); /* seconds for one epoch of replayed calls */

#endif
