/* What a model remembers of its data's columns: the feature and target names it was trained
   on, checked against a new table; and a label column that is likely a regression target. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

enum { SHOWN = 8 }; /* names listed in a message */

bool cli_names_storable(char *const *names, size_t n)
{
    if (!names || n == 0)
        return false;
    for (size_t k = 0; k < n; k++) {
        size_t len = names[k] ? strlen(names[k]) : 0;
        if (len == 0 || len > NB_MODEL_MAX_NAME)
            return false;
    }
    return true;
}

char *cli_join_names(char *const *names, size_t n)
{
    size_t len = 1;
    for (size_t k = 0; k < n; k++) {
        if (strchr(names[k], ','))
            return NULL; /* cannot be given as a --target-columns list */
        len += strlen(names[k]) + 1;
    }
    char *s = malloc(len);
    if (!s)
        return NULL;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        size_t l = strlen(names[k]);
        if (k)
            s[at++] = ',';
        memcpy(s + at, names[k], l);
        at += l;
    }
    s[at] = '\0';
    return s;
}

/* "a, b, c" (at most SHOWN names, then "..."), in buf. */
static const char *list(char *const *names, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && k < SHOWN && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? ", " : "", names[k]);
    if (n > SHOWN && used < size)
        snprintf(buf + used, size - used, ", ... (%zu in all)", n);
    return buf;
}

int cli_check_columns(const char *cmd, const char *path, const nb_model *m, const nb_dataset *d)
{
    if (!m->n_feature_names || !d->feature_names)
        return CLI_OK; /* no names on one side: nothing to compare */
    size_t nm = m->n_feature_names, nd = d->n_features, k = 0;
    while (k < nm && k < nd && strcmp(m->feature_names[k], d->feature_names[k]) == 0)
        k++;
    if (k == nm && k == nd)
        return CLI_OK;
    char buf[600];
    const char *trained = list(m->feature_names, nm, buf, sizeof buf);
    if (k < nm && k < nd)
        return cli_error(cmd, "%s: feature column %zu is '%s' but the model was trained on '%s' "
                              "there (its features: %s)", path, k + 1, d->feature_names[k],
                         m->feature_names[k], trained);
    if (k < nd)
        return cli_error(cmd, "%s: column '%s' is not one of the model's features (%s); drop it "
                              "or name it with --target-columns", path, d->feature_names[k],
                         trained);
    return cli_error(cmd, "%s: the feature column '%s' the model was trained on is missing (its "
                          "features: %s)", path, m->feature_names[k], trained);
}

/* A label that reads as a number with a fractional part. */
static bool non_integer_number(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(v) && v != floor(v);
}

int cli_check_label_column(const char *cmd, const char *column, const nb_dataset *d)
{
    for (size_t k = 0; k < d->n_classes; k++)
        if (non_integer_number(d->class_names[k]))
            return cli_usage_error(cmd, "--label-column %s holds non-integer numbers (e.g. '%s'), "
                                        "not class labels; for regression use --target-columns %s",
                                   column, d->class_names[k], column);
    size_t rows = d->X.rows;
    if (d->n_classes > 2 && d->n_classes > rows / 2)
        return cli_usage_error(cmd, "--label-column %s has %zu distinct values in %zu rows: that "
                                    "looks like a numeric target, not classes; for regression use "
                                    "--target-columns %s", column, d->n_classes, rows, column);
    return CLI_OK;
}
