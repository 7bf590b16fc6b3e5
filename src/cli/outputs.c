/* Output paths, checked before any work starts, and the temporary files of atomic writes
   removed on SIGINT/SIGTERM.  The rules (docs/cli.md): an output is a regular file or a new
   name; devices, FIFOs, sockets and directories are refused; a symbolic link is followed and
   its target replaced, unless the kernel would not follow it (a link of another user in a
   sticky, world-writable directory such as /tmp); an output may not be the same file as an
   input or another output; its directory must exist and take a new file (a temporary one is
   created and removed: /proc and /sys are refused here) and its name must fit NAME_MAX.  At
   save time the atomic writer looks again: an output that has become an input (a link changed
   during the run) is refused then too (save_guard).  A data output (cli_check_data_outputs) may
   also be standard output (`-`, /dev/stdout), a FIFO or a character device: there is nothing
   to replace atomically, so it is written directly (cli_write_output). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/file_io.h"

/* ---- temporary files and signals ---------------------------------------------------------- */

/* The path of the temporary file being written, for the handler: filled with the signals
   blocked, so that the handler never sees half a path. */
static char tmp_path[PATH_MAX + 32];
static volatile sig_atomic_t tmp_armed;

static void on_tmp(const char *path)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    tmp_armed = 0;
    if (path && strlen(path) < sizeof tmp_path) {
        strcpy(tmp_path, path);
        tmp_armed = 1;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* While training defers signals (cli_signals_defer), the first one is only recorded (and, on
   a terminal, acknowledged: an epoch can be long). */
static volatile sig_atomic_t deferring, caught, ack;
static const char ack_msg[] = "\nnablas train: stopping at the end of this epoch (again to stop "
                              "at once)\n";

/* Async-signal-safe: unlink, restore the default action, re-raise (the exit status then says
   which signal ended the process). */
static void on_signal(int sig)
{
    if (deferring && !caught) {
        caught = sig;
        if (ack) {
            int e = errno; /* write is async-signal-safe; errno is the interrupted code's */
            ssize_t w = write(STDERR_FILENO, ack_msg, sizeof ack_msg - 1);
            (void)w;
            errno = e;
        }
        return;
    }
    if (tmp_armed)
        unlink(tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_signals_install(void)
{
    nb__tmp_hook = on_tmp;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* a deferred signal must not fail a read or write with EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* write(2) until done (EINTR retried). */
static bool write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

int cli_write_output(const char *cmd, const char *path, const void *data, size_t len)
{
    errno = 0;
    if (cli_output_direct(path)) {
        bool out = cli_is_stdout(path);
        fflush(stdout); /* what the command printed before comes first */
        int fd = out ? STDOUT_FILENO : open(path, O_WRONLY | O_CLOEXEC);
        bool ok = fd >= 0 && write_all(fd, data, len);
        int e = errno;
        if (fd >= 0 && !out && close(fd) != 0 && ok) {
            ok = false;
            e = errno;
        }
        return ok ? CLI_OK : cli_error(cmd, "cannot write %s: %s", cli_out_name(path),
                                       strerror(e ? e : EIO));
    }
    nb_status st = nb_write_file_atomic(path, data, len);
    int e = errno;
    return st == NB_OK ? CLI_OK : cli_error(cmd, "cannot write %s: %s", path,
                                            e ? strerror(e) : nb_status_str(st));
}

void cli_signals_defer(bool on)
{
    ack = on && isatty(STDERR_FILENO);
    deferring = on;
}

int cli_signal_caught(void) { return caught; }

/* ---- output checks ------------------------------------------------------------------------ */

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* Identity of a path that may not exist yet: (device, inode) of the file if it exists, else of
   its directory plus its name. */
/* How messages name an output: "--out m.nbm" for an option, the path alone for a positional
   argument (option NULL). */
static const char *label(const cli_output *o, char *buf, size_t cap)
{
    if (o->option)
        snprintf(buf, cap, "--%s %s", o->option, o->path);
    else
        snprintf(buf, cap, "%s", o->path);
    return buf;
}

typedef struct ident {
    dev_t dev;
    ino_t ino;
    const char *name; /* NULL when the file exists */
} ident;

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool same(const ident *a, const ident *b)
{
    if (a->dev != b->dev || a->ino != b->ino)
        return false;
    if (!a->name || !b->name)
        return !a->name && !b->name;
    return strcmp(a->name, b->name) == 0;
}

bool cli_is_stdout(const char *path)
{
    return path && (!strcmp(path, "-") || !strcmp(path, "/dev/stdout"));
}

const char *cli_out_name(const char *path) { return strcmp(path, "-") ? path : "stdout"; }

const char *cli_in_name(const char *path) { return strcmp(path, "-") ? path : "<stdin>"; }

bool cli_output_direct(const char *path)
{
    struct stat st;
    return cli_is_stdout(path)
           || (stat(path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)));
}

/* The outputs being checked are data outputs (cli_check_data_outputs). */
static bool data_outputs;

/* For data outputs: standard output, a FIFO or a character device, checked here (true, *rc
   set and *id filled or an error said); false for a path check_one goes on with. */
static bool check_stream(const char *cmd, const cli_output *o, const char *what, ident *id,
                         int *rc)
{
    struct stat st;
    *rc = CLI_OK;
    if (cli_is_stdout(o->path)) { /* two outputs to stdout are "the same file" */
        *id = (ident){0, 0, "-"};
        return true;
    }
    if (stat(o->path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
        if (access(o->path, W_OK) != 0)
            *rc = cli_error(cmd, "%s: %s", what, strerror(errno));
        else
            *id = (ident){st.st_dev, st.st_ino, NULL};
        return true;
    }
    return false;
}

/* The usage error for a path whose links the kernel's fs.protected_symlinks rule refuses to
   follow, naming the link the rule stopped at. */
static int protected_link_error(const char *cmd, const char *path, const char *what)
{
    char *at = strdup(path);
    for (char *n = at; n && !nb__link_protected(n);) {
        char *next = NULL;
        char buf[PATH_MAX];
        ssize_t len = readlink(n, buf, sizeof buf - 1);
        if (len > 0) {
            buf[len] = '\0';
            next = buf[0] == '/' ? strdup(buf) : NULL;
        }
        free(n);
        n = at = next;
    }
    int rc = cli_usage_error(cmd, "%s: %s is a symbolic link of another user in a sticky, "
                                  "world-writable directory: not followed (the kernel's "
                                  "fs.protected_symlinks rule)", what, at ? at : path);
    free(at);
    return rc;
}

/* The directory of the link-followed path t, where the file will be created: it must exist,
   take new files and allow t's name; fills *id with the directory and the name when t is not
   there yet (id still zero). */
static int check_dir(const char *cmd, const char *t, const char *what, ident *id)
{
    const char *name = base_of(t);
    size_t dlen = (size_t)(name - t);
    char dir[PATH_MAX];
    if (dlen >= sizeof dir)
        return cli_error(cmd, "%s: %s", what, strerror(ENAMETOOLONG));
    if (dlen == 0)
        strcpy(dir, ".");
    else if (dlen == 1)
        strcpy(dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(dlen - 1), t);
    if (!*name)
        return cli_usage_error(cmd, "%s: names a directory, not a file", what);
    struct stat ds;
    if (stat(dir, &ds) != 0)
        return cli_error(cmd, "%s: directory %s: %s", what, dir,
                         strerror(errno));
    if (!S_ISDIR(ds.st_mode))
        return cli_error(cmd, "%s: %s is not a directory", what, dir);
    int e = access(dir, W_OK | X_OK) != 0 ? errno : nb__probe_dir(dir);
    if (e)
        return cli_error(cmd, "%s: cannot create files in %s: %s", what, dir, strerror(e));
    long name_max = pathconf(dir, _PC_NAME_MAX);
    if (name_max > 0 && strlen(name) > (size_t)name_max)
        return cli_error(cmd, "%s: %s (the name has %zu bytes, at most %ld here)",
                         what, strerror(ENAMETOOLONG), strlen(name), name_max);
    if (id->name == NULL && id->dev == 0 && id->ino == 0)
        *id = (ident){ds.st_dev, ds.st_ino, name};
    return CLI_OK;
}

/* Checks one output; fills its identity (target: malloc'd, the link-followed path). */
static int check_one(const char *cmd, const cli_output *o, char **target, ident *id)
{
    if (!*o->path)
        return cli_usage_error(cmd, "%s%s: the path is empty", o->option ? "--" : "",
                               o->option ? o->option : "output");
    char what[PATH_MAX + 64];
    label(o, what, sizeof what);
    struct stat st;
    int rc;
    if (!strcmp(o->path, "-") && !data_outputs)
        return cli_usage_error(cmd, "%s: standard output takes only data (predict --out); this "
                                    "is written to a file, atomically: name one (./- for a "
                                    "file named '-')", what);
    if (data_outputs && check_stream(cmd, o, what, id, &rc))
        return rc;
    /* as the kernel follows the path: /dev/stdout on a pipe is a FIFO */
    if (stat(o->path, &st) == 0 && !S_ISREG(st.st_mode))
        return cli_usage_error(cmd, "%s: %s; nablas writes only to a regular file or a new path",
                               what, kind_of(st.st_mode));
    *target = nb__follow_links(o->path);
    if (!*target && errno == EACCES)
        return protected_link_error(cmd, o->path, what);
    if (!*target)
        return cli_error(cmd, "%s: %s", what, strerror(errno));
    if (stat(*target, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return cli_usage_error(cmd, "%s: %s; nablas writes only to a regular file or "
                                        "a new path", what, kind_of(st.st_mode));
        *id = (ident){st.st_dev, st.st_ino, NULL};
    } else if (errno != ENOENT) {
        return cli_error(cmd, "%s: %s", what, strerror(errno));
    }
    return check_dir(cmd, *target, what, id);
}

/* ---- the check at save time ------------------------------------------------------------ */

/* Each output path the command checked, with the inputs it may not replace (as they were
   when checked).  The atomic writer asks save_guard just before each rename. */
enum { MAX_GUARDED = 8, MAX_GUARD_INPUTS = 8 };
static struct guarded {
    const char *cmd, *path, *label_opt;
    size_t n;
    dev_t dev[MAX_GUARD_INPUTS];
    ino_t ino[MAX_GUARD_INPUTS];
    const char *input[MAX_GUARD_INPUTS];
} guarded[MAX_GUARDED];
static size_t n_guarded;

static bool save_guard(const char *path, dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < n_guarded; i++) {
        const struct guarded *g = &guarded[i];
        if (strcmp(g->path, path) != 0)
            continue;
        for (size_t j = 0; j < g->n; j++)
            if (g->dev[j] == dev && g->ino[j] == ino) {
                cli_error(g->cmd, "%s%s%s%s: it now leads to the input %s (a link changed "
                                  "since the run began): refusing to overwrite an input",
                          g->label_opt ? "--" : "", g->label_opt ? g->label_opt : "",
                          g->label_opt ? " " : "", g->path, g->input[j]);
                return false;
            }
    }
    return true;
}

/* Remembers that output o may not replace input `in` (stat'd as st). */
static void guard_add(const char *cmd, const cli_output *o, const char *in, const struct stat *st)
{
    size_t i = 0;
    while (i < n_guarded && strcmp(guarded[i].path, o->path) != 0)
        i++;
    if (i == MAX_GUARDED)
        return;
    struct guarded *g = &guarded[i];
    if (i == n_guarded) {
        *g = (struct guarded){cmd, o->path, o->option, 0, {0}, {0}, {0}};
        n_guarded++;
    }
    for (size_t j = 0; j < g->n; j++)
        if (g->dev[j] == st->st_dev && g->ino[j] == st->st_ino)
            return;
    if (g->n < MAX_GUARD_INPUTS) {
        g->dev[g->n] = st->st_dev;
        g->ino[g->n] = st->st_ino;
        g->input[g->n++] = in;
    }
    nb__write_guard = save_guard;
}

int cli_check_outputs(const char *cmd, const cli_output *outs, size_t n_out,
                      const char *const *inputs, size_t n_in)
{
    char *targets[8] = {0};
    ident ids[8];
    int rc = n_out <= 8 ? CLI_OK : CLI_FAIL;
    size_t done = 0;
    char what[PATH_MAX + 64];
    for (; rc == CLI_OK && done < n_out; done++) {
        ids[done] = (ident){0, 0, NULL};
        if (outs[done].path)
            rc = check_one(cmd, &outs[done], &targets[done], &ids[done]);
    }
    for (size_t i = 0; rc == CLI_OK && i < n_out; i++) {
        if (!outs[i].path)
            continue;
        for (size_t j = 0; rc == CLI_OK && j < n_in; j++) {
            struct stat st;
            if (!inputs[j] || stat(inputs[j], &st) != 0)
                continue;
            ident in = {st.st_dev, st.st_ino, NULL};
            if (same(&ids[i], &in))
                rc = cli_usage_error(cmd, "%s is the same file as the input %s: refusing "
                                          "to overwrite an input",
                                     label(&outs[i], what, sizeof what), inputs[j]);
            else
                guard_add(cmd, &outs[i], inputs[j], &st);
        }
        for (size_t j = 0; rc == CLI_OK && j < i; j++)
            if (outs[j].path && same(&ids[i], &ids[j]))
                rc = cli_usage_error(cmd, "--%s and --%s name the same file (%s)", outs[j].option,
                                     outs[i].option, outs[i].path);
    }
    for (size_t i = 0; i < done; i++)
        free(targets[i]);
    return rc;
}

int cli_check_data_outputs(const char *cmd, const cli_output *outs, size_t n_out,
                           const char *const *inputs, size_t n_in)
{
    data_outputs = true;
    int rc = cli_check_outputs(cmd, outs, n_out, inputs, n_in);
    data_outputs = false;
    return rc;
}
