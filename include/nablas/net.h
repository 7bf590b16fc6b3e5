/* nablas: a network of dense layers, its training loop, evaluation and prediction.

   Ownership.  nb_net_create allocates the network; nb_net_free releases everything it owns.
   The parameter and gradient buffers, and every view or pointer the getters below return,
   belong to the network and stay valid until nb_net_free (nb_net_forward's output view only
   until the next call that runs the network).  Tensors passed in stay the caller's.

   Layout.  All parameters live in one contiguous float buffer, layer after layer:
   W_0 (in_0 x out_0, row-major), b_0 (out_0), W_1, b_1, ...  The gradients live in a second
   buffer of the same length and layout.  Both may be read and written by the caller.

   Memory.  Workspace for a batch size is allocated on first use of that size (or up front by
   nb_net_reserve); afterwards forward, backward, sgd_step and train_step allocate nothing for
   batches of that size or smaller.

   Threads.  One network must not be used from two threads at once. */
#ifndef NABLAS_NET_H
#define NABLAS_NET_H

#include <stdbool.h>
#include <stdint.h>
#include "kernels.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_layer_spec {
    size_t units; /* output width of the layer, >= 1 */
    nb_act act;   /* activation applied to its output */
    /* Inverted dropout on the layer's output (after the activation, as torch.nn.Dropout):
       in training each output is zeroed with probability `dropout` and the others scaled by
       1 / (1 - dropout); prediction, evaluation and inference never drop.  In [0, 1); 0 (the
       default of a zeroed spec): none.  Hidden layers only (NB_ERR_ARG on the output layer).
       Model files do not keep it (it does not change inference; see docs/model-format.md). */
    float dropout;
} nb_layer_spec;

typedef struct nb_net nb_net;

/* Creates a network of n_layers dense layers on `inputs` input features, initialised from
   `seed` (see nb_net_init_params).  *net is set only on success. */
nb_status nb_net_create(nb_net **net, size_t inputs, const nb_layer_spec *layers, size_t n_layers,
                        uint64_t seed);
void nb_net_free(nb_net *net); /* NULL is a no-op */

/* *out = a deep, independent copy of src: the same layers (units, activations, dropout rates),
   parameters, gradients, training precision (nablas/precision.h) and dropout-mask setting
   (nb_net_set_dropout_masks).  The copy shares no buffer with src: training or freeing one
   leaves the other as it was; the caller frees it with nb_net_free.  Its workspace is not
   copied but allocated on first use (or by nb_net_reserve), as a new network's is.  Statuses:
   NB_ERR_NULL if out or src is NULL, NB_ERR_NOMEM (then *out is left as it was), and those of
   nb_net_set_precision for a bf16 network.  Allocates five blocks for an fp32 network. */
nb_status nb_net_clone(nb_net **out, const nb_net *src);

/* Deterministic initialisation: biases 0; weights of a layer followed by ReLU or leaky ReLU are
   He-normal, N(0, 2 / fan_in); all others Xavier/Glorot-uniform, U(-a, a) with
   a = sqrt(6 / (fan_in + fan_out)).  Same seed, same parameters (the uniform draws are the
   same on every platform; normal draws use libm's log and cos, whose last bits may differ). */
nb_status nb_net_init_params(nb_net *net, uint64_t seed);

size_t nb_net_inputs(const nb_net *net);     /* 0 if net is NULL */
size_t nb_net_outputs(const nb_net *net);    /* 0 if net is NULL */
size_t nb_net_num_layers(const nb_net *net); /* 0 if net is NULL */
size_t nb_net_num_params(const nb_net *net); /* 0 if net is NULL */
nb_status nb_net_layer(const nb_net *net, size_t layer, nb_layer_spec *spec);

/* Sets layer `layer`'s dropout probability (as nb_layer_spec.dropout; e.g. on a loaded model
   before training it again).  NB_ERR_ARG: p outside [0, 1), or p > 0 on the output layer. */
