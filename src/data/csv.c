/* CSV reader for numeric tables, stage 2 and the public API: the columns are chosen (features,
   targets, a label column) and the fields converted.  Stage 1 (csv_split.c) has already split
   the text; class lists are in csv_classes.c.  Nothing is written to the caller's dataset until
   everything succeeded. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_nul.h"
#include "data/csv_table.h"
#include "core/file_io.h"
#include "data/gzip.h"


/* Resolves a column given by header name or by index (negative from the end). */
static nb_status resolve_column(const nb__csv_table *t, bool header, size_t ncols, const char *spec,
                                size_t len, size_t *col, nb_io_error *err)
{
    if (header)
        for (size_t j = 0; j < ncols; j++) {
            const char *name = nb__csv_field(t, 0, j);
            if (strlen(name) == len && memcmp(name, spec, len) == 0) {
                *col = j;
                return NB_OK;
            }
        }
    char buf[32];
    if (len > 0 && len < sizeof buf) {
        memcpy(buf, spec, len);
        buf[len] = '\0';
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (*end == '\0' && errno == 0 && buf[0] != ' ') {
            long long n = (long long)(ncols < LLONG_MAX ? ncols : LLONG_MAX);
            if (v < 0)
                v += n;
            if (v >= 0 && v < n) {
                *col = (size_t)v;
                return NB_OK;
            }
        }
    }
    return nb__csv_fail(err, NB_ERR_ARG, 0, 0, "no column '%.*s' (%zu columns%s)",
                        (int)(len < 60 ? len : 60), spec, ncols,
                        header ? "; give a header name or a 0-based index" : "; give a 0-based index");
}

static nb_status parse_number(const char *s, float *out)
{
    if (*s == '\0')
        return NB_ERR_SHAPE; /* missing value */
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return NB_ERR_PARSE;
    if (strpbrk(s, "xX")) /* strtod reads C's hexadecimal floats: 0x10 is 16, not a typo */
        return NB_ERR_UNSUPPORTED;
    if (!isfinite(v) || !isfinite((float)v))
        return NB_ERR_ARG;
    *out = (float)v;
    return NB_OK;
}

static nb_status number_error(nb_status why, const nb__csv_table *t, size_t rec, size_t col,
                              nb_io_error *err)
{
    char buf[48];
    const char *s = nb__csv_field(t, rec, col);
    size_t line = nb__csv_field_line(t, rec, col);
    if (why == NB_ERR_SHAPE)
        return nb__csv_fail(err, NB_ERR_PARSE, line, col + 1, "missing value (empty field)");
    if (why == NB_ERR_UNSUPPORTED)
        return nb__csv_fail(err, NB_ERR_PARSE, line, col + 1, "hexadecimal number '%s': give "
                            "numbers in decimal", nb__csv_shown(s, buf));
    if (why == NB_ERR_ARG)
        return nb__csv_fail(err, NB_ERR_PARSE, line, col + 1, "not a finite float: '%s'",
                            nb__csv_shown(s, buf));
    return nb__csv_fail(err, NB_ERR_PARSE, line, col + 1, "not a number: '%s'", nb__csv_shown(s, buf));
}

typedef struct plan {
    size_t ncols, n_feat, n_targ;
    unsigned char *role; /* per column: 0 feature, 1 target, 2 label */
    size_t *targ;        /* target columns in the order asked */
    bool label;
    size_t label_col;
} plan;

typedef struct named_col {
    const char *name;
    size_t col;
} named_col;

static int by_name(const void *a, const void *b)
{
    const named_col *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->col > y->col) - (x->col < y->col);
}

/* Header names must differ: a column is found by name, so of two equal names the second could
   never be chosen, and a model's feature check would match the wrong column.  Sorted, so that
   a million columns take n log n. */
static nb_status check_unique_names(const nb__csv_table *t, size_t ncols, nb_io_error *err)
{
    named_col *v = malloc(ncols * sizeof *v); /* ncols fields exist: the product fits */
    if (!v)
        return NB_ERR_NOMEM;
    for (size_t j = 0; j < ncols; j++)
        v[j] = (named_col){nb__csv_field(t, 0, j), j};
    qsort(v, ncols, sizeof *v, by_name);
    nb_status st = NB_OK;
    for (size_t k = 1; k < ncols && st == NB_OK; k++)
        if (strcmp(v[k - 1].name, v[k].name) == 0) {
            char buf[48];
            st = nb__csv_fail(err, NB_ERR_PARSE, nb__csv_field_line(t, 0, v[k].col),
                              v[k].col + 1, "column name '%s' is also the name of column %zu: "
                              "names must differ", nb__csv_shown(v[k].name, buf), v[k - 1].col + 1);
        }
    free(v);
    return st;
}

