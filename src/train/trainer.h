/* The trainer's private side: what the layers above (MPI) and the optimizers set on it. */
#ifndef NB_TRAIN_TRAINER_H
#define NB_TRAIN_TRAINER_H

#include "nablas/checkpoint.h" /* nb_train_position (a train-layer type in a persist header) */
#include "train/step.h"

/* The options of a run that decide its trajectory (checkpoints record them; a resumed run
   must repeat them).  Every field is set, zeros where the run has no such option. */
typedef struct nb__run_record {
    nb_loss loss;
    size_t batch_size;
    uint64_t seed;
    bool shuffle;
    size_t rows;        /* global rows */
    float lr;
    bool has_optim;
    nb_optim_opts optim; /* the caller's (opts->optim), all zero without one */
    bool has_schedule;
    nb_schedule schedule; /* resolved: base_lr and total_steps as the run uses them */
    double clip_norm;
    size_t patience;
    bool restore_best;
    size_t val_rows;    /* 0 without validation rows */
} nb__run_record;

struct nb_trainer {
    nb_net *net; /* borrowed */
    /* The loop's buffers, grown on demand and kept, so that a later run of the same size
       allocates nothing: the row order, one gathered (local) batch, and the parameters at
       the start of the epoch (put back if a non-finite stop finds them broken). */
    size_t *perm;
    size_t perm_cap;
    float *xb, *tb;
    size_t batch_cap;
    float *snap;
    size_t snap_cap;
    float *best; /* early stopping's best parameters (restore_best), best_cap floats */
    size_t best_cap;
    /* This process computes rows [lo, hi) of every global batch: slice `part` of `parts`. */
    size_t part, parts;
    nb__step_hook hook;
    void *hook_ctx;
    nb__layer_hook layer_hook; /* with hook: called per layer during backward (step.h) */
    nb__update_fn update; /* NULL: plain SGD at opts->lr */
    void *update_ctx;
    /* Issue 12 (train/optimize.c): the optimizer of the runs whose options ask for one (kept
       from run to run), this run's clipping norm (0: none) and the rate of the current step. */
    nb_optim *optim;
    double clip_norm;
    double rate;
    /* Checkpoints: where the recorded run stands, its options and its last epoch's mean
       loss.  recorded: a run to continue exists (set by a run that got under way, cleared when
       a run fails; nb_checkpoint_load sets it). */
    nb_train_position pos;
    nb__run_record rec;
    double last_loss;
    bool recorded;
    /* 0: X and T hold every row.  Else X and T hold only this part's rows (its slice of every
       global batch, in order) of a data set of global_rows rows, without shuffling (MPI ranks
       that load only their own rows). */
    size_t global_rows;
};

/* Computes only slice part of parts (part < parts) of each global batch of n rows: contiguous,
   near-equal slices, the first n % parts one row longer.  Default 0 of 1. */
nb_status nb__trainer_set_part(nb_trainer *tr, size_t part, size_t parts);
/* X and T will hold only this part's rows of a data set of global_rows (0: every row); see
   struct nb_trainer.  nb_trainer_run then refuses to shuffle (NB_ERR_ARG). */
void nb__trainer_set_local(nb_trainer *tr, size_t global_rows);
/* The step hook (NULL: none) and the non-fused update (NULL: plain SGD at opts->lr). */
void nb__trainer_set_hook(nb_trainer *tr, nb__step_hook hook, void *ctx);
/* The per-layer hook (step.h), called with the step hook's ctx; NULL: none. */
void nb__trainer_set_layer_hook(nb_trainer *tr, nb__layer_hook layer_hook);
void nb__trainer_set_update(nb_trainer *tr, nb__update_fn update, void *ctx);
/* The run's optimizer for opts (train/optimize.c): when opts ask for an optimizer or clipping,
   tr->optim is kept if its options match (lr aside), else made anew; NB_ERR_ARG for options
   nb_optim_create rejects. */
nb_status nb__trainer_prepare_optim(nb_trainer *tr, const nb_train_opts *opts);
/* Whether two option sets are equal (every field; with_lr false: the learning rate aside). */
bool nb__optim_opts_equal(const nb_optim_opts *a, const nb_optim_opts *b, bool with_lr);
/* The optimizer options a run with these options uses (the caller's, or plain SGD at lr when
   only clipping asks for the gradient); false when it uses none (the fused update). */
bool nb__run_optim(const nb_optim_opts *optim, double clip_norm, float lr, nb_optim_opts *o);
/* The record's equality (resume).  NaN-free records: plain == on every field. */
bool nb__run_record_equal(const nb__run_record *a, const nb__run_record *b);
/* The update of a step with tr->optim: clip (tr->clip_norm), set the rate (tr->rate), step. */
nb_status nb__optim_update(void *tr, float *params, float *grads, size_t n_params);

#endif
