/* nablas train --resume: the checkpoint loaded, checked against this run, its messages. */
#ifndef NB_CLI_TRAIN_CKPT_H
#define NB_CLI_TRAIN_CKPT_H

#include "cli/cli.h"

typedef struct cli_ckpt {
    const char *path;     /* --resume */
    nb_model m;           /* the checkpoint's model: network, standardisation, names */
    nb_trainer *tr;       /* the recorded run, on m.net */
    char *note;           /* the record of its options (train_record.h), or NULL */
    nb_train_position pos;
} cli_ckpt;

/* --checkpoint / --resume need the trainer of one process and a mini-batch optimizer: else a
   usage error (printed). */
int cli_ckpt_usable(const cli_cmd *cmd, const char *optimizer);

/* The record of this run's options (train_record.h), from the parsed options; NULL if out of
   memory. */
char *cli_ckpt_record(const cli_cmd *cmd, const nb_dataset *d, const nb_layer_spec *L,
                      size_t n_layers, nb_loss loss, size_t batch, size_t epochs,
                      size_t patience, double frac, size_t n_val, uint64_t seed,
                      const cli_train_optim_t *to);

/* Loads --resume FILE.  CLI_FAIL (printed, one line) if it cannot be read, is not a
   checkpoint or is corrupt. */
int cli_ckpt_load(cli_ckpt *c, const char *path);

/* The checkpoint is this run's: the options (record `now`, the first difference named: exit
   2), --epochs (not below the epochs done; equal to the recorded total when the schedule's
   length depends on it), the standardisation recomputed from the data (norm, tnorm: NULL if
   none) and the feature names.  Prints the error. */
int cli_ckpt_check(const cli_ckpt *c, const char *now, size_t epochs,
                   const cli_train_optim_t *to, const nb_norm *norm, const nb_norm *tnorm,
                   const nb_dataset *d);

void cli_ckpt_free(cli_ckpt *c); /* the trainer, then the model; safe on a zeroed one */

/* Writes the run's checkpoint (from the epoch callback).  Prints the error; CLI_FAIL. */
int cli_ckpt_save(const nb_trainer *tr, const nb_model *m, const char *note, const char *path);

#endif
