/* Template (kernels/tmpl_begin.h): the dense layer kernels over NB_T, instantiated for float
   and double by kernels/dense.c.  Products through BLAS (sgemm / dgemm); float32 first tries
   its own paths for small layers and few rows (dense_small.c), which double does without. */
#include "kernels/tmpl_begin.h"

/* Column sums of G accumulated in double, one row at a time (contiguous, vectorised), then
   out[j] = sum, or with update the bias SGD step out[j] -= lr * (NB_T)sum.  (For double the
   sum is a plain double sum, as torch's float64 sum is up to its ordering.) */
NB_CLONES
static void NB_FN(colsum)(const NB_T *restrict G, size_t rows, size_t cols, NB_T *restrict out,
                          NB_T lr, bool update)
{
    double acc[COLSUM_BLOCK];
    for (size_t c0 = 0; c0 < cols; c0 += COLSUM_BLOCK) {
        size_t n = cols - c0 < COLSUM_BLOCK ? cols - c0 : COLSUM_BLOCK;
        for (size_t j = 0; j < n; j++)
            acc[j] = 0.0;
        for (size_t i = 0; i < rows; i++) {
            const NB_T *g = G + i * cols + c0;
            for (size_t j = 0; j < n; j++)
                acc[j] += g[j];
        }
        if (update)
            for (size_t j = 0; j < n; j++)
                out[c0 + j] -= lr * (NB_T)acc[j];
        else
            for (size_t j = 0; j < n; j++)
                out[c0 + j] = (NB_T)acc[j];
    }
}

void NB_FN(nb__colsum)(const NB_T *G, size_t rows, size_t cols, NB_T *out)
{
    NB_FN(colsum)(G, rows, cols, out, (NB_T)0, false);
}

/* Z = X W + b */
void NB_FN(nb__dense_fwd)(const NB_T *X, const NB_T *W, const NB_T *b, NB_T *Z,
                          size_t batch, size_t in, size_t out)
{
#if NB_PREC == 32
    if (nb__dense_row(batch, in, out)) {
        nb__row_fwd(X, W, b, Z, batch, in, out, false);
        return;
    }
    if (nb__dense_small(batch, in, out)) {
        nb__small_fwd(X, W, b, Z, batch, in, out, false);
        return;
    }
#endif
    NB_T beta = (NB_T)0;
    if (b) { /* broadcast the bias into Z, then let gemm accumulate onto it (beta = 1) */
        for (size_t i = 0; i < batch; i++)
            memcpy(Z + i * out, b, out * sizeof(NB_T));
        beta = (NB_T)1;
    }
    nb__blas_threads_for(batch, out, in);
    NB_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, (int)out, (int)in,
            (NB_T)1, X, (int)in, W, (int)out, beta, Z, (int)out);
}

/* Z = f(X W + b): the product, then the activation (fused into the float small paths for
   ReLU) */
void NB_FN(nb__dense_act_fwd)(const NB_T *X, const NB_T *W, const NB_T *b, NB_T *Z,
                              size_t batch, size_t in, size_t out, nb_act act)
{
#if NB_PREC == 32
    if (act == NB_ACT_RELU && nb__dense_row(batch, in, out)) {
        nb__row_fwd(X, W, b, Z, batch, in, out, true); /* ReLU while the row is in registers */
        return;
    }
    if (act == NB_ACT_RELU && nb__dense_small(batch, in, out)) {
        nb__small_fwd(X, W, b, Z, batch, in, out, true);
        return;
    }
#endif
    NB_FN(nb__dense_fwd)(X, W, b, Z, batch, in, out);
    NB_FN(nb__act_fwd)(act, Z, batch, out);
}

/* dX = G W^T */
void NB_FN(nb__dense_dx)(const NB_T *G, const NB_T *W, NB_T *dX, size_t batch, size_t in,
                         size_t out)
{
#if NB_PREC == 32
    if (nb__dense_small(batch, in, out)) {
        nb__small_dx(G, W, dX, batch, in, out);
        return;
    }
#endif
    nb__blas_threads_for(batch, in, out);
    NB_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, (int)in, (int)out,
            (NB_T)1, G, (int)out, W, (int)out, (NB_T)0, dX, (int)in);
}

/* The SGD step fused into the weight gradient: W <- W - lr X^T G, b <- b - lr colsum(G) */
void NB_FN(nb__dense_update)(const NB_T *X, const NB_T *G, NB_T *W, NB_T *b, size_t batch,
                             size_t in, size_t out, NB_T lr)
{
#if NB_PREC == 32
    if (nb__dense_small(batch, in, out)) {
        nb__small_xtg(X, G, W, batch, in, out, -lr, true);
        nb__small_colsum(G, batch, out, b, lr, true);
        return;
    }
#endif
    /* W + (-lr) X^T G: the gradient never exists as a matrix of its own */
    nb__blas_threads_for(in, out, batch);
    NB_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)out, (int)batch, -lr, X,
            (int)in, G, (int)out, (NB_T)1, W, (int)out);
    NB_FN(colsum)(G, batch, out, b, lr, true);
}

/* dW = X^T G; db = column sums of G (if db); dX = G W^T (if dX) */
void NB_FN(nb__dense_bwd)(const NB_T *X, const NB_T *W, const NB_T *G, NB_T *dW, NB_T *db,
                          NB_T *dX, size_t batch, size_t in, size_t out)
{
#if NB_PREC == 32
    if (nb__dense_small(batch, in, out)) {
        nb__small_xtg(X, G, dW, batch, in, out, 1.0f, false);
        if (db)
            nb__small_colsum(G, batch, out, db, 0.0f, false);
        if (dX)
            nb__small_dx(G, W, dX, batch, in, out);
        return;
    }
#endif
    nb__blas_threads_for(in, out, batch);
    NB_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)out, (int)batch,
            (NB_T)1, X, (int)in, G, (int)out, (NB_T)0, dW, (int)out);
    if (db)
        NB_FN(nb__colsum)(G, batch, out, db);
    if (dX) {
        nb__blas_threads_for(batch, in, out);
        NB_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, (int)in, (int)out,
                (NB_T)1, G, (int)out, W, (int)out, (NB_T)0, dX, (int)in);
    }
}

#include "kernels/tmpl_end.h"
