/* The trainer's private side: its layout, the hooks a layer above (MPI) hands to a run, and
   the state record through which checkpoints read and restore a recorded run. */
#ifndef NB_TRAIN_TRAINER_H
#define NB_TRAIN_TRAINER_H

#include "train/step.h"

/* The options of a run that decide its trajectory (checkpoints record them; a resumed run
   must repeat them).  Every field is set, zeros where the run has no such option. */
typedef struct nb__run_record {
    nb_loss loss;
    size_t batch_size;
    uint64_t seed;
    bool shuffle;
    size_t rows;        /* global rows */
    float lr;           /* the plain-SGD rate, in the float precision its update uses */
    bool has_optim;
    nb_optim_opts optim; /* the caller's (opts->optim), all zero without one */
    bool has_schedule;
    nb_schedule schedule; /* resolved: base_lr and total_steps as the run uses them */
    double clip_norm;
    size_t patience;
    bool restore_best;
    size_t val_rows;    /* 0 without validation rows */
} nb__run_record;

/* What a layer above hands to a run (nb__trainer_begin_with): this process computes slice
   `part` of `parts` of every global batch (contiguous, near-equal slices, the first n % parts
   one row longer), and the step's hooks sum the slices across processes.  global_rows 0: the
   data hold every row; else only this part's rows (its slice of every global batch, in order)
   of a data set of global_rows rows, which cannot be shuffled (NB_ERR_ARG). */
typedef struct nb__run_hooks {
    size_t part, parts;
    size_t global_rows;
    nb__step_hooks step;
} nb__run_hooks;

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
    /* The optimizer of the runs whose options ask for one (kept from run to run). */
    nb_optim *optim;
    /* Checkpoints: where the recorded run stands, its options and its last epoch's mean
       loss.  recorded: a run to continue exists (set by a run that got under way, cleared when
       a run fails; nb_checkpoint_load sets it). */
    nb_train_position pos;
    nb__run_record rec;
    double last_loss;
    bool recorded;

    /* The run under way, between nb_trainer_begin and nb_trainer_end (active).  opts is the
       caller's copy (what it points to is borrowed until the end); rows: global rows of an
       epoch; lr: the rate of the run (the optimizer's, or plain SGD's rounded to float),
       which the schedule (has_schedule) moves step by step; cfg: how each step ends. */
    bool active;
    nb_train_opts opts;
    size_t rows;
    double lr;
    bool has_schedule;
    nb_schedule sched;
    nb__run_hooks hooks;
    nb__step_cfg cfg;
    nb_status failed;   /* the first failure of the run (NB_OK: none) */
    size_t epoch_rows;  /* global rows stepped in the epoch under way */
    double epoch_sum, epoch_weight; /* its loss, weighted by rows */
    size_t next_local;  /* global_rows mode: local rows used in this epoch */
};

/* nb_trainer_begin with the hooks of a layer above (NULL: one process, every row). */
nb_status nb__trainer_begin_with(nb_trainer *tr, size_t rows, const nb_train_opts *opts,
                                 const nb__run_hooks *hooks);
/* nb_trainer_run with those hooks. */
nb_status nb__trainer_run_with(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                               const nb_train_opts *opts, const nb__run_hooks *hooks,
                               nb_train_report *report);
/* The step of a begun run on rows local rows (x, t) that are the slice at row0 of a global
   batch of global_rows; counts the step, its loss and its rows into the epoch. */
nb_status nb__trainer_step_rows(nb_trainer *tr, const float *x, const float *t, size_t rows,
                                size_t global_rows, size_t row0, double *loss);

/* The run's optimizer for opts (train/optimize.c): when opts ask for an optimizer or clipping,
   tr->optim is kept if its options match (lr aside), else made anew; NB_ERR_ARG for options
   nb_optim_create rejects. */
nb_status nb__trainer_prepare_optim(nb_trainer *tr, const nb_train_opts *opts);
/* The options as the run uses them: an optimizer that is plain SGD (no momentum, no weight
   decay, the other fields at their defaults) is the loop's own plain SGD at its rate rounded
   to float (optim NULL), so that the trainer takes the fused step wherever nothing else needs
   the gradient, and records the run as one given no optimizer. */
nb_train_opts nb__run_opts(const nb_train_opts *opts);
/* Whether two option sets are equal (every field; with_lr false: the learning rate aside). */
bool nb__optim_opts_equal(const nb_optim_opts *a, const nb_optim_opts *b, bool with_lr);
/* The optimizer options a run with these options uses (the caller's, or plain SGD at lr when
   only clipping asks for the gradient); false when it uses none (the fused update). */
bool nb__run_optim(const nb_optim_opts *optim, double clip_norm, float lr, nb_optim_opts *o);
/* The record's equality (resume).  NaN-free records: plain == on every field. */
bool nb__run_record_equal(const nb__run_record *a, const nb__run_record *b);
/* The update of a step with tr->optim (ctx): clip (the run's clip_norm), set the rate, step. */
nb_status nb__optim_update(void *ctx, float *params, float *grads, size_t n_params, double lr);

/* ---- the state record: a recorded run as checkpoints save and restore it ---- */

typedef struct nb__trainer_state {
    const nb_net *net;       /* the trainer's network (get only) */
    nb_train_position pos;
    nb__run_record rec;
    double last_loss;
    nb_optim *optim;         /* get: the trainer's (borrowed); restore: taken over (or NULL) */
    const float *best;       /* the best parameters (net's count), or NULL when none kept */
} nb__trainer_state;

/* The trainer's recorded run (s->net is set whatever the status).  NB_ERR_STATE if there is
   none, an epoch is under way (a position is exact only at an epoch's end), or the trainer
   lacks the best parameters its position says it has. */
nb_status nb__trainer_state_get(const nb_trainer *tr, nb__trainer_state *s);
/* Makes s the trainer's recorded run (best copied, optim taken over only on success), as a
   run that got under way would have left it.  NB_ERR_NOMEM; NB_ERR_STATE during a run. */
nb_status nb__trainer_state_restore(nb_trainer *tr, const nb__trainer_state *s);

#endif
