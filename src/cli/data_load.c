/* Loading --data for a subcommand: CSV (plain or gzip-compressed) through the library's
   reader with the column options, or NPY features with an optional NPY targets file; `--data -`
   reads either from standard input, once, into memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mpi_cli.h"
#include "core/file_io.h"
#include "data/csv_nul.h"
#include "data/gzip.h"

/* ---- standard input ----------------------------------------------------------------------- */

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* What stdin holds, decided on its first bytes: NPY (read whole), gzip (at most the CSV limit,
   compressed; the reader bounds what it inflates) or CSV text (at most the CSV limit, stopping
   at a NUL byte as the file reader does). */
typedef struct stdin_scan {
    size_t done, nul_at;
} stdin_scan;

static nb_status stdin_prefix(const unsigned char *b, size_t n, bool eof, void *ctx)
{
    stdin_scan *sc = ctx;
    bool npy = n >= sizeof npy_magic && !memcmp(b, npy_magic, sizeof npy_magic);
    if (!npy && n > NB_CSV_MAX_BYTES)
        return NB_ERR_LIMIT;
    if (!npy && !nb__is_gzip(b, n) && (n >= sizeof npy_magic || eof)
        && nb__csv_nul_scan(b, n, &sc->done, &sc->nul_at) != NB_OK)
        return NB_ERR_PARSE;
    return eof ? NB_OK : NB_ERR_TRUNCATED;
}

/* Reads all of standard input (said on failure). */
static int read_stdin(const char *cmd, unsigned char **data, size_t *size)
{
    if (cli_mpi_active())
        return cli_usage_error(cmd, "--data -: under mpirun only one rank has standard input; "
                                    "give every rank a file");
    stdin_scan sc = {0, 0};
    nb_status st = nb__read_checked("/dev/stdin", (size_t)-1 / 2, stdin_prefix, &sc, data, size);
    if (st == NB_ERR_PARSE)
        return cli_error(cmd, "<stdin>: a NUL byte at offset %zu: binary data, not CSV text",
                         sc.nul_at);
    if (st == NB_ERR_LIMIT)
        return cli_error(cmd, "<stdin>: larger than the %zu MiB limit for CSV input (use .npy "
                              "for bigger tables)", NB_CSV_MAX_BYTES >> 20);
    if (st != NB_OK)
        return cli_error(cmd, "cannot read standard input (--data -): %s", nb_status_str(st));
    return CLI_OK;
}

static bool is_npy(const unsigned char *b, size_t n)
{
    return n >= sizeof npy_magic && !memcmp(b, npy_magic, sizeof npy_magic);
}

static bool parse_delimiter(const char *v, char *out)
{
    if (!v) {
        *out = ',';
        return true;
    }
    if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0) {
        *out = '\t';
        return true;
    }
    if (strlen(v) == 1) {
        *out = v[0];
        return true;
    }
    return false;
}

static int check_finite(const char *cmd, const char *path, const nb_tensor *t)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        if (!isfinite(t->data[i]))
            return cli_error(cmd, "%s: row %zu, column %zu is not a finite number", path,
                             i / t->cols + 1, i % t->cols + 1);
    return CLI_OK;
}

/* n x 1 class indices -> one-hot over k classes. */
static int one_hot(const char *cmd, const char *path, const cli_data_req *req, nb_dataset *d)
{
    size_t k = req->classes ? req->n_classes : req->outputs;
    nb_tensor T;
    if (nb_tensor_alloc(&T, d->T.rows, k) != NB_OK)
        return cli_error(cmd, "out of memory");
    for (size_t i = 0; i < d->T.rows; i++) {
        float v = d->T.data[i];
        if (!(v >= 0.0f) || v != floorf(v) || v >= (float)k) {
            nb_tensor_free(&T);
            return cli_error(cmd, "%s: row %zu: class index %g is not an integer in 0..%zu", path,
                             i + 1, (double)v, k - 1);
        }
        T.data[i * k + (size_t)v] = 1.0f;
    }
    nb_tensor_free(&d->T);
    d->T = T;
    d->class_names = calloc(k, sizeof *d->class_names);
    if (!d->class_names)
        return cli_error(cmd, "out of memory");
    d->n_classes = k;
    for (size_t c = 0; c < k; c++) {
        char buf[24];
        snprintf(buf, sizeof buf, "%zu", c);
        const char *name = req->classes ? req->classes[c] : buf;
        d->class_names[c] = malloc(strlen(name) + 1);
        if (!d->class_names[c])
            return cli_error(cmd, "out of memory");
        strcpy(d->class_names[c], name);
    }
    return CLI_OK;
}

