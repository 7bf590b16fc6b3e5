/* Regression metrics (RMSE, MAE, R²) in double, per column and overall; definitions in
   include/nablas/metrics.h.  Two passes: the targets' means first, so that the total sum of
   squares is a sum of squared deviations (no cancellation). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "nablas/infer.h"
#include "nablas/kernels.h"
#include "nablas/metrics.h"

enum { CHUNK = 1024 }; /* rows predicted at a time */

typedef struct acc {
    size_t cols, rows;
    double *mean, *sse, *sae, *sst; /* one block of 4 * cols */
} acc;

static nb_status acc_init(acc *a, const nb_tensor *T)
{
    a->cols = T->cols;
    a->rows = T->rows;
    if (a->cols > SIZE_MAX / (4 * sizeof(double)))
        return NB_ERR_OVERFLOW;
    a->mean = calloc(4 * a->cols, sizeof(double));
    if (!a->mean)
        return NB_ERR_NOMEM;
    a->sse = a->mean + a->cols;
    a->sae = a->sse + a->cols;
    a->sst = a->sae + a->cols;
    for (size_t i = 0; i < T->rows; i++)
        for (size_t j = 0; j < T->cols; j++) {
            float t = T->data[i * T->cols + j];
            if (!isfinite(t)) {
                free(a->mean);
                return NB_ERR_ARG;
            }
            a->mean[j] += t;
        }
    for (size_t j = 0; j < a->cols; j++)
        a->mean[j] /= (double)a->rows;
    return NB_OK;
}

/* Rows [first, first + Y->rows) of T against Y. */
static nb_status acc_add(acc *a, const nb_tensor *Y, const nb_tensor *T, size_t first)
{
    size_t c = a->cols;
    for (size_t i = 0; i < Y->rows; i++)
        for (size_t j = 0; j < c; j++) {
            double y = Y->data[i * c + j], t = T->data[(first + i) * c + j];
            if (!isfinite(y))
                return NB_ERR_NONFINITE;
            double e = y - t, d = t - a->mean[j];
            a->sse[j] += e * e;
            a->sae[j] += fabs(e);
            a->sst[j] += d * d;
        }
    return NB_OK;
}

static nb_status acc_finish(acc *a, nb_regression_metrics *out)
{
    size_t c = a->cols;
    double *v = malloc(3 * c * sizeof(double));
    if (!v)
        return NB_ERR_NOMEM;
    nb_regression_metrics m = {a->rows, c, v, v + c, v + 2 * c, 0, 0, 0};
    double sse = 0, sae = 0, r2 = 0, n = (double)a->rows;
    for (size_t j = 0; j < c; j++) {
        m.rmse[j] = sqrt(a->sse[j] / n);
        m.mae[j] = a->sae[j] / n;
        if (a->sst[j] > 0)
            m.r2[j] = 1.0 - a->sse[j] / a->sst[j];
        else
            m.r2[j] = a->sse[j] == 0 ? 1.0 : 0.0; /* a constant column (scikit-learn's choice) */
        sse += a->sse[j];
        sae += a->sae[j];
        r2 += m.r2[j];
    }
    m.rmse_all = sqrt(sse / (n * (double)c));
    m.mae_all = sae / (n * (double)c);
    m.r2_all = r2 / (double)c;
    *out = m;
    return NB_OK;
}

void nb_regression_metrics_free(nb_regression_metrics *m)
{
    if (!m)
        return;
    free(m->rmse); /* the block that holds all three arrays */
    memset(m, 0, sizeof *m);
}

nb_status nb_regression_metrics_compute(const nb_tensor *Y, const nb_tensor *T,
                                        nb_regression_metrics *out)
{
    if (!out)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(T));
    NB_TRY(nb__check_shape(Y, T->rows, T->cols));
    acc a;
    NB_TRY(acc_init(&a, T));
    nb_status st = acc_add(&a, Y, T, 0);
    if (st == NB_OK)
        st = acc_finish(&a, out);
    free(a.mean);
    return st;
}