static nb_status make_plan(const nb__csv_table *t, const nb_csv_opts *o, plan *p, nb_io_error *err)
{
    size_t ncols = t->rec[1] - t->rec[0];
    p->ncols = ncols;
    p->role = calloc(ncols, 1);
    p->targ = calloc(ncols, sizeof *p->targ);
    if (!p->role || !p->targ)
        return NB_ERR_NOMEM;
    if (o->header)
        NB_TRY(check_unique_names(t, ncols, err));
    if (o->label_column) {
        NB_TRY(resolve_column(t, o->header, ncols, o->label_column, strlen(o->label_column),
                              &p->label_col, err));
        p->role[p->label_col] = 2;
        p->label = true;
    } else if (o->target_columns) {
        const char *s = o->target_columns;
        for (;;) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            size_t col;
            NB_TRY(resolve_column(t, o->header, ncols, s, len, &col, err));
            if (p->role[col])
                return nb__csv_fail(err, NB_ERR_ARG, 0, 0, "target column %zu given twice", col);
            p->role[col] = 1;
            p->targ[p->n_targ++] = col;
            if (!e)
                break;
            s = e + 1;
        }
    }
    for (size_t j = 0; j < ncols; j++)
        p->n_feat += p->role[j] == 0;
    if (p->n_feat == 0)
        return nb__csv_fail(err, NB_ERR_ARG, 0, 0, "no feature columns left after taking the targets");
    return NB_OK;
}

static void plan_free(plan *p)
{
    free(p->role);
    free(p->targ);
}

static nb_status check_ragged(const nb__csv_table *t, size_t ncols, nb_io_error *err)
{
    for (size_t r = 1; r < t->n_recs; r++) {
        size_t nf = t->rec[r + 1] - t->rec[r];
        if (nf != ncols) {
            size_t col = nf < ncols ? nf : ncols + 1;
            size_t line = nb__csv_field_line(t, r, (nf < ncols ? nf : ncols + 1) - 1);
            return nb__csv_fail(err, NB_ERR_PARSE, line, col, "expected %zu fields, found %zu",
                                ncols, nf);
        }
    }
    return NB_OK;
}

/* The numeric columns: features into X, target columns (without a label column) into T. */
static nb_status fill_numbers(const nb__csv_table *t, const plan *p, size_t first, nb_dataset *d,
                              nb_io_error *err)
{
    size_t rows = t->n_recs - first;
    NB_TRY(nb_tensor_alloc(&d->X, rows, p->n_feat));
    d->n_features = p->n_feat;
    for (size_t r = first; r < t->n_recs; r++) {
        size_t f = 0;
        for (size_t j = 0; j < p->ncols; j++) {
            if (p->role[j] != 0)
                continue;
            float *dst = &d->X.data[(r - first) * p->n_feat + f++];
            nb_status st = parse_number(nb__csv_field(t, r, j), dst);
            if (st != NB_OK)
                return number_error(st, t, r, j, err);
        }
    }
    if (!p->n_targ)
        return NB_OK;
    NB_TRY(nb_tensor_alloc(&d->T, rows, p->n_targ));
    for (size_t r = first; r < t->n_recs; r++)
        for (size_t k = 0; k < p->n_targ; k++) {
            nb_status st = parse_number(nb__csv_field(t, r, p->targ[k]),
                                        &d->T.data[(r - first) * p->n_targ + k]);
            if (st != NB_OK)
                return number_error(st, t, r, p->targ[k], err);
        }
    return NB_OK;
}

