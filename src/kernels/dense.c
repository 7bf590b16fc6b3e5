/* Dense layer kernels for float and double (kernels/dense_t.h): Z = X W + b forward; X^T G,
   column sums of G and G W^T backward; the public nb_dense_forward / nb_dense_backward, which
   dispatch on the tensors' element type.  The matrix products are OpenBLAS sgemm / dgemm
   calls, or (float only) the small-size path (dense_small.c) for layers where a BLAS call
   costs more than its arithmetic, or the few-rows path (dense_small.c) for batches of a few
   rows. */
#include <cblas.h>
#include <string.h>

#include "core/threads.h"
#include "kernels/dense_small.h"
#include "kernels/kernels.h"

enum { COLSUM_BLOCK = 512 }; /* columns summed per pass: a double accumulator on the stack */

#define NB_PREC 32
#include "kernels/dense_t.h"
#define NB_PREC 64
#include "kernels/dense_t.h"

nb_status nb_dense_forward(const nb_tensor *X, const nb_tensor *W, const nb_tensor *b, nb_tensor *Z)
{
    nb_dtype t = nb_tensor_dtype(X); /* every other tensor must have X's element type */
    NB_TRY(nb__check_tensor_as(X, t));
    NB_TRY(nb__check_tensor_as(W, t));
    NB_TRY(nb__check_tensor_as(Z, t));
    if (b)
        NB_TRY(nb__check_shape_as(b, 1, W->cols, t));
    if (X->cols != W->rows)
        return NB_ERR_SHAPE;
    NB_TRY(nb__check_shape_as(Z, X->rows, W->cols, t));
    if (nb__overlap(Z, X) || nb__overlap(Z, W) || nb__overlap(Z, b))
        return NB_ERR_ALIAS;
    NB_TRY(nb__check_blas_dims(X->rows, W->rows, W->cols));
    if (t == NB_F64)
        nb__dense_fwd_f64(X->data64, W->data64, b ? b->data64 : NULL, Z->data64, X->rows,
                          W->rows, W->cols);
    else
        nb__dense_fwd(X->data, W->data, b ? b->data : NULL, Z->data, X->rows, W->rows, W->cols);
    return NB_OK;
}

nb_status nb_dense_backward(const nb_tensor *X, const nb_tensor *W, const nb_tensor *G,
                            nb_tensor *dW, nb_tensor *db, nb_tensor *dX)
{
    nb_dtype t = nb_tensor_dtype(X);
    NB_TRY(nb__check_tensor_as(X, t));
    NB_TRY(nb__check_tensor_as(W, t));
    NB_TRY(nb__check_tensor_as(G, t));
    NB_TRY(nb__check_tensor_as(dW, t));
    size_t batch = X->rows, in = X->cols, out = W->cols;
    if (W->rows != in)
        return NB_ERR_SHAPE;
    NB_TRY(nb__check_shape_as(G, batch, out, t));
    NB_TRY(nb__check_shape_as(dW, in, out, t));
    if (db)
        NB_TRY(nb__check_shape_as(db, 1, out, t));
    if (dX)
        NB_TRY(nb__check_shape_as(dX, batch, in, t));
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

    if (t == NB_F64)
        nb__dense_bwd_f64(X->data64, W->data64, G->data64, dW->data64, db ? db->data64 : NULL,
                          dX ? dX->data64 : NULL, batch, in, out);
    else
        nb__dense_bwd(X->data, W->data, G->data, dW->data, db ? db->data : NULL,
                      dX ? dX->data : NULL, batch, in, out);
    return NB_OK;
}
