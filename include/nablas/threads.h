/* nablas: the one owner of thread counts.  nablas runs its own kernels on the calling thread
   and lets OpenBLAS parallelise the sgemm calls; this sets OpenBLAS's pool so that the two
   never oversubscribe the machine. */
#ifndef NABLAS_THREADS_H
#define NABLAS_THREADS_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of BLAS threads (n >= 1).  Affects the whole process.  n is a limit: nablas
   runs each matrix product it issues on all n threads only when the product is large enough to
   gain from them (a crossover measured on real machines, docs/performance.md) and on one thread
   otherwise, setting OpenBLAS's count itself when it changes; so call this, not
   openblas_set_num_threads, while nablas is in use. */
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
