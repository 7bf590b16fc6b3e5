/* nablas predict: run a model on a table and write the outputs as CSV or NPY (atomically), in
   the user's units (nb_model_predict: softmax probabilities for softmax cross-entropy models,
   targets in their units for --standardize-targets models), and with --jacobian each row's
   derivatives of the outputs with respect to the inputs as a 3-D NPY (of the probabilities,
   unless --jacobian-of logits). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/model_cmd.h"
#include "cli/threads_opt.h"

static cli_opt opts[] = {
    {"model", "MODEL", "the model file (required)", NULL},
    CLI_DATA_OPTS,
    {"out", "FILE", "where to write the predictions: FILE.csv or FILE.npy; - (or /dev/stdout) "
                    "for CSV on standard output", NULL},
    {"jacobian", "FILE.npy", "also (or instead) write d outputs / d inputs of every row, in the "
                             "data's units: a float32 array rows x outputs x inputs (- for "
                             "standard output)", NULL},
    {"jacobian-of", "WHAT", "for classifiers: probabilities (default, what --out gets) or "
                            "logits", NULL},
    CLI_THREADS_OPT,
};

static const char help[] =
    "Writes the model's outputs for every row of a table: to a .npy file as a "
    "float32 array, or\nto a CSV file with a header (for classifiers: one "
    "probability column per class and the\npredicted class). Columns named by "
    "--label-column or --target-columns are ignored, and so\nare, without being "
    "named, the columns named like the model's targets. A model trained\nwith "
    "--standardize-targets answers in the targets' own units. --jacobian writes "
    "each row's\nderivatives of those outputs with respect to the inputs, in "
    "the data's units.";

/* A CSV field, quoted only when it has to be. */
static void put_field(FILE *f, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")] && s[0] != ' ' && s[0] != '#') {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Header: class names (then a "class" column with the most likely one), the model's target
   names, or y0, y1, ... */
static int write_csv(const char *path, const nb_tensor *Y, const nb_model *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return cli_error("predict", "out of memory");
    bool named = m->n_classes == Y->cols && m->class_names;
    bool targets = !named && m->n_target_names == Y->cols && m->target_names;
    for (size_t j = 0; j < Y->cols; j++) {
        if (named) {
            put_field(f, m->class_names[j]);
        } else if (targets) {
            put_field(f, m->target_names[j]);
        } else {
            fprintf(f, "y%zu", j);
        }
        if (j + 1 < Y->cols)
            fputc(',', f);
    }
    fputs(named ? ",class\n" : "\n", f);
    for (size_t i = 0; i < Y->rows; i++) {
        const float *y = Y->data + i * Y->cols;
        size_t best = 0;
        for (size_t j = 0; j < Y->cols; j++) {
            fprintf(f, "%.9g%s", (double)y[j], j + 1 < Y->cols ? "," : "");
            best = y[j] > y[best] ? j : best;
        }
        if (named) {
            fputc(',', f);
            put_field(f, m->class_names[best]);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return cli_error("predict", "out of memory");
    }
    int rc = cli_write_output("predict", path, buf, len);
    free(buf);
    return rc;
}

/* The "written to" line: on stderr when the data go to stdout, a FIFO or a device (a pipe
   then carries only the data). */
static FILE *say_to(const char *path)
{
    return cli_output_direct(path) ? stderr : stdout;
}

/* A finite model on finite inputs can still overflow (inputs far outside what it was trained
   on): say which row instead of writing NaN. */
static int check_outputs_finite(const char *cmd, const char *data, const nb_tensor *Y)
{
    for (size_t i = 0; i < Y->rows * Y->cols; i++)
        if (!isfinite(Y->data[i]))
            return cli_error(cmd, "%s: row %zu gives a non-finite output (NaN or infinity): its "
                                  "values are out of the range this model handles; nothing "
                                  "written", data, i / Y->cols + 1);
    return CLI_OK;
}

/* The Jacobian of every row (rows x outputs x inputs) in the units predict writes: the
   model's standardisations and, for classifiers, the softmax (unless logits). */
static int write_jacobian(const char *path, const nb_model *m, const nb_tensor *X, bool logits,
                          const char *data)
{
    size_t n = nb_net_inputs(m->net), k = nb_net_outputs(m->net);
    nb_deriv_opts o = nb_deriv_opts_default();
    o.norm = m->norm;
    o.target_norm = m->target_norm;
    o.probabilities = m->loss == NB_LOSS_SOFTMAX_CE && !logits && k > 1;
    nb_deriv_ctx *ctx;
    nb_status st = nb_deriv_ctx_create(&ctx, m->net, &o, 64);
    if (st != NB_OK)
        return cli_error("predict", "%s", nb_status_str(st));
    nb_tensor J = {0};
    if (X->rows > SIZE_MAX / sizeof(float) / k / n)
        st = NB_ERR_OVERFLOW;
    if (st == NB_OK)
        st = nb_tensor_alloc(&J, X->rows, k * n);
    if (st == NB_OK)
        st = nb_deriv_jacobian(ctx, X, &J, NULL);
    nb_deriv_ctx_free(ctx);
    if (st != NB_OK) {
        nb_tensor_free(&J);
        return cli_error("predict", "--jacobian: %s", nb_status_str(st));
    }
    for (size_t i = 0; i < J.rows * J.cols; i++)
        if (!isfinite(J.data[i])) {
            nb_tensor_free(&J);
            return cli_error("predict", "%s: row %zu gives a non-finite derivative; nothing "
                                        "written", data, i / J.cols + 1);
        }
    size_t shape[3] = {X->rows, k, n};
    void *bytes = NULL;
    size_t size = 0;
    st = nb_npy_write_nd_mem(&bytes, &size, J.data, 3, shape);
    nb_tensor_free(&J);
    if (st != NB_OK)
        return cli_error("predict", "cannot write %s: %s", cli_out_name(path), nb_status_str(st));
    int rc = cli_write_output("predict", path, bytes, size);
    free(bytes);
    if (rc == CLI_OK)
        fprintf(say_to(path), "%zu Jacobians (%zu x %zu) written to %s\n", X->rows, k, n,
                cli_out_name(path));
    return rc;
}

static int predict(const char *out, nb_model *m, nb_dataset *d, const char *data)
{
    size_t outs = nb_net_outputs(m->net);
    if (d->X.cols != nb_net_inputs(m->net))
        return cli_error("predict", "the model takes %zu features but the data have %zu (drop "
                                    "target columns with --label-column or --target-columns)",
                         nb_net_inputs(m->net), d->X.cols);
    if (!out)
        return CLI_OK; /* --jacobian alone */
    /* the library's one-call prediction: standardisations, softmax (include/nablas/predict.h) */
    nb_tensor Y;
    nb_status st = nb_tensor_alloc(&Y, d->X.rows, outs);
    if (st == NB_OK)
        st = nb_model_predict(m, &d->X, &Y);
    if (st != NB_OK) {
        nb_tensor_free(&Y);
        return cli_error("predict", "%s", nb_status_str(st));
    }
    int rc = check_outputs_finite("predict", data, &Y);
    if (rc == CLI_OK && cli_ends_with(out, ".npy")) {
        void *bytes = NULL;
        size_t size = 0;
        st = nb_npy_write_mem(&bytes, &size, &Y);
        rc = st == NB_OK ? cli_write_output("predict", out, bytes, size)
                         : cli_error("predict", "cannot write %s: %s", out, nb_status_str(st));
        free(bytes);
    } else if (rc == CLI_OK) {
        rc = write_csv(out, &Y, m); /* stdout, /dev/stdout and other names: CSV */
    }
    if (rc == CLI_OK)
        fprintf(say_to(out), "%zu predictions written to %s\n", Y.rows, cli_out_name(out));
    nb_tensor_free(&Y);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    cli_cmd cmd = {"predict", "--model MODEL --data FILE --out FILE.csv|FILE.npy [--jacobian FILE.npy] [options]",
                   help, opts, sizeof opts / sizeof *opts, NULL, NULL};
    int rc;
    const char *path;
    if (!cli_model_cmd_begin(&cmd, argc, argv, &rc, &path))
        return rc;
    const char *out = cli_get(&cmd, "out");
    const char *jac = cli_get(&cmd, "jacobian"), *of = cli_get(&cmd, "jacobian-of");
    if (!out && !jac)
        return cli_usage_error("predict", "--out FILE.csv|FILE.npy (or --jacobian FILE.npy) is "
                                          "required");
    if (jac && !cli_ends_with(jac, ".npy") && !cli_is_stdout(jac))
        return cli_usage_error("predict", "--jacobian must name a .npy file");
    if (of && !jac)
        return cli_usage_error("predict", "--jacobian-of needs --jacobian");
    if (of && strcmp(of, "probabilities") != 0 && strcmp(of, "logits") != 0)
        return cli_usage_error("predict", "--jacobian-of: probabilities or logits, not %s", of);
    const char *inputs[] = {path, cli_get(&cmd, "data"), cli_get(&cmd, "targets")};
    cli_output outs[] = {{"out", out}, {"jacobian", jac}};
    if ((rc = cli_check_data_outputs("predict", outs, 2, inputs, 3)) != CLI_OK)
        return rc;
    nb_model m;
    if ((rc = cli_load_model("predict", path, &m)) != CLI_OK)
        return rc;
    if (of && (m.loss != NB_LOSS_SOFTMAX_CE || nb_net_outputs(m.net) < 2)) {
        nb_model_free(&m);
        return cli_usage_error("predict", "--jacobian-of: %s is not a classifier (trained with "
                                          "softmax-ce)", path);
    }
    cli_data_req req = {false, 0, NULL, 0, &m};
    nb_dataset d;
    rc = cli_load_data(&cmd, &req, &d);
    if (rc == CLI_OK)
        rc = predict(out, &m, &d, cli_in_name(cli_get(&cmd, "data")));
    if (rc == CLI_OK && jac)
        rc = write_jacobian(jac, &m, &d.X, of && strcmp(of, "logits") == 0,
                            cli_in_name(cli_get(&cmd, "data")));
    nb_dataset_free(&d);
    nb_model_free(&m);
    return rc;
}