nb_status nb_net_evaluate_regression(const nb_net *net, const nb_norm *norm,
                                     const nb_norm *target_norm, const nb_tensor *X,
                                     const nb_tensor *T, nb_regression_metrics *out)
{
    if (!out || !net)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    NB_TRY(nb__check_shape(T, X->rows, nb_net_outputs(net)));
    if (X->cols != nb_net_inputs(net))
        return NB_ERR_SHAPE;
    if (target_norm && nb_norm_features(target_norm) != T->cols)
        return NB_ERR_SHAPE;
    size_t chunk = X->rows < CHUNK ? X->rows : CHUNK;
    nb_infer_ctx *ctx;
    NB_TRY(nb_infer_ctx_create(&ctx, net, norm, chunk));
    acc a;
    nb_status st = acc_init(&a, T);
    if (st != NB_OK) {
        nb_infer_ctx_free(ctx);
        return st;
    }
    nb_tensor Y = {0};
    if (st == NB_OK)
        st = nb_tensor_alloc(&Y, chunk, T->cols);
    for (size_t first = 0; st == NB_OK && first < X->rows; first += chunk) {
        size_t n = X->rows - first < chunk ? X->rows - first : chunk;
        nb_tensor Xc = nb_tensor_view((float *)X->data + first * X->cols, n, X->cols);
        nb_tensor Yc = nb_tensor_view(Y.data, n, T->cols);
        st = nb_infer_predict(ctx, &Xc, &Yc);
        if (st == NB_OK && target_norm)
            st = nb_norm_unapply(target_norm, &Yc);
        if (st == NB_OK)
            st = acc_add(&a, &Yc, T, first);
    }
    if (st == NB_OK)
        st = acc_finish(&a, out);
    nb_tensor_free(&Y);
    free(a.mean);
    nb_infer_ctx_free(ctx);
    return st;
}

/* ---- classification: the confusion matrix and the per-class report ---------------------- */

size_t nb_confusion_classes(size_t cols) { return cols == 1 ? 2 : cols; }

nb_status nb_confusion_compute(const nb_tensor *Y, const nb_tensor *T, size_t *counts)
{
    if (!Y || !T || !counts || !Y->data || !T->data)
        return NB_ERR_NULL;
    if (Y->rows != T->rows || Y->cols != T->cols || Y->rows == 0 || Y->cols == 0)
        return NB_ERR_SHAPE;
    size_t cols = Y->cols, k = nb_confusion_classes(cols);
    if (k > SIZE_MAX / k / sizeof *counts)
        return NB_ERR_OVERFLOW;
    memset(counts, 0, k * k * sizeof *counts);
    for (size_t i = 0; i < Y->rows; i++) {
        const float *y = Y->data + i * cols, *t = T->data + i * cols;
        counts[nb_class_of(t, cols) * k + nb_class_of(y, cols)]++;
    }
    return NB_OK;
}

void nb_class_metrics_free(nb_class_metrics *m)
{
    if (!m)
        return;
    free(m->precision);
    free(m->support);
    memset(m, 0, sizeof *m);
}

static double ratio(size_t num, size_t den) { return den ? (double)num / (double)den : 0.0; }

/* The row sums (support) and column sums (predicted) of the matrix; false on overflow. */
static bool margins(const size_t *c, size_t k, size_t *support, size_t *predicted, size_t *total)
{
    *total = 0;
    memset(predicted, 0, k * sizeof *predicted);
    for (size_t t = 0; t < k; t++) {
        support[t] = 0;
        for (size_t p = 0; p < k; p++) {
            size_t v = c[t * k + p];
            if (v > SIZE_MAX - support[t] || v > SIZE_MAX - predicted[p])
                return false;
            support[t] += v;
            predicted[p] += v;
        }
        if (support[t] > SIZE_MAX - *total)
            return false;
        *total += support[t];
    }
    return true;
}

nb_status nb_class_metrics_compute(const size_t *counts, size_t k, nb_class_metrics *out)
{
    if (!counts || !out)
        return NB_ERR_NULL;
    if (k < 2)
        return NB_ERR_ARG;
    if (k > SIZE_MAX / (3 * sizeof(double)) || k > SIZE_MAX / (2 * sizeof(size_t)))
        return NB_ERR_OVERFLOW;
    nb_class_metrics m = {.classes = k};
    m.precision = malloc(3 * k * sizeof(double));
    m.support = malloc(2 * k * sizeof(size_t));
    if (!m.precision || !m.support) {
        nb_class_metrics_free(&m);
        return NB_ERR_NOMEM;
    }
    m.recall = m.precision + k;
    m.f1 = m.recall + k;
    size_t *predicted = m.support + k; /* scratch; freed with support */
    if (!margins(counts, k, m.support, predicted, &m.total)) {
        nb_class_metrics_free(&m);
        return NB_ERR_OVERFLOW;
    }
    if (m.total == 0) {
        nb_class_metrics_free(&m);
        return NB_ERR_ARG;
    }
    size_t correct = 0;
    for (size_t c = 0; c < k; c++) {
        size_t tp = counts[c * k + c];
        correct += tp; /* <= total: cannot overflow */
        double p = ratio(tp, predicted[c]), r = ratio(tp, m.support[c]);
        double f = p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
        double w = (double)m.support[c] / (double)m.total;
        m.precision[c] = p;
        m.recall[c] = r;
        m.f1[c] = f;
        m.macro_precision += p / (double)k;
        m.macro_recall += r / (double)k;
        m.macro_f1 += f / (double)k;
        m.weighted_precision += w * p;
        m.weighted_recall += w * r;
        m.weighted_f1 += w * f;
    }
    m.accuracy = (double)correct / (double)m.total;
    *out = m;
    return NB_OK;
}
