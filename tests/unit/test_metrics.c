/* Regression metrics against a naive double computation (one pass per sum, straight from the
   definitions), the network evaluation in the targets' units, and every argument error. */
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
