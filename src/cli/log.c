/* nablas train --log: the run's CSV (epoch, train_loss, val_loss, val_accuracy, lr, seconds),
   held in memory and rewritten atomically, at most once a second while the run goes (so that
   a long run of short epochs does not spend its time rewriting the file) and once at its end:
   the file is always a whole CSV, never a half-written row. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/log.h"
#include "cli/progress.h"

static void put(cli_log *l, const char *fmt, ...)
{
    if (l->failed)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        l->failed = true;
        return;
    }
    if (l->len + (size_t)n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->len + (size_t)n + 1)
            cap *= 2;
        char *t = realloc(l->s, cap);
        if (!t) {
            l->failed = true;
            cli_error("train", "--log %s: out of memory; the log stops here", l->path);
            return;
        }
        l->s = t;
        l->cap = cap;
    }
    memcpy(l->s + l->len, line, (size_t)n + 1);
    l->len += (size_t)n;
}

static void write_now(cli_log *l)
{
    if (!l->path || l->failed)
        return;
    errno = 0;
    nb_status st = nb_write_file_atomic(l->path, l->s, l->len);
    int e = errno;
    l->written = progress_now();
    if (st != NB_OK) {
        l->failed = true;
        cli_error("train", "cannot write the log %s: %s", l->path,
                  e ? strerror(e) : nb_status_str(st));
    }
}

bool cli_log_begin(cli_log *l, const char *path, bool iterations)
{
    *l = (cli_log){.path = path, .start = progress_now(), .written = -1.0};
    if (!path)
        return true;
    put(l, "%s,train_loss,val_loss,val_accuracy,lr,seconds\n", iterations ? "iteration" : "epoch");
    return !l->failed;
}

/* A field: the number, or nothing for "no value". */
static const char *field(char out[40], double x, bool absent)
{
    if (absent || isnan(x))
        out[0] = '\0';
    else
        snprintf(out, 40, "%.9g", x);
    return out;
}

void cli_log_row(cli_log *l, size_t epoch, double loss, double val_loss, double val_acc,
                 double lr)
{
    if (!l->path || l->failed)
        return;
    char a[40], b[40], c[40], d[40];
    double now = progress_now();
    put(l, "%zu,%s,%s,%s,%s,%.3f\n", epoch, field(a, loss, false),
        field(b, val_loss, val_loss < 0), field(c, val_acc, val_acc < 0), field(d, lr, lr < 0),
        now - l->start);
    if (l->written < 0 || now - l->written >= 1.0)
        write_now(l);
}

int cli_log_end(cli_log *l)
{
    bool failed = l->failed;
    write_now(l);
    return failed || l->failed ? CLI_FAIL : CLI_OK;
}

void cli_log_free(cli_log *l)
{
    free(l->s);
    l->s = NULL;
    l->len = l->cap = 0;
}
