/* Dense layer kernels: Z = X W + b forward; X^T G, column sums of G and G W^T backward.
   The matrix products are OpenBLAS sgemm calls, or the small-size path (dense_small.c) for
   layers where a BLAS call costs more than its arithmetic, or the few-rows path (dense_small.c)
   for batches of a few rows. */
#include <cblas.h>
#include <string.h>

#include "core/threads.h"
#include "kernels/dense_small.h"
#include "kernels/kernels.h"

void nb__dense_fwd(const float *X, const float *W, const float *b, float *Z,
                   size_t batch, size_t in, size_t out)
{
    if (nb__dense_row(batch, in, out)) {
        nb__row_fwd(X, W, b, Z, batch, in, out, false);
        return;
    }
    if (nb__dense_small(batch, in, out)) {
        nb__small_fwd(X, W, b, Z, batch, in, out, false);
        return;
    }
    float beta = 0.0f;
    if (b) { /* broadcast the bias into Z, then let sgemm accumulate onto it (beta = 1) */
        for (size_t i = 0; i < batch; i++)
            memcpy(Z + i * out, b, out * sizeof(float));
        beta = 1.0f;
    }
    nb__blas_threads_for(batch, out, in);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, (int)out, (int)in,
                1.0f, X, (int)in, W, (int)out, beta, Z, (int)out);
}

enum { COLSUM_BLOCK = 512 }; /* columns summed per pass: a double accumulator on the stack */

/* Column sums of G accumulated in double, one row at a time (contiguous, vectorised), then
   out[j] = sum, or with update the bias SGD step out[j] -= lr * (float)sum. */
NB_CLONES
static void colsum(const float *restrict G, size_t rows, size_t cols, float *restrict out,
                   float lr, bool update)
{
    double acc[COLSUM_BLOCK];
    for (size_t c0 = 0; c0 < cols; c0 += COLSUM_BLOCK) {
        size_t n = cols - c0 < COLSUM_BLOCK ? cols - c0 : COLSUM_BLOCK;
        for (size_t j = 0; j < n; j++)
            acc[j] = 0.0;
        for (size_t i = 0; i < rows; i++) {
            const float *g = G + i * cols + c0;
            for (size_t j = 0; j < n; j++)
                acc[j] += g[j];
        }
        if (update)
            for (size_t j = 0; j < n; j++)
                out[c0 + j] -= lr * (float)acc[j];
        else
            for (size_t j = 0; j < n; j++)
                out[c0 + j] = (float)acc[j];
    }
}

void nb__colsum(const float *G, size_t rows, size_t cols, float *out)
{
    colsum(G, rows, cols, out, 0.0f, false);
}

void nb__dense_act_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                       size_t in, size_t out, nb_act act)
{
    if (act == NB_ACT_RELU && nb__dense_row(batch, in, out)) {
        nb__row_fwd(X, W, b, Z, batch, in, out, true); /* ReLU while the row is in registers */
        return;
    }
    if (act == NB_ACT_RELU && nb__dense_small(batch, in, out)) {
        nb__small_fwd(X, W, b, Z, batch, in, out, true);
        return;
    }
    nb__dense_fwd(X, W, b, Z, batch, in, out);
    nb__act_fwd(act, Z, batch, out);
}

void nb__dense_dx(const float *G, const float *W, float *dX, size_t batch, size_t in, size_t out)
{
    if (nb__dense_small(batch, in, out))
        nb__small_dx(G, W, dX, batch, in, out);
    else {
        nb__blas_threads_for(batch, in, out);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, (int)in, (int)out,
                    1.0f, G, (int)out, W, (int)out, 0.0f, dX, (int)in);
    }
}

void nb__dense_update(const float *X, const float *G, float *W, float *b, size_t batch,
                      size_t in, size_t out, float lr)
{
    if (nb__dense_small(batch, in, out)) {
        nb__small_xtg(X, G, W, batch, in, out, -lr, true);
        nb__small_colsum(G, batch, out, b, lr, true);
        return;
    }
    /* W + (-lr) X^T G: the gradient never exists as a matrix of its own */
    nb__blas_threads_for(in, out, batch);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)out, (int)batch, -lr, X,
                (int)in, G, (int)out, 1.0f, W, (int)out);
    colsum(G, batch, out, b, lr, true);
}

void nb__dense_bwd(const float *X, const float *W, const float *G, float *dW, float *db, float *dX,
                   size_t batch, size_t in, size_t out)
{
    if (nb__dense_small(batch, in, out)) {
        nb__small_xtg(X, G, dW, batch, in, out, 1.0f, false);
        if (db)
            nb__small_colsum(G, batch, out, db, 0.0f, false);
        if (dX)
            nb__small_dx(G, W, dX, batch, in, out);
        return;
    }
    nb__blas_threads_for(in, out, batch);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)out, (int)batch,
                1.0f, X, (int)in, G, (int)out, 0.0f, dW, (int)out);
    if (db)
        nb__colsum(G, batch, out, db);
    if (dX) {
        nb__blas_threads_for(batch, in, out);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, (int)in, (int)out,
                    1.0f, G, (int)out, W, (int)out, 0.0f, dX, (int)in);
    }
}

nb_status nb_dense_forward(const nb_tensor *X, const nb_tensor *W, const nb_tensor *b, nb_tensor *Z)
{
    NB_TRY(nb__check_tensor(X));
    NB_TRY(nb__check_tensor(W));
    NB_TRY(nb__check_tensor(Z));
    if (b)
        NB_TRY(nb__check_shape(b, 1, W->cols));
    if (X->cols != W->rows)
        return NB_ERR_SHAPE;
    NB_TRY(nb__check_shape(Z, X->rows, W->cols));
    if (nb__overlap(Z, X) || nb__overlap(Z, W) || nb__overlap(Z, b))
        return NB_ERR_ALIAS;
    NB_TRY(nb__check_blas_dims(X->rows, W->rows, W->cols));
    nb__dense_fwd(X->data, W->data, b ? b->data : NULL, Z->data, X->rows, W->rows, W->cols);
    return NB_OK;
}

nb_status nb_dense_backward(const nb_tensor *X, const nb_tensor *W, const nb_tensor *G,
                            nb_tensor *dW, nb_tensor *db, nb_tensor *dX)
{
    NB_TRY(nb__check_tensor(X));
    NB_TRY(nb__check_tensor(W));
    NB_TRY(nb__check_tensor(G));
    NB_TRY(nb__check_tensor(dW));
    size_t batch = X->rows, in = X->cols, out = W->cols;
    if (W->rows != in)
        return NB_ERR_SHAPE;
    NB_TRY(nb__check_shape(G, batch, out));
    NB_TRY(nb__check_shape(dW, in, out));
    if (db)
        NB_TRY(nb__check_shape(db, 1, out));
    if (dX)
        NB_TRY(nb__check_shape(dX, batch, in));
    const nb_tensor *inputs[] = {X, W, G};
    nb_tensor *outputs[] = {dW, db, dX};
    for (size_t o = 0; o < 3; o++) {
        for (size_t i = 0; i < 3; i++)
            if (nb__overlap(outputs[o], inputs[i]))
                return NB_ERR_ALIAS;
        for (size_t p = o + 1; p < 3; p++)
            if (nb__overlap(outputs[o], outputs[p]))
                return NB_ERR_ALIAS;
    }
    NB_TRY(nb__check_blas_dims(batch, in, out));

    nb__dense_bwd(X->data, W->data, G->data, dW->data, db ? db->data : NULL,
                  dX ? dX->data : NULL, batch, in, out);
    return NB_OK;
}