nb_status nb_net_set_dropout(nb_net *net, size_t layer, float p);
/* Whether nb_net_forward (and the nb_net_backward after it) apply dropout, and the seed of
   their masks: the same seed gives the same masks (a frozen mask, e.g. for a gradient check).
   Off by default.  The training loop draws its own masks from (opts->seed, step) whatever
   this says, and leaves it as it found it.  nb_net_gradcheck takes its losses from
   nb_net_evaluate, which never drops: check a network with dropout with the masks off. */
nb_status nb_net_set_dropout_masks(nb_net *net, bool on, uint64_t seed);

/* The parameter / gradient buffers (nb_net_num_params floats each), or NULL if net is NULL. */
float *nb_net_params(nb_net *net);
float *nb_net_grads(nb_net *net);
/* Views of one layer's W (in x out) and b (1 x out) inside those buffers. */
nb_status nb_net_layer_params(nb_net *net, size_t layer, nb_tensor *W, nb_tensor *b);
nb_status nb_net_layer_grads(nb_net *net, size_t layer, nb_tensor *dW, nb_tensor *db);

/* Allocates the workspace for batches of up to max_batch rows now, so that no later call
   allocates. */
nb_status nb_net_reserve(nb_net *net, size_t max_batch);

/* Runs X (batch x inputs) through the network and keeps every layer's activations for
   nb_net_backward.  If Y is not NULL, *Y becomes a view of the output (batch x outputs), owned
   by the network.  X must stay unchanged until nb_net_backward has run. */
nb_status nb_net_forward(nb_net *net, const nb_tensor *X, nb_tensor *Y);

/* Gradients of `loss` against targets T (batch x outputs) for the last forward batch, written
   (not accumulated) into the gradient buffer.  *loss_out (if not NULL) gets the loss value.
   NB_ERR_LOSS_ACT if loss is SOFTMAX_CE and the output layer is not NB_ACT_IDENTITY (it takes
   logits); NB_ERR_STATE if no forward ran since the last backward or parameter change. */
nb_status nb_net_backward(nb_net *net, nb_loss loss, const nb_tensor *T, float *loss_out);

/* P <- P - lr dP over the whole parameter buffer in one call. */
nb_status nb_net_sgd_step(nb_net *net, float lr);

/* One step of mini-batch gradient descent: forward, loss, backward and the update.  May fuse
   the update into the backward pass: the gradient buffer's contents are unspecified afterwards
   (use forward + backward + sgd_step when the gradients are needed).  NB_ERR_NONFINITE (and
   no update) if the loss or the output's gradient is NaN or +-Inf; *loss_out is still set. */
nb_status nb_net_train_step(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                            float lr, float *loss_out);

/* Y (rows x outputs, caller's memory) = the network's output for X (rows x inputs), any number
   of rows; processes X in chunks and allocates workspace only if none is reserved. */
nb_status nb_net_predict(nb_net *net, const nb_tensor *X, nb_tensor *Y);

typedef struct nb_eval {
    double loss;     /* the loss over all rows, as nb_loss_forward defines it */
    double accuracy; /* fraction of rows classified right: argmax(y) == argmax(t) when there
                        are >= 2 outputs, (y >= 0.5) == (t >= 0.5) for one output */
    size_t rows;
} nb_eval;
nb_status nb_net_evaluate(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                          nb_eval *out);

/* ---- training loop ------------------------------------------------------------------------- */

typedef struct nb_epoch_info {
    size_t epoch;  /* 1-based, global: a resumed run goes on counting */
    size_t epochs; /* requested */
    double loss;   /* mean training loss of the epoch (weighted by batch rows) */
    size_t steps;  /* optimizer steps (global batches) taken so far, resumed runs included */
    double val_loss; /* loss on the validation rows after this epoch; NAN without them */
    double val_accuracy; /* their accuracy as nb_net_evaluate gives it (classification: one
                            column per class, or one 0/1 column); NAN without them */
} nb_epoch_info;

