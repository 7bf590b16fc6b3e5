/* Training progress: epoch n/N (iter n/N for the full-batch optimizers), losses, the learning
   rate when it changes, samples/s and time left. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli/progress.h"

static progress *active; /* the display whose line progress_break ends (one at a time) */

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_begin(progress *p, FILE *out, size_t rows)
{
    p->out = out;
    p->tty = isatty(fileno(out));
    p->start = progress_now();
    p->rows = rows;
    p->epoch0 = 0;
    p->open = false;
    p->unit = "epoch";
    p->epochs = 0;
    p->shown = 0;
    p->batch_at = p->start;
    active = p;
}

static void fmt_time(char *buf, size_t n, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void progress_epoch(progress *p, size_t epoch, size_t epochs, double loss, double val_loss,
                    double val_acc, double lr)
{
    double elapsed = progress_now() - p->start;
    size_t ran = epoch > p->epoch0 ? epoch - p->epoch0 : 1; /* epochs timed by this process */
    double rate = elapsed > 0 ? (double)(p->rows * ran) / elapsed : 0.0;
    char left[32];
    fmt_time(left, sizeof left, elapsed / (double)ran * (double)(epochs - epoch));
    int width = 1;
    for (size_t e = epochs; e >= 10; e /= 10)
        width++;
    if (p->tty)
        fputs("\r\033[K", p->out); /* back to the line start and clear it */
    fprintf(p->out, "%s %*zu/%zu  loss %.4f", p->unit, width, epoch, epochs, loss);
    if (val_loss >= 0)
        fprintf(p->out, "  val_loss %.4f", val_loss);
    if (val_acc >= 0)
        fprintf(p->out, "  val_acc %5.1f%%", 100.0 * val_acc);
    if (lr >= 0)
        fprintf(p->out, "  lr %.3g", lr);
    fprintf(p->out, "  %.0f samples/s  %s left", rate, left);
    if (!p->tty)
        fputc('\n', p->out);
    p->open = p->tty;
    p->shown = epoch;
    p->batch_at = progress_now();
    fflush(p->out);
}

void progress_end(progress *p)
{
    if (p->open)
        fputc('\n', p->out);
    p->open = false;
    fflush(p->out);
    if (active == p)
        active = NULL;
}

void progress_break(void)
{
    if (active && active->open) {
        fputc('\n', active->out);
        fflush(active->out);
        active->open = false;
    }
}

bool progress_wants_batches(void) { return active && active->tty; }

void progress_batch(size_t done, size_t batches)
{
    progress *p = active;
    if (!p || !p->tty || done >= batches)
        return; /* the epoch's own line follows the last batch */
    double now = progress_now();
    static int every = -1; /* seconds between redraws: 1, or 0 under the tests' variable */
    if (every < 0)
        every = getenv("NABLAS_TEST_BATCH_PROGRESS") ? 0 : 1;
    if (now - p->batch_at < (double)every)
        return;
    p->batch_at = now;
    size_t e = (p->shown > p->epoch0 ? p->shown : p->epoch0) + 1;
    fputs("\r\033[K", p->out);
    if (p->epochs)
        fprintf(p->out, "%s %zu/%zu  batch %zu/%zu", p->unit, e, p->epochs, done, batches);
    else
        fprintf(p->out, "%s %zu  batch %zu/%zu", p->unit, e, done, batches);
    p->open = true;
    fflush(p->out);
}
