/* nablas: checkpoints and exact resume of a training run (docs/checkpoints.md).

   A trainer (nb_trainer, include/nablas/net.h) records where its run stands and the options of
   that run.  A checkpoint file holds the model, the trainer's optimizer (options, step count,
   state buffers), that position, the recorded options, the layers' dropout rates, the early
   stopping's best parameters and an optional note.  Loading it and running the trainer with
   nb_train_opts.resume = true continues the run so that the parameters come out bit-identical
   to those of the same run never interrupted (same machine, same thread count).

   The file is a model file of format version 2 (docs/model-format.md) whose checkpoint
   sections (tags 16, 17, 18) are optional: every checkpoint also loads as a plain model
   (nb_model_load, `nablas predict`). */
#ifndef NABLAS_CHECKPOINT_H
#define NABLAS_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest note a checkpoint keeps, in bytes (without the terminating NUL). */
#define NB_CHECKPOINT_MAX_NOTE 65536u

/* nb_train_position and nb_trainer_position (where a run stands) are in net.h, with the
   trainer. */

/* Saves the trainer's run and the model: atomically, as nb_model_save (save_mem: the bytes
   in a malloc'd buffer, free with free()).  m->net must be tr's network (NB_ERR_ARG
   otherwise).  note: NULL or a NUL-terminated string of at most NB_CHECKPOINT_MAX_NOTE bytes
   (NB_ERR_ARG otherwise), kept verbatim.  NB_ERR_STATE if the trainer has no run to continue
   (none yet, or its last run stopped with an error) or its optimizer's state is not one the
   recorded run can have reached (a step count other than the position's steps_done, as after
   a fresh run on an optimizer kept from an earlier one; a negative squared average: the
   loader refuses such a state as NB_ERR_CORRUPT); NB_ERR_NONFINITE if a parameter or the
   optimizer state is not finite.  Call it from the on_epoch callback (the position is then
   that of the epoch just completed), after nb_trainer_end_epoch (before the next step: in the
   middle of an epoch NB_ERR_STATE) or after nb_trainer_run. */
nb_status nb_checkpoint_save(const nb_trainer *tr, const nb_model *m, const char *note,
                             const char *path);
nb_status nb_checkpoint_save_mem(void **data, size_t *size, const nb_trainer *tr,
                                 const nb_model *m, const char *note);

/* Loads a checkpoint.  *m as nb_model_load (caller frees with nb_model_free, AFTER
   nb_trainer_free(*tr)); *tr a new trainer on m->net holding the optimizer (options, step
   count, state buffers), the position, the early-stopping best parameters and the recorded
   options; the layers' dropout rates are put back on m->net.  note may be NULL (not wanted);
   else *note is a malloc'd copy (free with free()) or NULL when the file has none.
   A model file without the checkpoint sections: NB_ERR_ARG.  The errors of nb_model_load,
   and NB_ERR_CORRUPT for checkpoint sections that are inconsistent or out of range (also
   with a valid checksum: an optimizer step count other than the position's steps, state
   buffers not all zero before the first step, a negative or non-finite squared average of
   Adam, AdamW or RMSprop, an AMSGrad maximum below exp_avg_sq).  All
   outputs untouched on failure. */
nb_status nb_checkpoint_load(nb_model *m, nb_trainer **tr, char **note, const char *path);
nb_status nb_checkpoint_load_mem(nb_model *m, nb_trainer **tr, char **note, const void *data,
                                 size_t size);

#ifdef __cplusplus
}
#endif
#endif