/* Called after every epoch; return non-zero to stop training. */
typedef int (*nb_epoch_fn)(const nb_epoch_info *info, void *user);

typedef struct nb_train_opts {
    nb_loss loss;
    size_t batch_size;   /* >= 1; a last partial batch is used, not dropped */
    size_t epochs;       /* >= 1 */
    /* finite, >= 0: plain SGD's rate.  Its update is in float, so the run uses lr rounded to
       float (as the schedule's base and in checkpoints too). */
    double lr;
    uint64_t seed;       /* drives the shuffling */
    bool shuffle;        /* reshuffle rows each epoch (a permutation drawn from seed) */
    nb_epoch_fn on_epoch; /* may be NULL */
    void *user;          /* passed to on_epoch */
    /* The optimizer (include/nablas/optim.h).  NULL: plain SGD at `lr`.  An optimizer that is
       plain SGD (NB_OPTIM_SGD without momentum or weight decay, its other fields at their
       defaults) is the same run as NULL with its lr rounded to float: the trainer decides the
       update from these options and fuses plain SGD's into the backward pass unless clipping
       needs the gradient.  Any other optimizer's own lr replaces `lr`; the trainer keeps it (and
       its state) for its next run with the same options (lr aside). */
    const nb_optim_opts *optim;
    /* NULL: the rate stays constant.  Otherwise it gives the rate of every step: its base_lr is
       replaced by the rate above, and total_steps 0 means the whole run (epochs times the
       batches of an epoch).  Step t of the schedule is the run's (t+1)-th update. */
    const nb_schedule *schedule;
    /* > 0: before every update the gradient's global L2 norm is clipped to clip_norm
       (nb_clip_grad_norm, after the step hook); 0: no clipping. */
    double clip_norm;
    /* Validation rows (both or neither; NULL: none): after every epoch their loss
       (nb_net_evaluate, never dropping) goes to the callback and decides early stopping. */
    const nb_tensor *X_val, *T_val;
    /* > 0 (needs the validation rows): training stops after `patience` epochs in a row without
       a validation loss strictly below the best so far.  0: no early stopping. */
    size_t patience;
    /* With the validation rows: at the end, the network gets back the parameters of the epoch
       with the lowest validation loss (kept in a buffer allocated before the first step). */
    bool restore_best;
    /* false: a fresh run from epoch 1.  true: continue the trainer's recorded run
       (include/nablas/checkpoint.h): epochs epochs_done+1 .. epochs (epochs stays the total,
       as if never interrupted; == epochs_done runs nothing; fewer: NB_ERR_ARG), with the same
       shuffle order, schedule position, dropout masks, early-stopping state and the
       optimizer's state continued.  The recorded options (loss, batch_size, seed, shuffle, the
       number of rows, lr, optim, schedule, clip_norm, patience, restore_best, the number of
       validation rows) must equal this run's, else NB_ERR_ARG and nothing changes;
       NB_ERR_STATE if the trainer has no run to continue (none yet, or its last run failed).
       A run whose position says stopped runs no epoch and reports stopped_early. */
    bool resume;
} nb_train_opts;

/* MSE, batch 32, 10 epochs, lr 0.01, seed 0, shuffle on, no callback; plain SGD at a constant
   rate without clipping (optim and schedule NULL, clip_norm 0); no validation rows, patience
   0, restore_best false; a fresh run (resume false). */
nb_train_opts nb_train_opts_default(void);

typedef struct nb_train_report {
    size_t epochs_run; /* the global number of the last epoch completed (a resumed run
                          counts the epochs before it); steps likewise */
    size_t steps;
    double last_loss;  /* mean loss of the last epoch run */
    bool stopped_early; /* the callback or the patience stopped training before the requested
                           epochs */
    size_t best_epoch;    /* 1-based epoch of the lowest validation loss; 0 without validation */
    double best_val_loss; /* that loss; NAN without validation */
    bool restored;        /* restore_best put that epoch's parameters back */
} nb_train_report;

