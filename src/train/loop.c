/* The training loop, evaluation and prediction on top of the network's forward/backward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/network.h"

enum { PREDICT_CHUNK = 256 }; /* rows per forward pass when no workspace is reserved */

nb_train_opts nb_train_opts_default(void)
{
    nb_train_opts o = {
        .loss = NB_LOSS_MSE, .batch_size = 32, .epochs = 10, .lr = 0.01f,
        .seed = 0, .shuffle = true, .on_epoch = NULL, .user = NULL,
    };
    return o;
}

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
    if (T) {
        NB_TRY(nb__net_check_loss(net, loss));
        NB_TRY(nb__check_shape(T, X->rows, nb_net_outputs(net)));
    }
    return nb__check_blas_dims(X->rows, 0, 0);
}

static void gather_rows(float *dst, const float *src, const size_t *idx, size_t n, size_t cols)
{
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * cols, src + idx[i] * cols, cols * sizeof(float));
}

/* Grows the network's shuffling buffers to `rows` indices and a batch of `bs` rows; they stay
   with the network, so a later call of the same size allocates nothing. */
static nb_status shuffle_space(nb_net *net, size_t rows, size_t bs)
{
    if (rows > net->perm_cap) {
        if (rows > SIZE_MAX / sizeof *net->perm)
            return NB_ERR_OVERFLOW;
        size_t *p = malloc(rows * sizeof *p);
        if (!p)
            return NB_ERR_NOMEM;
        free(net->perm);
        net->perm = p;
        net->perm_cap = rows;
    }
    if (bs > net->shuf_batch) {
        float *xb = nb__alloc_floats(bs * net->inputs);
        float *tb = nb__alloc_floats(bs * nb_net_outputs(net));
        if (!xb || !tb) {
            free(xb);
            free(tb);
            return NB_ERR_NOMEM;
        }
        free(net->xb);
        free(net->tb);
        net->xb = xb;
        net->tb = tb;
        net->shuf_batch = bs;
    }
    return NB_OK;
}

nb_status nb_net_train(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                       const nb_train_opts *opts, nb_train_report *report)
{
    if (!opts || !T) /* check_data takes a NULL T as "no targets" */
        return NB_ERR_NULL;
    NB_TRY(check_data(net, X, T, opts->loss));
    if (opts->batch_size == 0 || opts->epochs == 0 || !isfinite(opts->lr) || opts->lr < 0.0f)
        return NB_ERR_ARG;

    size_t rows = X->rows, in = net->inputs, out = nb_net_outputs(net);
    size_t bs = opts->batch_size < rows ? opts->batch_size : rows;
    NB_TRY(nb__net_prepare(net, bs));
    if (rows % bs)
        NB_TRY(nb__net_prepare(net, rows % bs)); /* the last, shorter batch of each epoch */

    /* Everything the loop needs is allocated here, before the first step. */
    size_t *perm = NULL;
    float *xb = NULL, *tb = NULL;
    if (opts->shuffle) {
        NB_TRY(shuffle_space(net, rows, bs));
        perm = net->perm;
        xb = net->xb;
        tb = net->tb;
        for (size_t i = 0; i < rows; i++)
            perm[i] = i;
    }

    nb_rng rng;
    nb_rng_seed(&rng, opts->seed);
    nb_train_report rep = {0, 0, NAN, false};
    for (size_t epoch = 1; epoch <= opts->epochs; epoch++) {
        if (perm) /* Fisher-Yates over the previous order: deterministic from the seed */
            for (size_t i = rows - 1; i > 0; i--) {
                size_t j = (size_t)nb_rng_below(&rng, i + 1), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
        double sum = 0.0;
        for (size_t start = 0; start < rows; start += bs) {
            size_t n = rows - start < bs ? rows - start : bs;
            const float *x = X->data + start * in, *t = T->data + start * out;
            if (perm) {
                gather_rows(xb, X->data, perm + start, n, in);
                gather_rows(tb, T->data, perm + start, n, out);
                x = xb;
                t = tb;
            }
            sum += nb__net_train_step(net, x, t, n, opts->loss, opts->lr) * (double)n;
            rep.steps++;
        }
        rep.epochs_run = epoch;
        rep.last_loss = sum / (double)rows;
        if (opts->on_epoch) {
            nb_epoch_info info = {epoch, opts->epochs, rep.last_loss, rep.steps};
            if (opts->on_epoch(&info, opts->user)) {
                rep.stopped_early = epoch < opts->epochs;
                break;
            }
        }
    }
    if (report)
        *report = rep;
    return NB_OK;
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

static size_t argmax(const float *v, size_t n)
{
    size_t k = 0;
    for (size_t j = 1; j < n; j++)
        if (v[j] > v[k])
            k = j;
    return k;
}

static size_t count_correct(const float *Y, const float *T, size_t rows, size_t cols)
{
    size_t ok = 0;
    for (size_t i = 0; i < rows; i++) {
        const float *y = Y + i * cols, *t = T + i * cols;
        if (cols == 1)
            ok += (y[0] >= 0.5f) == (t[0] >= 0.5f);
        else
            ok += argmax(y, cols) == argmax(t, cols);
    }
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
