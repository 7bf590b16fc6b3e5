/* nablas: inference from several threads at once.

   A context holds one thread's workspace for a network that is only read: load the network
   once, create one context per thread, and call nb_infer_predict from each thread on its own
   context.  After nb_infer_ctx_create nothing allocates.  The network (and the normaliser, if
   any) must outlive the contexts and must not be modified (trained, re-initialised, freed)
   while any context is in use; nb_net_* calls that run the network itself (predict, forward,
   train) must not run concurrently either, since they write its workspace.

   Results are bit-identical to nb_net_predict on the same rows and batch chunking.  OpenBLAS
   may run each sgemm on its own thread pool; with many calling threads, nb_set_threads(1)
   avoids oversubscribing the machine. */
#ifndef NABLAS_INFER_H
#define NABLAS_INFER_H

#include "net.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_infer_ctx nb_infer_ctx;

/* A context for batches of up to max_batch rows (larger inputs are processed in chunks of
   max_batch).  norm (may be NULL) is applied to the input first; it must have as many
   features as the network has inputs.  *out is set only on success. */
nb_status nb_infer_ctx_create(nb_infer_ctx **out, const nb_net *net, const nb_norm *norm,
                              size_t max_batch);
void nb_infer_ctx_free(nb_infer_ctx *ctx); /* NULL is a no-op */

/* Y (rows x outputs, caller's memory, not overlapping X) = the network's output for X
   (rows x inputs), any number of rows. */
nb_status nb_infer_predict(nb_infer_ctx *ctx, const nb_tensor *X, nb_tensor *Y);

#ifdef __cplusplus
}
#endif
#endif