/* Trains on X (rows x inputs) and T (rows x outputs).  Allocates its workspace before the
   first step, none during training (a trainer, below, that lives only for this call).
   report may be NULL; it is filled also when training stops with an error.
   Epoch e (1-based, global) visits the rows in the order nb_rng_shuffle(perm, rows, seed,
   e - 1) gives, or in their order without shuffling.
   Non-finite values: if a batch's loss or gradient is NaN or +-Inf, training stops before that
   update with NB_ERR_NONFINITE, and the network keeps finite parameters (those of that step,
   or those of the start of the epoch if the broken values had already reached them);
   report->steps counts the updates made and epochs_run the epochs completed. */
nb_status nb_net_train(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                       const nb_train_opts *opts, nb_train_report *report);

/* A trainer runs nb_net_train's loop on a network it borrows (the network must outlive it)
   and keeps the loop's buffers (row order, gathered batch, parameter copy) between runs:
   a later run on as many rows, with the same batch size, allocates nothing. */
typedef struct nb_trainer nb_trainer;
nb_status nb_trainer_create(nb_trainer **trainer, nb_net *net);
void nb_trainer_free(nb_trainer *trainer); /* NULL is a no-op */
/* The optimizer the trainer's next run with these options will use (created now if it has none
   for them, or if its options differ other than in lr), so that its state can be read or
   restored before the run (checkpoints).  *opt is NULL when the options need none (plain SGD,
   given as NULL or as an optimizer, without clipping).  NB_ERR_ARG for options nb_optim_create rejects.  With opts->resume the
   trainer's optimizer (e.g. from nb_checkpoint_load) is returned as it is, never replaced nor
   its rate changed: NB_ERR_ARG if it has none for these options. */
nb_status nb_trainer_optim(nb_trainer *trainer, const nb_train_opts *opts, nb_optim **opt);
/* As nb_net_train, on the trainer's network: a loop over the stages below. */
nb_status nb_trainer_run(nb_trainer *trainer, const nb_tensor *X, const nb_tensor *T,
                         const nb_train_opts *opts, nb_train_report *report);

/* ---- the loop's stages, for a host code that makes its own batches (docs/training.md) ----

   nb_trainer_run is
       nb_trainer_begin(tr, rows, opts)
       for each epoch until stop:
           for each batch of the epoch (in the order of nb_net_train):  nb_trainer_step
           nb_trainer_end_epoch(tr, &info, &stop);   then opts->on_epoch, which may stop
       nb_trainer_end(tr, report)
   and a host code may call the stages itself with batches it makes as it goes.  The same
   batches in the same order give the same parameters, bit for bit, as nb_trainer_run. */

/* Starts a run of epochs of `rows` rows each (>= 1) with opts: checks them as nb_trainer_run
   does (the validation rows, the optimizer, the schedule, resume), allocates everything the
   steps need (they allocate nothing) and records the run.  *opts is copied; what it points to
   (optim, schedule, X_val, T_val) is borrowed until nb_trainer_end.  opts->shuffle and
   opts->on_epoch are the host's business here (nb_trainer_run uses them).  Statuses as
   nb_trainer_run's before its first step; NB_ERR_STATE if a run is under way (begun, not
   ended).  On failure nothing is under way. */
nb_status nb_trainer_begin(nb_trainer *trainer, size_t rows, const nb_train_opts *opts);
/* One step on a batch: X (n x inputs) and T (n x outputs), n the epoch's next batch size,
   min(batch_size, rows left in the epoch) (NB_ERR_SHAPE otherwise).  The update is the run's:
   its optimizer or plain SGD, the schedule's rate for this step, clipping, the dropout masks
   of this step (from opts->seed and the step's number in the run).  *loss (may be NULL) gets
   the batch loss.  NB_ERR_NONFINITE: the loss or the gradient is not finite; nothing was
   updated and the run can only end (nb_trainer_end puts finite parameters back).
   NB_ERR_STATE: no run under way, it failed, or the epoch is complete (end it first);
   NB_ERR_NULL, NB_ERR_SHAPE (wrong columns), NB_ERR_ARG (targets the loss rejects) leave the
   run as it was. */
