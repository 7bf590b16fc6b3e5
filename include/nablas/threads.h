/* nablas: the one owner of thread counts.  nablas has one thread pool of its own (for the
   batch split of the training step) and lets OpenBLAS parallelise the large sgemm calls; this
   sets both so that the two never oversubscribe the machine. */
#ifndef NABLAS_THREADS_H
#define NABLAS_THREADS_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of threads nablas may use (n >= 1).  Affects the whole process.  n is a
   limit, used in one of two ways per training step (docs/performance.md, "Threads"):
   - a matrix product large enough to gain from threads (a crossover measured on real
     machines) runs on all n OpenBLAS threads; smaller ones run on one.  nablas sets
     OpenBLAS's count itself when it changes, so call this, not openblas_set_num_threads,
     while nablas is in use;
   - a small network's training step, where no product is that large, splits its batch into
     up to n parts run by nablas' thread pool (each part's products on one thread, OpenBLAS
     set to one thread meanwhile) when the step is large enough (a rule also measured).  The
     parts' gradients are summed in a fixed order: results are the same run after run at a
     given n, and differ from one thread's only by the order of the sums (last bits).
   The pool's n - 1 workers are made on first use (or before the first step of a run), spin
   briefly after each step then sleep, and are joined when n is lowered, when the library is
   unloaded and at exit; a child of fork() makes its own.  On a machine whose cores are busy
   with other work, threads wait for each other: use n = 1 there. */
nb_status nb_set_threads(int n);

/* The limit set by nb_set_threads (at first, OpenBLAS's start value: OPENBLAS_NUM_THREADS or
   the number of cores). */
int nb_get_threads(void);

/* The OpenBLAS kernel family in use (e.g. "Cooperlake", "Haswell"); static string, never NULL. */
const char *nb_blas_corename(void);

#ifdef __cplusplus
}
#endif
#endif
