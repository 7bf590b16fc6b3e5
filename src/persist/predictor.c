/* Prediction on a loaded model in the user's units (include/nablas/predict.h): the inference
   context runs the network with the input standardisation; then softmax for softmax
   cross-entropy classifiers, or the target standardisation undone for regression. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/base.h"
#include "nablas/infer.h"
#include "nablas/kernels.h"
#include "nablas/predict.h"

struct nb_predictor {
    const nb_model *m;
    nb_infer_ctx *ctx;
    size_t max_batch, inputs, outputs;
    float *rows; /* max_batch x outputs: one chunk's outputs for nb_predictor_classes */
    float *in;   /* max_batch x inputs: one chunk's narrowed inputs for the _f64 calls */
};

void nb_predictor_free(nb_predictor *p)
{
    if (!p)
        return;
    nb_infer_ctx_free(p->ctx);
    free(p->rows);
    free(p->in);
    free(p);
}

nb_status nb_predictor_create(nb_predictor **out, const nb_model *m, size_t max_batch)
{
    if (!out || !m || !m->net)
        return NB_ERR_NULL;
    if (max_batch == 0)
        return NB_ERR_SHAPE;
    size_t outputs = nb_net_outputs(m->net);
    if (m->target_norm && nb_norm_features(m->target_norm) != outputs)
        return NB_ERR_SHAPE;
    size_t inputs = nb_net_inputs(m->net);
    if (max_batch > SIZE_MAX / sizeof(float) / outputs ||
        max_batch > SIZE_MAX / sizeof(float) / inputs)
        return NB_ERR_OVERFLOW;
    nb_predictor *p = calloc(1, sizeof *p);
    if (!p)
        return NB_ERR_NOMEM;
    *p = (nb_predictor){m, NULL, max_batch, inputs, outputs,
                        nb__alloc_floats(max_batch * outputs),
                        nb__alloc_floats(max_batch * inputs)};
    nb_status st = p->rows && p->in ? nb_infer_ctx_create(&p->ctx, m->net, m->norm, max_batch)
                                    : NB_ERR_NOMEM;
    if (st != NB_OK) {
        nb_predictor_free(p);
        return st;
    }
    *out = p;
    return NB_OK;
}

/* The network's outputs of Y's rows in the user's units, in place. */
static nb_status to_user_units(const nb_model *m, nb_tensor *Y)
{
    if (m->loss == NB_LOSS_SOFTMAX_CE && Y->cols > 1)
        return nb_act_forward(NB_ACT_SOFTMAX, Y); /* max-subtracted, sums in double */
    if (m->target_norm)
        return nb_norm_unapply(m->target_norm, Y);
    return NB_OK;
}

nb_status nb_predictor_run(nb_predictor *p, const nb_tensor *X, nb_tensor *Y)
{
    if (!p)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    NB_TRY(nb__check_shape(Y, X->rows, p->outputs));
    NB_TRY(nb_infer_predict(p->ctx, X, Y)); /* checks the input width and the overlap */
    return to_user_units(p->m, Y);
}

nb_status nb_predictor_classes(nb_predictor *p, const nb_tensor *X, size_t *classes)
{
    if (!p || !classes)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != nb_net_inputs(p->m->net))
        return NB_ERR_SHAPE;
    if (p->m->loss == NB_LOSS_MSE && p->m->n_classes == 0)
        return NB_ERR_STATE;
    /* the class of a row does not depend on the softmax or a target standardisation */
    for (size_t start = 0; start < X->rows; start += p->max_batch) {
        size_t n = X->rows - start < p->max_batch ? X->rows - start : p->max_batch;
        nb_tensor Xc = nb_tensor_view(X->data + start * X->cols, n, X->cols);
        nb_tensor Yc = nb_tensor_view(p->rows, n, p->outputs);
        NB_TRY(nb_infer_predict(p->ctx, &Xc, &Yc));
        for (size_t i = 0; i < n; i++)
            classes[start + i] = nb_class_of(p->rows + i * p->outputs, p->outputs);
    }
    return NB_OK;
}

nb_status nb_model_predict(const nb_model *m, const nb_tensor *X, nb_tensor *Y)
{
    if (!m)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    nb_predictor *p;
    NB_TRY(nb_predictor_create(&p, m, X->rows < 256 ? X->rows : 256));
    nb_status st = nb_predictor_run(p, X, Y);
    nb_predictor_free(p);
    return st;
}

size_t nb_predictor_inputs(const nb_predictor *p) { return p ? p->inputs : 0; }
size_t nb_predictor_outputs(const nb_predictor *p) { return p ? p->outputs : 0; }

/* A double rounded to float as an IEEE cast rounds it, without the cast of an out-of-range
   value (undefined in C without Annex F): from FLT_MAX + half an ulp on it is infinity (the
   tie rounds to the even 2^128). */
static float narrow(double d)
{
    if (fabs(d) >= 0x1.ffffffp127)
        return d > 0 ? INFINITY : -INFINITY;
    return (float)d;
}

static void narrow_rows(float *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = narrow(src[i]);
}

/* The double arguments' checks: the sizes in bytes of x and y, their overlap. */
static nb_status check_f64(const nb_predictor *p, const double *x, size_t rows, const void *y,
                           size_t y_bytes_per_row)
{
    if (!p || (rows && (!x || !y)))
        return NB_ERR_NULL;
    if (rows > SIZE_MAX / sizeof(double) / p->inputs ||
        rows > SIZE_MAX / y_bytes_per_row)
        return NB_ERR_OVERFLOW;
    uintptr_t x0 = (uintptr_t)x, x1 = x0 + rows * p->inputs * sizeof(double);
    uintptr_t y0 = (uintptr_t)y, y1 = y0 + rows * y_bytes_per_row;
    if (rows && x0 < y1 && y0 < x1)
        return NB_ERR_ALIAS;
    return NB_OK;
}

nb_status nb_predictor_run_f64(nb_predictor *p, const double *x, size_t rows, double *y)
{
    if (!p)
        return NB_ERR_NULL;
    NB_TRY(check_f64(p, x, rows, y, p->outputs * sizeof(double)));
    for (size_t start = 0; start < rows; start += p->max_batch) {
        size_t n = rows - start < p->max_batch ? rows - start : p->max_batch;
        narrow_rows(p->in, x + start * p->inputs, n * p->inputs);
        nb_tensor Xc = nb_tensor_view(p->in, n, p->inputs);
        nb_tensor Yc = nb_tensor_view(p->rows, n, p->outputs);
        NB_TRY(nb_predictor_run(p, &Xc, &Yc));
        double *yc = y + start * p->outputs;
        for (size_t i = 0; i < n * p->outputs; i++)
            yc[i] = p->rows[i];
    }
    return NB_OK;
}

nb_status nb_predictor_classes_f64(nb_predictor *p, const double *x, size_t rows,
                                   size_t *classes)
{
    if (!p)
        return NB_ERR_NULL;
    NB_TRY(check_f64(p, x, rows, classes, sizeof(size_t)));
    if (p->m->loss == NB_LOSS_MSE && p->m->n_classes == 0)
        return NB_ERR_STATE;
    for (size_t start = 0; start < rows; start += p->max_batch) {
        size_t n = rows - start < p->max_batch ? rows - start : p->max_batch;
        narrow_rows(p->in, x + start * p->inputs, n * p->inputs);
        nb_tensor Xc = nb_tensor_view(p->in, n, p->inputs);
        NB_TRY(nb_predictor_classes(p, &Xc, classes + start));
    }
    return NB_OK;
}