static int load_npy(const cli_cmd *cmd, const cli_data_req *req, const char *path,
                    const unsigned char *mem, size_t mem_size, nb_dataset *d)
{
    const char *tpath = cli_get(cmd, "targets");
    if (cli_get(cmd, "label-column") || cli_get(cmd, "target-columns"))
        return cli_usage_error(cmd->name, "--label-column and --target-columns are for CSV data; "
                                          "give .npy targets with --targets FILE.npy");
    if (req->need_targets && !tpath)
        return cli_usage_error(cmd->name, ".npy data need their targets: --targets FILE.npy");
    nb_io_error err;
    memset(&err, 0, sizeof err);
    nb_status st = mem ? nb_npy_read_mem(&d->X, mem, mem_size) : nb_npy_read_err(&d->X, path, &err);
    if (st != NB_OK)
        return cli_error(cmd->name, "%s: %s", path, err.message[0] ? err.message
                                                                    : nb_status_str(st));
    d->n_features = d->X.cols;
    int rc = check_finite(cmd->name, path, &d->X);
    if (rc != CLI_OK || !tpath)
        return rc;
    if ((st = nb_npy_read_err(&d->T, tpath, &err)) != NB_OK)
        return cli_error(cmd->name, "%s: %s", tpath, err.message[0] ? err.message
                                                                     : nb_status_str(st));
    if (d->T.rows != d->X.rows)
        return cli_error(cmd->name, "%s has %zu rows but %s has %zu", tpath, d->T.rows, path,
                         d->X.rows);
    if ((rc = check_finite(cmd->name, tpath, &d->T)) != CLI_OK)
        return rc;
    if (d->T.cols == 1 && (req->outputs > 1 || req->classes))
        return one_hot(cmd->name, tpath, req, d);
    return CLI_OK;
}

static int load_csv(const cli_cmd *cmd, const cli_data_req *req, const char *path,
                    const char *name, const unsigned char *mem, size_t mem_size, nb_dataset *out);

int cli_load_data(const cli_cmd *cmd, const cli_data_req *req, nb_dataset *out)
{
    memset(out, 0, sizeof *out);
    const char *path = cli_get(cmd, "data");
    if (!path)
        return cli_usage_error(cmd->name, "--data FILE is required (see nablas %s --help)", cmd->name);
    if (cli_get(cmd, "targets") && !strcmp(cli_get(cmd, "targets"), "-"))
        return cli_usage_error(cmd->name, "--targets -: only --data reads standard input");
    unsigned char *mem = NULL; /* --data -: all of stdin */
    size_t mem_size = 0;
    int rc = strcmp(path, "-") ? CLI_OK : read_stdin(cmd->name, &mem, &mem_size);
    if (rc != CLI_OK)
        return rc;
    const char *name = cli_in_name(path);
    if (mem ? is_npy(mem, mem_size) : cli_ends_with(path, ".npy")) {
        rc = load_npy(cmd, req, name, mem, mem_size, out);
        free(mem);
        if (rc != CLI_OK)
            nb_dataset_free(out);
        return rc;
    }
    rc = load_csv(cmd, req, path, name, mem, mem_size, out);
    free(mem);
    return rc;
}

