/* nablas: mixed precision for training.

   NB_PRECISION_BF16 runs the three products of each dense layer in training (forward, input
   gradient, weight gradient) on bf16 copies of their inputs, rounded to nearest even, with
   fp32 accumulation and fp32 results, through oneDNN's matmul.  The parameters (master
   weights), gradient sums, losses and the optimizer stay in fp32, and so do prediction,
   evaluation and inference contexts.  It needs a library built with oneDNN (-Ddnnl, see
   docs/performance.md) and a CPU with AVX512-BF16. */
#ifndef NABLAS_PRECISION_H
#define NABLAS_PRECISION_H

#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nb_precision {
    NB_PRECISION_FP32, /* the default: every product in fp32 */
    NB_PRECISION_BF16, /* bf16 inputs, fp32 accumulation, in the training products */
    NB_PRECISION_COUNT
} nb_precision;

/* NB_OK if precision p can run here; NB_ERR_UNSUPPORTED if the library was built without
   oneDNN, NB_ERR_CPU if this CPU lacks AVX512-BF16 (never an illegal instruction);
   NB_ERR_ARG for an unknown p.  FP32 is always available. */
nb_status nb_precision_available(nb_precision p);

/* Sets the precision of net's training products (the same statuses as above, and
   NB_ERR_NULL, NB_ERR_NOMEM); on failure net keeps its precision. */
nb_status nb_net_set_precision(nb_net *net, nb_precision p);
nb_precision nb_net_precision(const nb_net *net); /* FP32 if net is NULL */

/* "fp32", "bf16"; NULL for an unknown value.  nb_precision_parse is its inverse:
   NB_ERR_ARG for an unknown name. */
const char *nb_precision_name(nb_precision p);
nb_status nb_precision_parse(nb_precision *out, const char *name);

#ifdef __cplusplus
}
#endif
#endif
