/* nablas: the one owner of thread counts.  nablas runs its own kernels on the calling thread
   and lets OpenBLAS parallelise the sgemm calls; this sets OpenBLAS's pool so that the two
   never oversubscribe the machine. */
#ifndef NABLAS_THREADS_H
#define NABLAS_THREADS_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of BLAS threads (n >= 1).  Affects the whole process. */
nb_status nb_set_threads(int n);

/* Current number of BLAS threads. */
int nb_get_threads(void);

/* The OpenBLAS kernel family in use (e.g. "Cooperlake", "Haswell"); static string, never NULL. */
const char *nb_blas_corename(void);

#ifdef __cplusplus
}
#endif
#endif
