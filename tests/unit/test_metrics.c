/* Regression metrics against a naive double computation (one pass per sum, straight from the
   definitions), the network evaluation in the targets' units, and every argument error; the
   confusion matrix and the per-class report against exact fractions of its definitions. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct ref {
    double rmse[8], mae[8], r2[8], rmse_all, mae_all, r2_all;
} ref;

static ref naive(const float *y, const float *t, size_t rows, size_t cols)
{
    ref r;
    memset(&r, 0, sizeof r);
    double sse_all = 0, sae_all = 0;
    for (size_t j = 0; j < cols; j++) {
        double mean = 0, sse = 0, sae = 0, sst = 0;
        for (size_t i = 0; i < rows; i++)
            mean += t[i * cols + j];
        mean /= (double)rows;
        for (size_t i = 0; i < rows; i++) {
            double e = (double)y[i * cols + j] - t[i * cols + j];
            double d = (double)t[i * cols + j] - mean;
            sse += e * e;
            sae += fabs(e);
            sst += d * d;
        }
        r.rmse[j] = sqrt(sse / (double)rows);
        r.mae[j] = sae / (double)rows;
        r.r2[j] = sst > 0 ? 1 - sse / sst : (sse == 0 ? 1 : 0);
        sse_all += sse;
        sae_all += sae;
        r.r2_all += r.r2[j] / (double)cols;
    }
    r.rmse_all = sqrt(sse_all / (double)(rows * cols));
    r.mae_all = sae_all / (double)(rows * cols);
    return r;
}

static void close_to(double got, double want, const char *what)
{
    cr_assert(fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want)), "%s: %.17g vs %.17g", what, got,
              want);
}

static void assert_matches(const nb_regression_metrics *m, const ref *r, size_t rows, size_t cols)
{
    cr_assert(m->rows == rows && m->cols == cols);
    for (size_t j = 0; j < cols; j++) {
        close_to(m->rmse[j], r->rmse[j], "rmse");
        close_to(m->mae[j], r->mae[j], "mae");
        close_to(m->r2[j], r->r2[j], "r2");
    }
    close_to(m->rmse_all, r->rmse_all, "rmse_all");
    close_to(m->mae_all, r->mae_all, "mae_all");
    close_to(m->r2_all, r->r2_all, "r2_all");
}

Test(metrics, compute_matches_the_definitions_on_odd_shapes)
{
    const size_t shapes[][2] = {{1, 1}, {2, 1}, {7, 3}, {300, 5}, {1001, 2}};
    nb_rng rng;
    nb_rng_seed(&rng, 17);
    for (size_t s = 0; s < 5; s++) {
        size_t rows = shapes[s][0], cols = shapes[s][1];
        float *y = tc_falloc(rows * cols), *t = tc_falloc(rows * cols);
        tc_fill_normal(&rng, t, rows * cols, 1000.0, 50.0); /* far from 0: means matter */
        for (size_t i = 0; i < rows * cols; i++)
            y[i] = t[i] + (float)(10.0 * nb_rng_uniform(&rng) - 3.0);
        nb_tensor Y = nb_tensor_view(y, rows, cols), T = nb_tensor_view(t, rows, cols);
        nb_regression_metrics m;
        cr_assert_eq(nb_regression_metrics_compute(&Y, &T, &m), NB_OK);
        ref r = naive(y, t, rows, cols);
        assert_matches(&m, &r, rows, cols);
        nb_regression_metrics_free(&m);
        cr_assert_null(m.rmse);
        free(y);
        free(t);
    }
}

Test(metrics, known_values_and_constant_columns)
{
    /* y = t + 1 on column 0: RMSE = MAE = 1; t = 1,2,3,4: SST = 5, R² = 1 - 4/5 = 0.2.
       Column 1 is constant: predicted exactly -> R² 1. */
    float y[] = {2, 7, 3, 7, 4, 7, 5, 7}, t[] = {1, 7, 2, 7, 3, 7, 4, 7};
    nb_tensor Y = nb_tensor_view(y, 4, 2), T = nb_tensor_view(t, 4, 2);
    nb_regression_metrics m;
    cr_assert_eq(nb_regression_metrics_compute(&Y, &T, &m), NB_OK);
    cr_assert(m.rmse[0] == 1 && m.mae[0] == 1 && fabs(m.r2[0] - 0.2) < 1e-15);
    cr_assert(m.rmse[1] == 0 && m.mae[1] == 0 && m.r2[1] == 1);
    cr_assert(fabs(m.rmse_all - sqrt(0.5)) < 1e-15 && m.mae_all == 0.5);
    cr_assert(fabs(m.r2_all - 0.6) < 1e-15);
    nb_regression_metrics_free(&m);
    y[1] = 8; /* the constant column now missed once: R² 0 */
    cr_assert_eq(nb_regression_metrics_compute(&Y, &T, &m), NB_OK);
    cr_assert_eq(m.r2[1], 0);
    nb_regression_metrics_free(&m);
    nb_regression_metrics_free(&m); /* safe twice */
    nb_regression_metrics_free(NULL);
}

