/* nablas eval: loss of a model on a labelled table; for classifiers also the accuracy and the
   confusion matrix; for regression RMSE, MAE and R² per target column in the targets' units. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/model_cmd.h"
#include "cli/threads_opt.h"

static cli_opt opts[] = {
    {"model", "MODEL", "the model file (required)", NULL},
    CLI_DATA_OPTS,
    CLI_THREADS_OPT,
};

static const char help[] =
    "Prints the model's loss on a labelled table and, for classifiers, the accuracy, the\n"
    "confusion matrix and precision, recall, F1 and support per class (with macro and weighted\n"
    "averages, as scikit-learn's classification_report); for regression, RMSE, MAE and R2 per\n"
    "target column (and overall) in the targets' own units. The model's standardisation is\n"
    "applied to the data first; class labels are matched to the class names stored in the\n"
    "model. Without a target option, the columns named like the model's targets are the\n"
    "targets.";

/* The width of the first column: the longest class name (at most 22 bytes shown) + 2. */
static int name_width(char **names, size_t k, int min)
{
    int w = min;
    for (size_t c = 0; names && c < k; c++) {
        int len = (int)strlen(names[c]) + 2;
        w = len > w ? (len < 24 ? len : 24) : w;
    }
    return w;
}

/* Rows: true class; columns: predicted class; then each class's precision, recall, F1 and
   support, and their macro and weighted averages (scikit-learn's classification_report, in
   the confusion matrix's rows). */
static void confusion_table(const size_t *m, const nb_class_metrics *r, char **names)
{
    size_t k = r->classes;
    int w = name_width(names, k, 9);
    printf("confusion matrix (rows: true class, columns: predicted class)\n"
           "%*s", w, "");
    for (size_t c = 0; c < k; c++) {
        if (names)
            printf("%*.*s", w, w - 2, names[c]);
        else
            printf("%*zu", w, c);
    }
    printf("  precision  recall      f1  support\n");
    for (size_t t = 0; t < k; t++) {
        if (names)
            printf("%-*.*s", w, w - 2, names[t]);
        else
            printf("%-*zu", w, t);
        for (size_t c = 0; c < k; c++)
            printf("%*zu", w, m[t * k + c]);
        printf("  %9.4f %7.4f %7.4f %8zu\n", r->precision[t], r->recall[t], r->f1[t],
               r->support[t]);
    }
    int pad = w * (int)(k + 1) - 12; /* the averages under the score columns */
    printf("macro avg   %*s  %9.4f %7.4f %7.4f %8zu\n", pad, "", r->macro_precision,
           r->macro_recall, r->macro_f1, r->total);
    printf("weighted avg%*s  %9.4f %7.4f %7.4f %8zu\n", pad, "", r->weighted_precision,
           r->weighted_recall, r->weighted_f1, r->total);
}

/* The confusion matrix and the per-class report of outputs Y against targets T. */
static int classification_tables(const nb_tensor *Y, const nb_tensor *T, char **names)
{
    size_t k = nb_confusion_classes(Y->cols);
    size_t *m = calloc(k * k, sizeof *m);
    if (!m)
        return cli_error("eval", "out of memory");
    nb_class_metrics r;
    nb_status st = nb_confusion_compute(Y, T, m);
    if (st == NB_OK)
        st = nb_class_metrics_compute(m, k, &r);
    if (st != NB_OK) {
        free(m);
        return cli_error("eval", "%s", nb_status_str(st));
    }
    confusion_table(m, &r, names);
    nb_class_metrics_free(&r);
    free(m);
    return CLI_OK;
}

/* RMSE, MAE and R² per target column and overall, in the targets' own units. */
static void regression_table(const nb_regression_metrics *r, const nb_model *m,
                             const nb_dataset *d)
{
    char *const *names = m->n_target_names == r->cols ? m->target_names
                         : d->n_target_names == r->cols ? d->target_names : NULL;
    int w = 9;
    for (size_t j = 0; names && j < r->cols; j++) {
        int len = (int)strlen(names[j]) + 2;
        w = len > w ? (len < 26 ? len : 26) : w;
    }
    printf("%-*s %12s %12s %11s\n", w, "target", "RMSE", "MAE", "R²"); /* ² is 2 bytes */
    char buf[24];
    for (size_t j = 0; j < r->cols; j++) {
        snprintf(buf, sizeof buf, "y%zu", j);
        printf("%-*.*s %12.6g %12.6g %10.6f\n", w, w - 2, names ? names[j] : buf, r->rmse[j],
               r->mae[j], r->r2[j]);
    }
    printf("%-*s %12.6g %12.6g %10.6f\n", w, "overall", r->rmse_all, r->mae_all, r->r2_all);
}

/* A finite model on finite data can still overflow (values far outside what it was trained
   on): name the row rather than print NaN metrics.  The raw table through the inference API,
   which applies the model's standardisation itself. */
