/* Option parsing shared by the subcommands: --name VALUE, --name=VALUE, flags and --help. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/held.h"
#include "cli/mpi_cli.h"
#include "cli/progress.h"

static void vmessage(const char *cmd, const char *fmt, va_list ap)
{
    if (cli_held_take(cmd, fmt, ap)) /* under mpirun: said once, by rank 0 or the failing rank */
        return;
    progress_break(); /* an open progress line is ended first: the message gets its own line */
    fprintf(stderr, "nablas %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

bool cli_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void print_help(const cli_cmd *cmd)
{
    printf("usage: nablas %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->usage, cmd->summary);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        char left[64];
        const cli_opt *o = &cmd->opts[i];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        printf("  %-30s %s\n", left, o->help);
    }
    printf("  %-30s %s\n", "--help", "show this help and exit");
}

static cli_opt *find(cli_cmd *cmd, const char *name, size_t len)
{
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
            return &cmd->opts[i];
    return NULL;
}

static bool help_was_shown; /* cli_help_was_shown */

bool cli_help_was_shown(void) { return help_was_shown; }

int cli_parse(cli_cmd *cmd, int argc, char **argv, bool *help_shown)
{
    *help_shown = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(cmd);
            *help_shown = true;
            help_was_shown = true; /* under mpirun the other ranks must not wait for this one */
            return CLI_OK;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (cmd->positional && !cmd->pos_value) {
                cmd->pos_value = a;
                continue;
            }
            return cli_usage_error(cmd->name, "unexpected argument '%s' (see nablas %s --help)",
                                   a, cmd->name);
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_opt *o = find(cmd, name, len);
        if (!o)
            return cli_usage_error(cmd->name, "unknown option '--%.*s' (see nablas %s --help)",
                                   (int)len, name, cmd->name);
        if (o->value) /* the last one winning silently would hide a typo or a stale script */
            return cli_usage_error(cmd->name, "--%s is given more than once", o->name);
        if (!o->metavar) {
            if (eq)
                return cli_usage_error(cmd->name, "--%s takes no value", o->name);
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            return cli_usage_error(cmd->name, "--%s needs a value (%s)", o->name, o->metavar);
        }
    }
    return CLI_OK;
}

bool cli_begin(cli_cmd *cmd, int argc, char **argv, int *rc)
{
    bool help;
    *rc = cli_parse(cmd, argc, argv, &help);
    return *rc == CLI_OK && !help;
}

const char *cli_get(const cli_cmd *cmd, const char *name)
{
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (strcmp(cmd->opts[i].name, name) == 0)
            return cmd->opts[i].value;
    return NULL;
}

bool cli_flag(const cli_cmd *cmd, const char *name) { return cli_get(cmd, name) != NULL; }

/* v, the value of --name, as a decimal integer >= 0 into *x (*overflow: it did not fit); false
   after a usage error if it is not one.  strtoull skips blanks and takes a sign: a '-' is always
   refused, a leading '+' or blank only when digits_only. */
static bool parse_unsigned(const cli_cmd *cmd, const char *name, const char *v, bool digits_only,
                           unsigned long long *x, bool *overflow)
{
    char *end;
    errno = 0;
    *x = strtoull(v, &end, 10);
    *overflow = errno == ERANGE;
    if (!*v || *end || v[0] == '-' || (digits_only && (v[0] == '+' || v[0] == ' '))) {
        cli_usage_error(cmd->name, "--%s: '%s' is not a non-negative integer", name, v);
        return false;
    }
    return true;
}

bool cli_u64(const cli_cmd *cmd, const char *name, uint64_t dflt, uint64_t *out)
{
    const char *v = cli_get(cmd, name);
    if (!v) {
        *out = dflt;
        return true;
    }
    unsigned long long x;
    bool overflow;
    if (!parse_unsigned(cmd, name, v, false, &x, &overflow))
        return false;
    if (overflow) {
        cli_usage_error(cmd->name, "--%s %s is out of range: at most %llu", name, v,
                        (unsigned long long)UINT64_MAX);
        return false;
    }
    *out = x;
    return true;
}

bool cli_size_range(const cli_cmd *cmd, const char *name, size_t dflt, size_t min, size_t max,
                    size_t *out)
{
    const char *v = cli_get(cmd, name);
    if (!v) {
        *out = dflt;
        return true;
    }
    unsigned long long x;
    bool overflow;
    if (!parse_unsigned(cmd, name, v, true, &x, &overflow))
        return false;
    if (overflow || x < min || x > max) {
        cli_usage_error(cmd->name, "--%s %s is out of range: give %zu to %zu", name, v, min, max);
        return false;
    }
    *out = (size_t)x;
    return true;
}

bool cli_size(const cli_cmd *cmd, const char *name, size_t dflt, size_t min, size_t *out)
{
    return cli_size_range(cmd, name, dflt, min, SIZE_MAX / 16, out);
}

bool cli_double(const cli_cmd *cmd, const char *name, double dflt, double min, double max, double *out)
{
    const char *v = cli_get(cmd, name);
    if (!v) {
        *out = dflt;
        return true;
    }
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !isfinite(x)) {
        cli_usage_error(cmd->name, "--%s: '%s' is not a number", name, v);
        return false;
    }
    if (strpbrk(v, "xX")) { /* strtod reads C's hexadecimal floats (0x1p3 is 8) */
        cli_usage_error(cmd->name, "--%s: '%s' is hexadecimal: give a decimal number", name, v);
        return false;
    }
    if (x < min || x > max) {
        cli_usage_error(cmd->name, "--%s must be between %g and %g", name, min, max);
        return false;
    }
    *out = x;
    return true;
}

const char *cli_loss_name(nb_loss l)
{
    switch (l) {
    case NB_LOSS_MSE: return "mse";
    case NB_LOSS_BCE: return "bce";
    case NB_LOSS_SOFTMAX_CE: return "softmax-ce";
    default: return "?";
    }
}
