/* nablas train --checkpoint / --resume: the canonical record of a run's options, kept in the
   checkpoint's note, and its comparison on --resume (docs/cli.md, "Checkpoints and resume"). */
#ifndef NB_CLI_TRAIN_RECORD_H
#define NB_CLI_TRAIN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

/* The first line of every note nablas train writes. */
#define CLI_RECORD_HEADER "nablas train checkpoint: the run's options (format 1)"

/* Without --epochs (and --patience) nablas train stops once the training loss has not fallen
   by CLI_STOP_TOL below its best for CLI_STOP_EPOCHS epochs in a row (scikit-learn's tol and
   n_iter_no_change), after at most CLI_STOP_MAX_EPOCHS epochs. */
#define CLI_STOP_TOL 1e-4
#define CLI_STOP_EPOCHS 10
#define CLI_STOP_MAX_EPOCHS 200

/* What determines a run, after parsing and defaults: two runs with equal records (the epochs
   aside) take the same steps. */
typedef struct cli_run_desc {
    const nb_dataset *data;       /* as loaded (before the validation split) */
    const char *target_option;    /* "label-column", "target-columns" or "targets" */
    const char *target_value;     /* the option's value as given */
    const nb_layer_spec *layers;  /* after --dropout is merged in */
    size_t n_layers;
    nb_loss loss;
    size_t batch, epochs, patience, n_val;
    double validation;
    uint64_t seed;
    const cli_train_optim_t *optim;
    bool standardize, standardize_targets;
    bool stop_on_loss; /* --epochs not given: stop when the training loss stalls (CLI_STOP_*) */
    nb_precision precision;
    int threads; /* recorded for information only: not compared */
} cli_run_desc;

/* The record: "CLI_RECORD_HEADER\n" then one "--name value\n" line per option, in the order
   the comparison names them, and "# comment" lines that are not compared.  Names and values as
   given (the target columns) are escaped: \\ \n \r \t and \xHH for other control bytes.
   malloc'd; NULL if out of memory. */
char *cli_run_record(const cli_run_desc *r);

/* Compares a checkpoint's note with the record of this run, every line but --epochs.  Prints
   "--resume: --NAME differs (checkpoint A, now B)" for the first difference and returns
   CLI_USAGE; CLI_FAIL (printed) when the note is not a nablas train record; else CLI_OK. */
int cli_run_compare(const char *note, const char *now, const char *resume_path);

/* The value of line "--name" of a record, unescaped, malloc'd, or NULL (absent, or out of
   memory). */
char *cli_run_value(const char *record, const char *name);

/* The checkpoint's note: the record, then one "# loss EPOCH TRAIN VAL" line per epoch (VAL -1:
   no validation rows) as long as they fit in NB_CHECKPOINT_MAX_NOTE bytes, so that --plot after
   --resume draws the epochs before it too. */
typedef struct cli_note {
    char *s; /* NB_CHECKPOINT_MAX_NOTE + 1 bytes */
    size_t len;
    bool full; /* a line did not fit: no later one is kept either */
} cli_note;

/* The record, then old's loss lines of epochs 1..upto (old may be NULL).  false: no memory. */
bool cli_note_init(cli_note *n, const char *record, const char *old, uint64_t upto);
/* Appends epoch's line if it fits (the later ones are then not kept either). */
void cli_note_add(cli_note *n, size_t epoch, double train, double val);
void cli_note_free(cli_note *n);
/* train[e - 1] and val[e - 1] for the epochs e <= upto whose line the note holds. */
void cli_note_losses(const char *note, uint64_t upto, double *train, double *val);

/* The thread count a record notes, or -1. */
int cli_run_threads(const char *record);

/* "cosine", ... (as --schedule takes them). */
const char *cli_schedule_name(nb_schedule_kind k);

/* The CRC-32 (zlib's) of the loaded data: shapes, values and every name. */
uint32_t cli_data_crc(const nb_dataset *d);

#endif