static int check_finite_outputs(const nb_model *m, const nb_tensor *X)
{
    nb_infer_ctx *ctx;
    nb_tensor Y = {0};
    nb_status st = nb_infer_ctx_create(&ctx, m->net, m->norm, cli_infer_batch(X->rows));
    if (st != NB_OK)
        return cli_error("eval", "%s", nb_status_str(st));
    st = nb_tensor_alloc(&Y, X->rows, nb_net_outputs(m->net));
    if (st == NB_OK)
        st = nb_infer_predict(ctx, X, &Y);
    nb_infer_ctx_free(ctx);
    int rc = st == NB_OK ? CLI_OK : cli_error("eval", "%s", nb_status_str(st));
    for (size_t i = 0; rc == CLI_OK && i < Y.rows * Y.cols; i++)
        if (!isfinite(Y.data[i]))
            rc = cli_error("eval", "row %zu gives a non-finite output (NaN or infinity): its "
                                   "values are out of the range this model handles",
                           i / Y.cols + 1);
    nb_tensor_free(&Y);
    return rc;
}

static int evaluate(const char *model_path, nb_model *m, nb_dataset *d)
{
    size_t outs = nb_net_outputs(m->net);
    if (d->X.cols != nb_net_inputs(m->net))
        return cli_error("eval", "the model takes %zu features but the data have %zu",
                         nb_net_inputs(m->net), d->X.cols);
    if (d->T.cols != outs)
        return cli_error("eval", "the model has %zu outputs but the data have %zu targets", outs,
                         d->T.cols);
    int rc = check_finite_outputs(m, &d->X);
    if (rc != CLI_OK)
        return rc;
    bool classify = m->n_classes > 0 || m->loss != NB_LOSS_MSE;
    nb_regression_metrics r = {0, 0, NULL, NULL, NULL, 0, 0, 0};
    nb_status st = NB_OK;
    if (!classify) {
        /* On the raw table (the library standardises the features and maps the predictions
           back to the targets' units); then the loss in the units the model was trained in. */
        st = nb_net_evaluate_regression(m->net, m->norm, m->target_norm, &d->X, &d->T, &r);
        if (st == NB_OK && m->target_norm)
            st = nb_norm_apply(m->target_norm, &d->T);
    }
    if (st == NB_OK && m->norm)
        st = nb_norm_apply(m->norm, &d->X);
    nb_eval ev;
    nb_tensor Y = {0};
    if (st == NB_OK)
        st = nb_net_evaluate(m->net, &d->X, &d->T, m->loss, &ev);
    if (st == NB_OK && classify && (st = nb_tensor_alloc(&Y, d->X.rows, outs)) == NB_OK)
        st = nb_net_predict(m->net, &d->X, &Y);
    if (st != NB_OK) {
        nb_tensor_free(&Y);
        nb_regression_metrics_free(&r);
        return cli_error("eval", "%s", nb_status_str(st));
    }
    printf("model     %s\nrows      %zu\nloss      %.6f (%s%s)\n", model_path, ev.rows, ev.loss,
           cli_loss_name(m->loss), m->target_norm ? ", in standardised target units" : "");
    if (classify) {
        printf("accuracy  %.2f%% (%zu of %zu)\n", 100.0 * ev.accuracy,
               (size_t)(ev.accuracy * (double)ev.rows + 0.5), ev.rows);
        rc = classification_tables(&Y, &d->T, outs == 1 ? NULL : m->class_names);
    } else {
        regression_table(&r, m, d);
    }
    nb_tensor_free(&Y);
    nb_regression_metrics_free(&r);
    return rc;
}

bool cli_model_cmd_begin(cli_cmd *cmd, int argc, char **argv, int *rc, const char **model)
{
    if (!cli_begin(cmd, argc, argv, rc))
        return false;
    *rc = CLI_USAGE;
    if (!cli_threads_apply(cmd))
        return false;
    if (!(*model = cli_get(cmd, "model"))) {
        cli_usage_error(cmd->name, "--model MODEL is required");
        return false;
    }
    *rc = CLI_OK;
    return true;
}

int cmd_eval(int argc, char **argv)
{
    cli_cmd cmd = {"eval", "--model MODEL --data FILE [--label-column C | --target-columns LIST | "
                   "--targets T.npy] [options]",
                   help, opts, sizeof opts / sizeof *opts, NULL, NULL};
    int rc;
    const char *path;
    if (!cli_model_cmd_begin(&cmd, argc, argv, &rc, &path))
        return rc;
    nb_model m;
    if ((rc = cli_load_model("eval", path, &m)) != CLI_OK)
        return rc;
    cli_data_req req = {true, nb_net_outputs(m.net), (const char *const *)m.class_names, m.n_classes,
                        &m};
    nb_dataset d;
    rc = cli_load_data(&cmd, &req, &d);
    if (rc == CLI_OK)
        rc = evaluate(path, &m, &d);
    nb_dataset_free(&d);
    nb_model_free(&m);
    return rc;
}