Test(metrics, network_evaluation_in_the_targets_units)
{
    /* 2500 rows: more than one chunk of predictions. */
    size_t rows = 2500, in = 3, out = 2;
    nb_layer_spec L[] = {{6, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, in, L, 2, 5), NB_OK);
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    float *x = tc_falloc(rows * in), *t = tc_falloc(rows * out);
    tc_fill_normal(&rng, x, rows * in, 10.0, 3.0);
    tc_fill_normal(&rng, t, rows * out, 500.0, 40.0);
    float *x_copy = tc_fdup(x, rows * in);
    nb_tensor X = nb_tensor_view(x, rows, in), T = nb_tensor_view(t, rows, out);
    float im[3] = {10, 10, 10}, is[3] = {3, 3, 3}, tm[2] = {500, 480}, ts[2] = {40, 25};
    nb_norm *norm, *tnorm;
    cr_assert_eq(nb_norm_create(&norm, 3, im, is), NB_OK);
    cr_assert_eq(nb_norm_create(&tnorm, 2, tm, ts), NB_OK);
    /* the reference: standardise X, predict, map back, naive metrics */
    float *xs = tc_fdup(x, rows * in), *y = tc_falloc(rows * out);
    nb_tensor Xs = nb_tensor_view(xs, rows, in), Y = nb_tensor_view(y, rows, out);
    cr_assert_eq(nb_norm_apply(norm, &Xs), NB_OK);
    cr_assert_eq(nb_net_predict(net, &Xs, &Y), NB_OK);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < out; j++)
            y[i * out + j] = y[i * out + j] * ts[j] + tm[j];
    ref r = naive(y, t, rows, out);
    nb_regression_metrics m;
    cr_assert_eq(nb_net_evaluate_regression(net, norm, tnorm, &X, &T, &m), NB_OK);
    for (size_t j = 0; j < out; j++) { /* float predictions: agree to float rounding */
        cr_assert(fabs(m.rmse[j] - r.rmse[j]) <= 1e-5 * r.rmse[j]);
        cr_assert(fabs(m.mae[j] - r.mae[j]) <= 1e-5 * r.mae[j]);
        cr_assert(fabs(m.r2[j] - r.r2[j]) <= 1e-5 * fabs(r.r2[j]) + 1e-9);
    }
    cr_assert(fabs(m.rmse_all - r.rmse_all) <= 1e-5 * r.rmse_all);
    cr_assert_eq(memcmp(x, x_copy, rows * in * sizeof(float)), 0, "X modified");
    nb_regression_metrics_free(&m);
    /* without standardisations: the plain outputs */
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    r = naive(y, t, rows, out);
    cr_assert_eq(nb_net_evaluate_regression(net, NULL, NULL, &X, &T, &m), NB_OK);
    cr_assert(fabs(m.rmse_all - r.rmse_all) <= 1e-6 * r.rmse_all);
    nb_regression_metrics_free(&m);
    nb_norm_free(norm);
    nb_norm_free(tnorm);
    nb_net_free(net);
    free(x);
    free(x_copy);
    free(xs);
    free(y);
    free(t);
}

