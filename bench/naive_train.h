/* The trainer a user would write with plain loops: the same network, loss and SGD as the
   workload, mini-batch by mini-batch, no BLAS.  The baseline of the "naive" columns. */
#ifndef NB_BENCH_NAIVE_TRAIN_H
#define NB_BENCH_NAIVE_TRAIN_H

#include "workloads.h"

typedef struct naive_net naive_net;

naive_net *naive_create(const bw_workload *w, uint64_t seed);
void naive_free(naive_net *n);
/* One SGD step on `batch` rows; returns the batch loss. */
double naive_step(naive_net *n, const float *X, const float *T, size_t batch);
/* Seconds for the first `steps` steps of an epoch (all of them if steps is 0 or too large). */
double naive_epoch_time(naive_net *n, const bw_workload *w, size_t steps);

#endif
