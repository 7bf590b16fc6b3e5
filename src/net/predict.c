/* Prediction and evaluation: the network's forward pass over any number of rows, in chunks. */
#include <math.h>
#include <string.h>

#include "net/network.h"

enum { PREDICT_CHUNK = 256 }; /* rows per forward pass when no workspace is reserved */

/* Checks X (rows x inputs) and, if T is given, T (rows x outputs) and the loss. */
static nb_status check_data(const nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss)
{
    if (!net)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    if (T)
        NB_TRY(nb__check_tensor(T));
    if (X->cols != net->inputs)
        return NB_ERR_SHAPE;
    if (T)
        NB_TRY(nb__net_check_targets(net, loss, T, X->rows));
    return nb__check_blas_dims(X->rows, 0, 0);
}

static size_t chunk_rows(nb_net *net, size_t rows)
{
    size_t c = net->cap_batch ? net->cap_batch : PREDICT_CHUNK;
    return c < rows ? c : rows;
}

nb_status nb_net_predict(nb_net *net, const nb_tensor *X, nb_tensor *Y)
{
    NB_TRY(check_data(net, X, NULL, NB_LOSS_MSE));
    size_t out = nb_net_outputs(net);
    NB_TRY(nb__check_shape(Y, X->rows, out));
    if (nb__overlap(X, Y))
        return NB_ERR_ALIAS;
    size_t chunk = chunk_rows(net, X->rows);
    NB_TRY(nb__net_reserve(net, chunk));
    const float *A = NULL;
    for (size_t start = 0; start < X->rows; start += chunk) {
        size_t n = X->rows - start < chunk ? X->rows - start : chunk;
        nb__net_forward(net, X->data + start * net->inputs, n);
        A = nb__net_act(net, net->n_layers - 1);
        memcpy(Y->data + start * out, A, n * out * sizeof(float));
    }
    net->ready = false; /* the caller's X may change: a later backward must not use it */
    return NB_OK;
}

static size_t count_correct(const float *Y, const float *T, size_t rows, size_t cols)
{
    size_t ok = 0;
    for (size_t i = 0; i < rows; i++)
        ok += nb_class_of(Y + i * cols, cols) == nb_class_of(T + i * cols, cols);
    return ok;
}

nb_status nb_net_evaluate(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                          nb_eval *result)
{
    if (!result || !T) /* check_data takes a NULL T as "no targets" */
        return NB_ERR_NULL;
    NB_TRY(check_data(net, X, T, loss));
    size_t out = nb_net_outputs(net);
    size_t chunk = chunk_rows(net, X->rows);
    NB_TRY(nb__net_reserve(net, chunk));
    double sum = 0.0;
    size_t correct = 0;
    for (size_t start = 0; start < X->rows; start += chunk) {
        size_t n = X->rows - start < chunk ? X->rows - start : chunk;
        const float *t = T->data + start * out;
        nb__net_forward(net, X->data + start * net->inputs, n);
        const float *Y = nb__net_act(net, net->n_layers - 1);
        /* every loss is a mean over rows (MSE and BCE also over columns, which are fixed) */
        sum += nb__loss_fwd(loss, Y, t, n, out) * (double)n;
        correct += count_correct(Y, t, n, out);
    }
    net->ready = false;
    result->loss = sum / (double)X->rows;
    result->accuracy = (double)correct / (double)X->rows;
    result->rows = X->rows;
    return NB_OK;
}