nb_status nb_trainer_step(nb_trainer *trainer, const nb_tensor *X, const nb_tensor *T,
                          double *loss);
/* Ends the epoch whose rows have all been stepped (NB_ERR_STATE otherwise): its mean loss, the
   validation loss and accuracy (opts->X_val), early stopping (the best epoch, the parameters
   restore_best keeps).  The position is then this epoch's end: a checkpoint saved now
   (nb_checkpoint_save) resumes after it.  *info gets the epoch; *stop (may be NULL) is true
   when the patience ran out or the requested epochs are done.  NB_ERR_NONFINITE if the
   parameters are no longer finite (the run can only end). */
nb_status nb_trainer_end_epoch(nb_trainer *trainer, nb_epoch_info *info, bool *stop);
/* Ends the run: restore_best puts the best epoch's parameters back, the parameters are left
   finite, and *report (may be NULL) is filled.  Returns the run's first failure (a step or an
   epoch end that failed: e.g. NB_ERR_NONFINITE; then the recorded run cannot be resumed), or
   NB_OK; NB_ERR_STATE if no run is under way.  An epoch left half done is not recorded:
   NB_ERR_STATE is returned after the same clean-up. */
nb_status nb_trainer_end(nb_trainer *trainer, nb_train_report *report);

/* Where a run stands: filled by every nb_trainer_run (also before each on_epoch call, so a
   checkpoint saved from the callback is exact), by the loop's stages (nb_trainer_step counts
   steps, nb_trainer_end_epoch epochs) and by nb_checkpoint_load (include/nablas/checkpoint.h). */
typedef struct nb_train_position {
    uint64_t epochs_done;  /* epochs completed (global numbering, 1-based epochs) */
    uint64_t steps_done;   /* global batches (optimizer steps) completed */
    size_t best_epoch;     /* early stopping: epoch of the best validation loss, 0 = none */
    double best_val_loss;  /* NaN when none */
    size_t bad_epochs;     /* epochs since the best */
    bool stopped;          /* the run ended early (patience or callback) */
} nb_train_position;

/* The trainer's position (a new trainer: zeros, best_val_loss NaN).  NB_ERR_NULL for NULL. */
nb_status nb_trainer_position(const nb_trainer *tr, nb_train_position *pos);

/* ---- memory ----------------------------------------------------------------------------- */

/* What training a network of these layers would allocate, in bytes, computed from the specs
   alone (nothing is allocated): so that a caller can refuse a network that cannot fit before
   creating it.  Each figure saturates at SIZE_MAX when it does not fit a size_t. */
typedef struct nb_net_memory {
    size_t params;      /* the parameters (nb_net_num_params floats) */
    size_t grads;       /* their gradients, as many */
    size_t optimizer;   /* the optimizer's state buffers (0 for plain SGD) */
    size_t trainer;     /* the trainer's parameter copy and gathered batch (inputs + outputs) */
    size_t activations; /* the batch workspace: every layer's outputs, two gradient buffers of
                           batch x the widest layer, the dropped outputs with dropout, and the
                           pre-activations of the layers whose derivative needs them (GELU,
                           SiLU, ELU) */
    size_t total;       /* the sum */
} nb_net_memory;

/* Fills *out for a network on `inputs` features with these layers, trained in batches of
   `batch` rows with the optimizer `optim` (NULL: plain SGD, no state).  The training data
   themselves are not counted (the caller holds them already).  NB_ERR_NULL: out or layers
   NULL; NB_ERR_SHAPE: inputs, n_layers, batch or a layer's units 0; NB_ERR_ARG: an unknown
   optimizer kind.  *out is set only on success. */
nb_status nb_net_memory_estimate(nb_net_memory *out, size_t inputs, const nb_layer_spec *layers,
                                 size_t n_layers, size_t batch, const nb_optim_opts *optim);

#ifdef __cplusplus
}
#endif
#endif
