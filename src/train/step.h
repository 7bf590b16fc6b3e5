/* The one training step: forward, loss, backward, hooks, finiteness check, update. */
#ifndef NB_TRAIN_STEP_H
#define NB_TRAIN_STEP_H

#include "net/network.h"

/* Runs after the local gradients are complete and before any finiteness decision or update
   (so a process whose values are NaN still calls it).  grads: the gradient buffer (n_params
   floats, the parameters' layout); *loss: the batch loss.  On entry both are this process's
   share of the mean over the global_rows of the whole batch: the sum over the local_rows it
   computed divided by global_rows (0 rows: zeros; the step weighs the output gradient before
   backward, a pass over rows x outputs rather than one over the parameters).  On return they
   must be the means over the whole batch (MPI: the sums of the shares across ranks).  A
   status other than NB_OK stops the step before the update and is returned. */
typedef nb_status (*nb__step_hook)(void *ctx, float *grads, size_t n_params, size_t local_rows,
                                   size_t global_rows, double *loss);

/* Optional: called during backward as soon as layer `layer`'s gradients (count floats at
   grads, W then b) are written, last layer first; on a process with no rows, for every layer
   in that order after the zeros are written.  It may start sending them (MPI), but must leave
   them as they are until the step hook has run.  Also called with grads NULL and count 0
   between the later products of backward: a point to progress the sums started (MPI_Test),
   as nothing else does while this process computes. */
typedef void (*nb__layer_hook)(void *ctx, float *grads, size_t count, size_t local_rows,
                               size_t global_rows);

/* The sums of a step computed in slices by several processes. */
typedef struct nb__step_hooks {
    nb__step_hook sum;     /* set */
    nb__layer_hook layer;  /* NULL: none */
    void *ctx;
} nb__step_hooks;

/* A non-fused update at rate lr: params <- f(params, grads) over the flat buffers.  Called
   only with finite gradients. */
typedef nb_status (*nb__update_fn)(void *ctx, float *params, float *grads, size_t n_params,
                                   double lr);

/* Plain SGD as an update (nb__update_fn; ctx unused): params -= (float)lr * grads. */
nb_status nb__sgd_update(void *ctx, float *params, float *grads, size_t n_params, double lr);

/* How every step of a run ends.  fused: plain SGD inside backward, layer by layer, the
   gradient buffer never written (only without hooks); a step the pool splits, or with
   fused false, writes the gradient and calls update. */
typedef struct nb__step_cfg {
    nb_loss loss;
    bool fused;
    nb__update_fn update;
    void *update_ctx;
    const nb__step_hooks *hooks; /* NULL: this process computes the whole batch */
} nb__step_cfg;

/* What changes from step to step: the rate and the dropout masks. */
typedef struct nb__step_at {
    double lr;
    nb__drop_at drop;
} nb__step_at;

/* One step on rows of X (rows x inputs) and T (rows x outputs), the local slice of a global
   batch of global_rows (rows == global_rows without hooks; rows may be 0 with hooks).
   Arguments are unchecked; the workspace holds rows.  *loss_out gets the batch loss (after
   the hooks), also when the step stops.  NB_ERR_NONFINITE: the loss or the gradient is NaN
   or +-Inf, and nothing was updated; other errors come from the hooks or the update. */
nb_status nb__train_step(nb_net *net, const nb__step_cfg *cfg, const nb__step_at *at,
                         const float *X, const float *T, size_t rows, size_t global_rows,
                         double *loss_out);

#endif