Test(metrics, argument_errors_leave_the_output_alone)
{
    float y[6] = {1, 2, 3, 4, 5, 6}, t[6] = {1, 2, 3, 4, 5, 6}, x[9] = {0};
    nb_tensor Y = nb_tensor_view(y, 3, 2), T = nb_tensor_view(t, 3, 2), X = nb_tensor_view(x, 3, 3);
    nb_tensor T3 = nb_tensor_view(t, 2, 3);
    nb_regression_metrics m;
    memset(&m, 0x5a, sizeof m);
    nb_regression_metrics before = m;
    cr_assert_eq(nb_regression_metrics_compute(&Y, &T, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_regression_metrics_compute(NULL, &T, &m), NB_ERR_NULL);
    cr_assert_eq(nb_regression_metrics_compute(&Y, NULL, &m), NB_ERR_NULL);
    cr_assert_eq(nb_regression_metrics_compute(&Y, &T3, &m), NB_ERR_SHAPE);
    t[3] = NAN;
    cr_assert_eq(nb_regression_metrics_compute(&Y, &T, &m), NB_ERR_ARG);
    t[3] = 4;
    y[5] = INFINITY;
    cr_assert_eq(nb_regression_metrics_compute(&Y, &T, &m), NB_ERR_NONFINITE);
    y[5] = 6;
    nb_layer_spec L[] = {{2, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 3, L, 1, 1), NB_OK);
    float one[3] = {0, 0, 0}, sd[3] = {1, 1, 1};
    nb_norm *n3;
    cr_assert_eq(nb_norm_create(&n3, 3, one, sd), NB_OK);
    cr_assert_eq(nb_net_evaluate_regression(NULL, NULL, NULL, &X, &T, &m), NB_ERR_NULL);
    cr_assert_eq(nb_net_evaluate_regression(net, NULL, NULL, &X, &T, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_net_evaluate_regression(net, NULL, NULL, &X, &T3, &m), NB_ERR_SHAPE);
    cr_assert_eq(nb_net_evaluate_regression(net, NULL, NULL, &Y, &T, &m), NB_ERR_SHAPE);
    cr_assert_eq(nb_net_evaluate_regression(net, NULL, n3, &X, &T, &m), NB_ERR_SHAPE);
    cr_assert_eq(memcmp(&m, &before, sizeof m), 0);
    cr_assert_eq(nb_net_evaluate_regression(net, n3, NULL, &X, &T, &m), NB_OK);
    nb_regression_metrics_free(&m);
    nb_norm_free(n3);
    nb_net_free(net);
}

Test(metrics, unapply_inverts_apply)
{
    float mean[2] = {3, -1}, sd[2] = {2, 0.5f}, v[4] = {1, 2, 3, 4};
    nb_norm *n;
    cr_assert_eq(nb_norm_create(&n, 2, mean, sd), NB_OK);
    nb_tensor V = nb_tensor_view(v, 2, 2);
    cr_assert_eq(nb_norm_apply(n, &V), NB_OK);
    cr_assert_eq(nb_norm_unapply(n, &V), NB_OK);
    const float want[4] = {1, 2, 3, 4};
    for (size_t i = 0; i < 4; i++)
        cr_assert_float_eq(v[i], want[i], 1e-6f);
    nb_tensor W = nb_tensor_view(v, 1, 4);
    cr_assert_eq(nb_norm_unapply(n, &W), NB_ERR_SHAPE);
    cr_assert_eq(nb_norm_unapply(NULL, &V), NB_ERR_NULL);
    cr_assert_eq(nb_norm_unapply(n, NULL), NB_ERR_NULL);
    nb_norm_free(n);
}

/* ---- classification report ------------------------------------------------------------ */

/* A 4-class matrix with a class never predicted and never present (class 2: every ratio 0/0,
   which scikit-learn's zero_division=0 makes 0) and classes of uneven support.  The expected
   values are the exact fractions of the definitions (classification_report(y_true, y_pred,
   labels=[0, 1, 2, 3], zero_division=0) prints the same numbers rounded). */
static const size_t C4[16] = {5, 2, 0, 1,  1, 7, 0, 2,  0, 0, 0, 0,  3, 0, 0, 4};

Test(metrics, class_report_matches_scikit_learns_definitions)
{
    nb_class_metrics m;
    cr_assert_eq(nb_class_metrics_compute(C4, 4, &m), NB_OK);
    const double p[4] = {5.0 / 9, 7.0 / 9, 0, 4.0 / 7}, r[4] = {5.0 / 8, 7.0 / 10, 0, 4.0 / 7},
                 f[4] = {10.0 / 17, 14.0 / 19, 0, 4.0 / 7};
    const size_t s[4] = {8, 10, 0, 7};
    cr_assert_eq(m.classes, 4);
    cr_assert_eq(m.total, 25);
    for (int c = 0; c < 4; c++) {
        cr_assert_float_eq(m.precision[c], p[c], 1e-15, "class %d", c);
        cr_assert_float_eq(m.recall[c], r[c], 1e-15, "class %d", c);
        cr_assert_float_eq(m.f1[c], f[c], 1e-15, "class %d", c);
        cr_assert_eq(m.support[c], s[c]);
    }
    cr_assert_float_eq(m.accuracy, 16.0 / 25, 1e-15);
    cr_assert_float_eq(m.macro_precision, 10.0 / 21, 1e-15);
    cr_assert_float_eq(m.macro_recall, 531.0 / 1120, 1e-15);
    cr_assert_float_eq(m.macro_f1, 1072.0 / 2261, 1e-15);
    cr_assert_float_eq(m.weighted_precision, 146.0 / 225, 1e-15);
    cr_assert_float_eq(m.weighted_recall, 16.0 / 25, 1e-15); /* = accuracy, as always */
    cr_assert_float_eq(m.weighted_f1, 5192.0 / 8075, 1e-15);
    nb_class_metrics_free(&m);
    cr_assert_null(m.precision);
    nb_class_metrics_free(&m); /* twice, and on NULL: no-ops */
    nb_class_metrics_free(NULL);
}

Test(metrics, confusion_from_outputs_one_hot_and_one_column)
{
    /* 3 classes: logits (argmax) against one-hot rows */
    float y[12] = {2, 1, 0,  0, 3, 1,  0, 0, 1,  5, 4, 6};
    float t[12] = {1, 0, 0,  0, 1, 0,  0, 1, 0,  1, 0, 0};
    nb_tensor Y = {4, 3, y, NULL}, T = {4, 3, t, NULL};
    size_t c[9];
    memset(c, 0xff, sizeof c);
    cr_assert_eq(nb_confusion_classes(3), 3);
    cr_assert_eq(nb_confusion_compute(&Y, &T, c), NB_OK);
    const size_t want[9] = {1, 0, 1,  0, 1, 1,  0, 0, 0};
    for (int i = 0; i < 9; i++)
        cr_assert_eq(c[i], want[i], "cell %d", i);
    /* one output: a 0.5 threshold, two classes */
    float y1[4] = {0.9f, 0.2f, 0.5f, 0.1f}, t1[4] = {1, 1, 0, 0};
    nb_tensor Y1 = {4, 1, y1, NULL}, T1 = {4, 1, t1, NULL};
    size_t c2[4];
    cr_assert_eq(nb_confusion_classes(1), 2);
    cr_assert_eq(nb_confusion_compute(&Y1, &T1, c2), NB_OK);
    cr_assert_eq(c2[0], 1); /* true 0, predicted 0 */
    cr_assert_eq(c2[1], 1); /* true 0, predicted 1 (0.5 is class 1) */
    cr_assert_eq(c2[2], 1); /* true 1, predicted 0 */
    cr_assert_eq(c2[3], 1);
}

Test(metrics, class_report_argument_errors_leave_the_output_alone)
{
    nb_class_metrics m;
    memset(&m, 0x5a, sizeof m);
    unsigned char before[sizeof m];
    memcpy(before, &m, sizeof m);
    const size_t zeros[4] = {0, 0, 0, 0}, huge[4] = {SIZE_MAX, 1, 0, 0};
    cr_assert_eq(nb_class_metrics_compute(NULL, 4, &m), NB_ERR_NULL);
    cr_assert_eq(nb_class_metrics_compute(C4, 4, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_class_metrics_compute(C4, 1, &m), NB_ERR_ARG);
    cr_assert_eq(nb_class_metrics_compute(zeros, 2, &m), NB_ERR_ARG);
    cr_assert_eq(nb_class_metrics_compute(huge, 2, &m), NB_ERR_OVERFLOW);
    cr_assert_eq(memcmp(&m, before, sizeof m), 0);
    float y[6] = {0}, t[6] = {0};
    nb_tensor Y = {2, 3, y, NULL}, T = {3, 2, t, NULL}, E = {0, 3, y, NULL};
    size_t c[9] = {7, 7, 7, 7, 7, 7, 7, 7, 7};
    cr_assert_eq(nb_confusion_compute(NULL, &T, c), NB_ERR_NULL);
    cr_assert_eq(nb_confusion_compute(&Y, &T, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_confusion_compute(&Y, &T, c), NB_ERR_SHAPE);
    cr_assert_eq(nb_confusion_compute(&E, &E, c), NB_ERR_SHAPE);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(c[i], 7);
}
