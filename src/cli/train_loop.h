/* nablas train on a terminal: nb_trainer_run's loop over the public stages, so that the
   progress display can show the batch an epoch has reached. */
#ifndef NB_CLI_TRAIN_LOOP_H
#define NB_CLI_TRAIN_LOOP_H

#include "nablas.h"

/* Called after each step with the batches done in the epoch and the epoch's batch count. */
typedef void (*cli_batch_fn)(size_t done, size_t batches);

/* As nb_trainer_run(tr, X, T, opts, report), the same steps on the same batches in the same
   order (the parameters are the same, bit for bit: nb_trainer_begin's contract), calling
   on_batch after every step.  Needs n x (X and T columns) floats and a row order for its
   batches (NB_ERR_NOMEM before any step if they cannot be had). */
nb_status cli_train_loop(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                         const nb_train_opts *opts, cli_batch_fn on_batch,
                         nb_train_report *report);

#endif