/* CSV from path, or from the bytes of stdin (mem); name: how messages call it. */
static int load_csv(const cli_cmd *cmd, const cli_data_req *req, const char *path,
                    const char *name, const unsigned char *mem, size_t mem_size, nb_dataset *out)
{
    if (cli_get(cmd, "targets"))
        return cli_usage_error(cmd->name, "--targets is for .npy data; for CSV use "
                                          "--label-column or --target-columns");
    nb_csv_opts o = nb_csv_opts_default();
    if (!parse_delimiter(cli_get(cmd, "delimiter"), &o.delimiter))
        return cli_usage_error(cmd->name, "--delimiter takes one character (or 'tab')");
    o.header = !cli_flag(cmd, "no-header");
    o.label_column = cli_get(cmd, "label-column");
    o.target_columns = cli_get(cmd, "target-columns");
    if (o.label_column && o.target_columns)
        return cli_usage_error(cmd->name, "give --label-column or --target-columns, not both");
    /* Not told where the targets are: the model's own target columns, if the file has them. */
    const nb_model *m = req->model;
    char *joined = NULL;
    bool guessed = false;
    if (m && m->n_target_names && o.header && !o.label_column && !o.target_columns) {
        if (m->n_classes)
            o.label_column = m->target_names[0];
        else
            o.target_columns = joined = cli_join_names(m->target_names, m->n_target_names);
        guessed = o.label_column || o.target_columns;
    }
    if (req->need_targets && !o.label_column && !o.target_columns)
        return cli_usage_error(cmd->name, "say which column holds the targets: --label-column "
                                          "NAME|INDEX (classes) or --target-columns LIST (regression)");
    if (o.label_column && req->classes) {
        o.classes = req->classes;
        o.n_classes = req->n_classes;
    }
    nb_io_error e;
    memset(&e, 0, sizeof e);
    nb_status st = mem ? nb_csv_read_mem(out, (const char *)mem, mem_size, &o, &e)
                       : nb_csv_read(out, path, &o, &e);
    if (st == NB_ERR_ARG && guessed && !req->need_targets) {
        /* the file does not hold the model's targets: every column is a feature */
        o.label_column = o.target_columns = NULL;
        o.classes = NULL;
        o.n_classes = 0;
        memset(&e, 0, sizeof e);
        st = mem ? nb_csv_read_mem(out, (const char *)mem, mem_size, &o, &e)
                 : nb_csv_read(out, path, &o, &e);
    } else if (st == NB_ERR_ARG && guessed) {
        int rc = cli_usage_error(cmd->name, "%s lacks the model's target column%s '%s': name the "
                                            "targets with --target-columns LIST or --label-column C",
                                 name, m->n_target_names > 1 ? "s" : "",
                                 o.label_column ? o.label_column : o.target_columns);
        free(joined);
        return rc;
    }
    free(joined);
    if (st == NB_OK && m) {
        int rc = cli_check_columns(cmd->name, name, m, out);
        if (rc != CLI_OK)
            nb_dataset_free(out);
        return rc;
    }
    if (st == NB_OK)
        return CLI_OK;
    if (st == NB_ERR_IO)
        return cli_error(cmd->name, "cannot read %s", name);
    if (e.line)
        return cli_error(cmd->name, "%s:%zu:%zu: %s", name, e.line, e.column, e.message);
    if (st == NB_ERR_ARG)
        return cli_usage_error(cmd->name, "%s: %s", name, e.message);
    return cli_error(cmd->name, "%s: %s", name, e.message[0] ? e.message : nb_status_str(st));
}

int cli_load_model(const char *cmd, const char *path, nb_model *m)
{
    if (!strcmp(path, "-"))
        return cli_usage_error(cmd, "a model is read from a file, not from standard input (-): "
                                    "name the file (./- for a file named '-')");
    nb_status st = nb_model_load(m, path);
    if (st == NB_OK)
        return CLI_OK;
    if (st == NB_ERR_IO)
        return cli_error(cmd, "cannot read model %s", path);
    return cli_error(cmd, "%s: %s", path, nb_status_str(st));
}