/* The label column: every label present and not too long, then the classes and T one-hot. */
static nb_status fill_labels(const nb__csv_table *t, const nb_csv_opts *o, const plan *p,
                             size_t first, nb_dataset *d, nb_io_error *err)
{
    size_t col = p->label_col;
    for (size_t r = first; r < t->n_recs; r++) {
        const char *s = nb__csv_field(t, r, col);
        char buf[48];
        if (!*s)
            return nb__csv_fail(err, NB_ERR_PARSE, nb__csv_field_line(t, r, col), col + 1,
                                "missing value (empty label)");
        if (strlen(s) > NB__CSV_MAX_NAME)
            return nb__csv_fail(err, NB_ERR_PARSE, nb__csv_field_line(t, r, col), col + 1,
                                "class label longer than %d bytes: '%s'", NB__CSV_MAX_NAME,
                                nb__csv_shown(s, buf));
    }
    nb__csv_classes c;
    nb_status st = nb__csv_classes_make(t, first, col, o, &c, err);
    if (st == NB_OK)
        st = nb_tensor_alloc(&d->T, t->n_recs - first, c.n);
    for (size_t r = first; st == NB_OK && r < t->n_recs; r++) {
        const char *s = nb__csv_field(t, r, col);
        long k = nb__csv_class_of(&c, s);
        char buf[48];
        if (k < 0)
            st = nb__csv_fail(err, NB_ERR_PARSE, nb__csv_field_line(t, r, col), col + 1,
                              "unknown class '%s' (%zu classes known)", nb__csv_shown(s, buf), c.n);
        else
            d->T.data[(r - first) * c.n + (size_t)k] = 1.0f;
    }
    nb__csv_classes_free(&c, st == NB_OK); /* on success the names move to the dataset */
    if (st != NB_OK)
        return st;
    d->class_names = c.names;
    d->n_classes = c.n;
    return NB_OK;
}

/* The header's names of the feature and target columns. */
static nb_status fill_names(const nb__csv_table *t, const plan *p, nb_dataset *d)
{
    d->feature_names = calloc(p->n_feat, sizeof *d->feature_names);
    if (!d->feature_names)
        return NB_ERR_NOMEM;
    size_t f = 0;
    for (size_t j = 0; j < p->ncols; j++)
        if (p->role[j] == 0 && !(d->feature_names[f++] = nb__csv_dup(nb__csv_field(t, 0, j))))
            return NB_ERR_NOMEM;
    size_t n_names = p->label ? 1 : p->n_targ;
    if (!n_names)
        return NB_OK;
    d->target_names = calloc(n_names, sizeof *d->target_names);
    if (!d->target_names)
        return NB_ERR_NOMEM;
    d->n_target_names = n_names;
    for (size_t k = 0; k < n_names; k++)
        if (!(d->target_names[k] = nb__csv_dup(nb__csv_field(t, 0, p->label ? p->label_col
                                                                             : p->targ[k]))))
            return NB_ERR_NOMEM;
    return NB_OK;
}

static nb_status fill(const nb__csv_table *t, const nb_csv_opts *o, const plan *p, size_t first,
                      nb_dataset *d, nb_io_error *err)
{
    NB_TRY(fill_numbers(t, p, first, d, err));
    if (p->label)
        NB_TRY(fill_labels(t, o, p, first, d, err));
    return o->header ? fill_names(t, p, d) : NB_OK;
}

nb_csv_opts nb_csv_opts_default(void)
{
    nb_csv_opts o = {',', true, NULL, NULL, NULL, 0};
    return o;
}

static nb_status check_opts(const nb_csv_opts *o, nb_io_error *err)
{
    char d = o->delimiter ? o->delimiter : ',';
    if (d == '"' || d == '\n' || d == '\r' || d == '#')
        return nb__csv_fail(err, NB_ERR_ARG, 0, 0, "the delimiter cannot be a quote, '#' or a line end");
    if (o->label_column && o->target_columns)
        return nb__csv_fail(err, NB_ERR_ARG, 0, 0, "give a label column or target columns, not both");
    if (o->classes && o->n_classes == 0)
        return nb__csv_fail(err, NB_ERR_ARG, 0, 0, "an empty class list");
    for (size_t k = 0; o->classes && k < o->n_classes; k++)
        if (!o->classes[k])
            return NB_ERR_NULL;
    return NB_OK;
}

/* gzip-compressed text: inflated (at most NB_CSV_MAX_BYTES, stopping at a NUL byte as the
   file reader does), then read as the text it holds. */
static nb_status read_gzip(nb_dataset *out, const char *gz, size_t len, const nb_csv_opts *opts,
                           nb_io_error *err)
{
    unsigned char *text;
    size_t size;
    nb_status st = nb__gunzip(&text, &size, (const unsigned char *)gz, len, NB_CSV_MAX_BYTES,
                              true, err);
    if (st == NB_ERR_LIMIT)
        return nb__csv_fail(err, st, 0, 0, "gzip data that decompress to more than the %zu MiB "
                            "limit for CSV input (NB_CSV_MAX_BYTES; use .npy for bigger tables)",
                            NB_CSV_MAX_BYTES >> 20);
    if (st != NB_OK)
        return st;
    st = nb_csv_read_mem(out, (const char *)text, size, opts, err);
    free(text);
    return st;
}

