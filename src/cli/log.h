/* nablas train --log FILE.csv: the per-epoch (per-iteration for lm and lbfgs) CSV log of a run,
   rewritten atomically as the run goes and at its end. */
#ifndef NB_CLI_LOG_H
#define NB_CLI_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/cli.h"

#define CLI_LOG_OPT                                                                             \
    {"log", "FILE.csv", "write a CSV of the run, one row per epoch (per iteration for lm and "   \
     "lbfgs): epoch, train_loss, val_loss, val_accuracy, lr, seconds", NULL}

typedef struct cli_log {
    const char *path;   /* NULL: no log */
    char *s;            /* the whole CSV so far */
    size_t len, cap;
    double start;       /* progress_now() at cli_log_begin */
    double written;     /* progress_now() of the last write; < 0: none yet */
    bool failed;        /* a write or an allocation failed (said): nothing more is written */
} cli_log;

/* Starts the log of `path` (NULL: none) with its header; `iterations`: the first column is
   "iteration" (lm, lbfgs), else "epoch".  false: out of memory (said). */
bool cli_log_begin(cli_log *l, const char *path, bool iterations);
/* Appends a row; NaN (or a negative val_acc / lr) leaves its field empty.  The file is
   rewritten (atomically) when a second or more has passed since the last write. */
void cli_log_row(cli_log *l, size_t epoch, double loss, double val_loss, double val_acc,
                 double lr);
/* The final write.  CLI_OK, or CLI_FAIL when a write failed (said once, when it failed). */
int cli_log_end(cli_log *l);
void cli_log_free(cli_log *l);

#endif
