/* Per-feature standardisation: fitted in double, applied in float. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "nablas/data.h"

struct nb_norm {
    size_t n;
    float *mean, *std;
};

void nb_norm_free(nb_norm *n)
{
    if (!n)
        return;
    free(n->mean);
    free(n->std);
    free(n);
}

static nb_norm *norm_alloc(size_t features)
{
    nb_norm *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->n = features;
    n->mean = calloc(features, sizeof(float));
    n->std = calloc(features, sizeof(float));
    if (!n->mean || !n->std) {
        nb_norm_free(n);
        return NULL;
    }
    return n;
}

nb_status nb_norm_create(nb_norm **out, size_t features, const float *mean, const float *std)
{
    if (!mean || !std || !out)
        return NB_ERR_NULL;
    if (features == 0)
        return NB_ERR_SHAPE;
    if (features > SIZE_MAX / sizeof(float))
        return NB_ERR_OVERFLOW;
    for (size_t j = 0; j < features; j++)
        if (!isfinite(mean[j]) || !isfinite(std[j]) || !(std[j] > 0.0f))
            return NB_ERR_ARG;
    nb_norm *n = norm_alloc(features);
    if (!n)
        return NB_ERR_NOMEM;
    memcpy(n->mean, mean, features * sizeof(float));
    memcpy(n->std, std, features * sizeof(float));
    *out = n;
    return NB_OK;
}

nb_status nb_norm_fit(nb_norm **out, const nb_tensor *X)
{
    if (!out)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    size_t rows = X->rows, cols = X->cols;
    double *acc = calloc(2 * cols, sizeof(double)); /* sums, then sums of squared deviations */
    nb_norm *n = norm_alloc(cols);
    if (!acc || !n) {
        free(acc);
        nb_norm_free(n);
        return NB_ERR_NOMEM;
    }
    nb_status st = NB_OK;
    for (size_t i = 0; i < rows && st == NB_OK; i++)
        for (size_t j = 0; j < cols; j++) {
            float v = X->data[i * cols + j];
            if (!isfinite(v)) {
                st = NB_ERR_ARG;
                break;
            }
            acc[j] += v;
        }
    if (st == NB_OK) {
        /* Two passes: the deviations from the mean do not cancel catastrophically. */
        for (size_t j = 0; j < cols; j++)
            acc[j] /= (double)rows;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++) {
                double d = X->data[i * cols + j] - acc[j];
                acc[cols + j] += d * d;
            }
        for (size_t j = 0; j < cols; j++) {
            double sd = sqrt(acc[cols + j] / (double)rows);
            n->mean[j] = (float)acc[j];
            n->std[j] = (sd > 1e-12 && isfinite((float)sd)) ? (float)sd : 1.0f;
        }
    }
    free(acc);
    if (st != NB_OK) {
        nb_norm_free(n);
        return st;
    }
    *out = n;
    return NB_OK;
}

size_t nb_norm_features(const nb_norm *n) { return n ? n->n : 0; }
const float *nb_norm_mean(const nb_norm *n) { return n ? n->mean : NULL; }
const float *nb_norm_std(const nb_norm *n) { return n ? n->std : NULL; }

nb_status nb_norm_apply_to(const nb_norm *n, const nb_tensor *X, nb_tensor *Y)
{
    if (!n)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    NB_TRY(nb__check_shape(Y, X->rows, X->cols));
    if (X->cols != n->n)
        return NB_ERR_SHAPE;
    if (X->data != Y->data && nb__overlap(X, Y))
        return NB_ERR_ALIAS;
    size_t cols = n->n;
    for (size_t i = 0; i < X->rows; i++)
        for (size_t j = 0; j < cols; j++)
            Y->data[i * cols + j] = (X->data[i * cols + j] - n->mean[j]) / n->std[j];
    return NB_OK;
}

nb_status nb_norm_apply(const nb_norm *n, nb_tensor *X)
{
    return nb_norm_apply_to(n, X, X);
}

nb_status nb_norm_unapply(const nb_norm *n, nb_tensor *Y)
{
    if (!n)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(Y));
    if (Y->cols != n->n)
        return NB_ERR_SHAPE;
    size_t cols = n->n;
    for (size_t i = 0; i < Y->rows; i++)
        for (size_t j = 0; j < cols; j++)
            Y->data[i * cols + j] = Y->data[i * cols + j] * n->std[j] + n->mean[j];
    return NB_OK;
}
