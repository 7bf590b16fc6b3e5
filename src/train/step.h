/* The one training step: forward, loss, backward, hook, finiteness check, update. */
#ifndef NB_TRAIN_STEP_H
#define NB_TRAIN_STEP_H

#include "net/network.h"

/* Runs after the local gradients are complete and before any finiteness decision or update
   (so a process whose values are NaN still calls it).  grads: the gradient buffer (n_params
   floats, the parameters' layout); *loss: the batch loss.  On entry both are this process's
   share of the mean over the global_rows of the whole batch: the sum over the local_rows it
   computed divided by global_rows (0 rows: zeros; the step weighs the output gradient before
   backward, a pass over rows x outputs rather than one over the parameters).  On return they
   must be the means over the whole batch (MPI: the sums of the shares across ranks).  A status other than NB_OK stops the step before the update and is returned. */
typedef nb_status (*nb__step_hook)(void *ctx, float *grads, size_t n_params, size_t local_rows,
                                   size_t global_rows, double *loss);

/* Optional, with a hook: called during backward as soon as layer `layer`'s gradients
   (count floats at grads, W then b) are written, last layer first; on a process with no rows,
   for every layer in that order after the zeros are written.  It may start sending them
   (MPI), but must leave them as they are until the hook has run.  Also called with grads NULL
   and count 0 between the later products of backward: a point to progress the sums started
   (MPI_Test), as nothing else does while this process computes. */
typedef void (*nb__layer_hook)(void *ctx, float *grads, size_t count, size_t local_rows,
                               size_t global_rows);

/* A non-fused update: params <- f(params, grads) over the flat buffers (issue 12: gradient
   clipping, then nb_optim_step(opt, params, grads)).  Called only with finite gradients. */
typedef nb_status (*nb__update_fn)(void *ctx, float *params, float *grads, size_t n_params);

/* How a step ends.  update == NULL means plain SGD at rate lr; with hook also NULL that is
   the fused path (the gradient buffer is never written). */
typedef struct nb__step_cfg {
    nb_loss loss;
    float lr;
    nb__update_fn update;
    void *update_ctx;
    nb__step_hook hook;
    void *hook_ctx;
    nb__layer_hook layer_hook; /* NULL: none; only with hook (it shares hook_ctx) */
} nb__step_cfg;

/* One step on rows of X (rows x inputs) and T (rows x outputs), the local slice of a global
   batch of global_rows (rows == global_rows without slicing; rows may be 0 when a hook is set).
   Arguments are unchecked; the workspace holds rows.  *loss_out gets the batch loss (after the
   hook), also when the step stops.  NB_ERR_NONFINITE: the loss or the gradient is NaN or
   +-Inf, and nothing was updated; other errors come from the hook or the update. */
nb_status nb__train_step(nb_net *net, const nb__step_cfg *cfg, const float *X, const float *T,
                         size_t rows, size_t global_rows, double *loss_out);

#endif
