/* Shared pieces of the full-batch trainers (lm.c, lbfgs.c). */
#ifndef NB_TRAIN_FULLBATCH_H
#define NB_TRAIN_FULLBATCH_H

#include "core/base.h"
#include "nablas/fullbatch.h"

/* NULL, empty or mis-shaped X (rows x inputs) / T (rows x outputs), or dimensions BLAS cannot
   take. */
nb_status nb__fb_check_data(const nb_net *net, const nb_tensor *X, const nb_tensor *T);
/* True if every element is finite. */
bool nb__fb_finite(const double *a, size_t n);

#endif