nb_status nb_csv_read_mem(nb_dataset *out, const char *text, size_t len, const nb_csv_opts *opts,
                          nb_io_error *err)
{
    if ((!text && len) || !out)
        return NB_ERR_NULL;
    nb_csv_opts o = opts ? *opts : nb_csv_opts_default();
    NB_TRY(check_opts(&o, err));
    if (nb__is_gzip((const unsigned char *)text, len))
        return read_gzip(out, text, len, &o, err);
    char delim = o.delimiter ? o.delimiter : ',';
    nb__csv_table t;
    memset(&t, 0, sizeof t);
    plan p;
    memset(&p, 0, sizeof p);
    nb_dataset d;
    memset(&d, 0, sizeof d);
    nb_status st = nb__csv_split(text ? text : "", len, delim, &t, err);
    size_t first = o.header ? 1 : 0;
    if (st == NB_OK && t.n_recs <= first)
        st = nb__csv_fail(err, NB_ERR_PARSE, 0, 0, t.n_recs ? "no data rows (only a header)"
                                                    : "no data rows (empty file)");
    if (st == NB_OK)
        st = check_ragged(&t, t.rec[1] - t.rec[0], err);
    if (st == NB_OK)
        st = make_plan(&t, &o, &p, err);
    if (st == NB_OK)
        st = fill(&t, &o, &p, first, &d, err);
    plan_free(&p);
    nb__csv_table_free(&t);
    if (st != NB_OK) {
        if (st == NB_ERR_NOMEM || st == NB_ERR_OVERFLOW)
            nb__csv_fail(err, st, 0, 0, "%s", nb_status_str(st));
        nb_dataset_free(&d);
        return st;
    }
    *out = d;
    return NB_OK;
}

/* The bounded reader's check for CSV text: stop at the first chunk with a NUL byte (binary
   data, e.g. /dev/zero), so that such input fails after a few kilobytes. */
typedef struct nul_scan {
    size_t done, nul_at;
} nul_scan;

nb_status nb__csv_nul_scan(const unsigned char *b, size_t n, size_t *done, size_t *nul_at)
{
    const unsigned char *nul = memchr(b + *done, '\0', n - *done);
    if (nul) {
        *nul_at = (size_t)(nul - b);
        return NB_ERR_PARSE;
    }
    *done = n;
    return NB_OK;
}

static nb_status csv_prefix(const unsigned char *b, size_t n, bool eof, void *ctx)
{
    nul_scan *sc = ctx;
    if (nb__is_gzip(b, n)) /* compressed: read it all (nb_csv_read_mem inflates it) */
        return eof ? NB_OK : NB_ERR_TRUNCATED;
    if (nb__csv_nul_scan(b, n, &sc->done, &sc->nul_at) != NB_OK)
        return NB_ERR_PARSE;
    return eof ? NB_OK : NB_ERR_TRUNCATED;
}

nb_status nb_csv_read(nb_dataset *out, const char *path, const nb_csv_opts *opts, nb_io_error *err)
{
    if (!path || !out)
        return NB_ERR_NULL;
    unsigned char *data;
    size_t size;
    nul_scan scan = {0};
    nb_status st = nb__read_checked(path, NB_CSV_MAX_BYTES, csv_prefix, &scan, &data, &size);
    if (st == NB_ERR_PARSE)
        return nb__csv_fail(err, st, 0, 0, "a NUL byte at offset %zu: binary data, "
                            "not CSV text", scan.nul_at);
    if (st == NB_ERR_LIMIT)
        return nb__csv_fail(err, st, 0, 0, "larger than the %zu MiB limit for CSV input "
                            "(NB_CSV_MAX_BYTES; use .npy for bigger tables)",
                            NB_CSV_MAX_BYTES >> 20);
    if (st != NB_OK)
        return nb__csv_fail(err, st, 0, 0, "cannot read '%s': %s", path, nb_status_str(st));
    st = nb_csv_read_mem(out, (const char *)data, size, opts, err);
    free(data);
    return st;
}
