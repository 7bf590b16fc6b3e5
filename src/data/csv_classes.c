/* CSV reader: the class list of a label column (derived from the labels or given) and the
   lookup of a label's class index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_table.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A non-negative decimal integer up to NB__CSV_MAX_CLASSES - 1, or -1. */
static long small_int(const char *s)
{
    long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v >= NB__CSV_MAX_CLASSES)
            return -1;
    }
    return v;
}

/* Derives the class list from the labels (rows first..n_recs of column col). */
static nb_status derive_classes(const nb__csv_table *t, size_t first, size_t col, nb__csv_classes *c,
                                nb_io_error *err)
{
    size_t n = t->n_recs - first;
    long max = -1;
    bool ints = true;
    for (size_t r = first; r < t->n_recs && ints; r++) {
        long v = small_int(nb__csv_field(t, r, col));
        ints = v >= 0;
        max = v > max ? v : max;
    }
    if (ints) {
        c->n = (size_t)max + 1;
        c->names = calloc(c->n, sizeof *c->names);
        if (!c->names)
            return NB_ERR_NOMEM;
        for (size_t k = 0; k < c->n; k++) {
            char buf[24];
            snprintf(buf, sizeof buf, "%zu", k);
            if (!(c->names[k] = nb__csv_dup(buf)))
                return NB_ERR_NOMEM;
        }
        return NB_OK;
    }
    const char **v = malloc(n * sizeof *v);
    if (!v)
        return NB_ERR_NOMEM;
    for (size_t r = first; r < t->n_recs; r++)
        v[r - first] = nb__csv_field(t, r, col);
    qsort(v, n, sizeof *v, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(v[i], v[u - 1]) != 0)
            v[u++] = v[i];
    nb_status st = NB_OK;
    if (u > NB__CSV_MAX_CLASSES)
        st = nb__csv_fail(err, NB_ERR_PARSE, 0, col + 1, "too many classes (%zu, at most %d)", u,
                          NB__CSV_MAX_CLASSES);
    if (st == NB_OK && !(c->names = calloc(u, sizeof *c->names)))
        st = NB_ERR_NOMEM;
    if (st == NB_OK)
        c->n = u;
    for (size_t k = 0; st == NB_OK && k < u; k++)
        if (!(c->names[k] = nb__csv_dup(v[k])))
            st = NB_ERR_NOMEM;
    free(v);
    return st;
}

static nb_status copy_classes(const nb_csv_opts *o, nb__csv_classes *c)
{
    c->names = calloc(o->n_classes, sizeof *c->names);
    if (!c->names)
        return NB_ERR_NOMEM;
    c->n = o->n_classes;
    for (size_t k = 0; k < c->n; k++)
        if (!(c->names[k] = nb__csv_dup(o->classes[k])))
            return NB_ERR_NOMEM;
    return NB_OK;
}

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const nb__csv_named *)a)->name, ((const nb__csv_named *)b)->name);
}

long nb__csv_class_of(const nb__csv_classes *ci, const char *s)
{
    size_t lo = 0, hi = ci->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s, ci->sorted[mid].name);
        if (c == 0)
            return (long)ci->sorted[mid].idx;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* (name, index) pairs sorted by name, so that each label is found by binary search. */
static nb_status index_classes(nb__csv_classes *c)
{
    c->sorted = malloc((c->n ? c->n : 1) * sizeof *c->sorted);
    if (!c->sorted)
        return NB_ERR_NOMEM;
    for (size_t k = 0; k < c->n; k++) {
        c->sorted[k].name = c->names[k];
        c->sorted[k].idx = k;
    }
    qsort(c->sorted, c->n, sizeof *c->sorted, cmp_named);
    return NB_OK;
}

nb_status nb__csv_classes_make(const nb__csv_table *t, size_t first, size_t col,
                               const nb_csv_opts *o, nb__csv_classes *c, nb_io_error *err)
{
    memset(c, 0, sizeof *c);
    nb_status st = o->classes ? copy_classes(o, c) : derive_classes(t, first, col, c, err);
    if (st == NB_OK)
        st = index_classes(c);
    if (st != NB_OK)
        nb__csv_classes_free(c, false);
    return st;
}

void nb__csv_classes_free(nb__csv_classes *c, bool keep_names)
{
    free(c->sorted);
    c->sorted = NULL;
    if (keep_names)
        return;
    for (size_t k = 0; c->names && k < c->n; k++)
        free(c->names[k]);
    free(c->names);
    c->names = NULL;
    c->n = 0;
}
