#ifndef NB_CLI_PROGRESS_H
#define NB_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

/* The training progress display: one line redrawn in place on a terminal, one plain line per
   epoch otherwise. */
typedef struct progress {
    FILE *out;
    bool tty;
    double start;       /* seconds, monotonic */
    size_t rows;        /* training rows per epoch */
    size_t epoch0;      /* epochs done before this process (--resume); 0 after progress_begin */
    bool open;          /* a redrawn line is on the terminal, not yet ended */
    const char *unit;   /* "epoch" (progress_begin's), or "iter" for the full-batch optimizers */
    size_t epochs;      /* requested (0: unknown), for the line within an epoch */
    size_t shown;       /* the last epoch progress_epoch showed (epoch0 before the first) */
    double batch_at;    /* when the line within an epoch was last drawn (or the epoch began) */
} progress;

double progress_now(void);
void progress_begin(progress *p, FILE *out, size_t rows);
/* val_loss / val_acc / lr < 0: not shown (lr: the rate of the epoch's last step, shown when a
   schedule or a warm-up changes it). */
void progress_epoch(progress *p, size_t epoch, size_t epochs, double loss, double val_loss,
                    double val_acc, double lr);
void progress_end(progress *p);
/* Whether the running display is on a terminal (it then wants progress_batch calls). */
bool progress_wants_batches(void);
/* Within an epoch, on a terminal: "epoch e/N  batch done/batches" on the redrawn line, about
   once a second (NABLAS_TEST_BATCH_PROGRESS=1, for tests: every batch); nothing otherwise. */
void progress_batch(size_t done, size_t batches);
/* Ends the line of the running progress display, if one is open (cli_error calls it, so that
   an error message never lands in the middle of a progress line). */
void progress_break(void);

#endif
