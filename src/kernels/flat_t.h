/* Template (kernels/tmpl_begin.h): the kernels over flat buffers of NB_T, instantiated for
   float and double by kernels/flat.c.  The SGD step, the sum of gradient buffers, inverted
   dropout, the finiteness check and the argmax. */
#include "kernels/tmpl_begin.h"

/* Plain stochastic gradient descent: P <- P - lr dP. */
NB_CLONES
void NB_FN(nb__sgd)(NB_T *restrict P, const NB_T *restrict dP, size_t n, NB_T lr)
{
    for (size_t i = 0; i < n; i++)
        P[i] -= lr * dP[i];
}

/* a += b (the batch split of the training step adds its parts' gradient buffers). */
NB_CLONES
void NB_FN(nb__vadd)(NB_T *restrict a, const NB_T *restrict b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] += b[i];
}

/* Inverted dropout: a kept element is scaled by 1 / (1 - p), a dropped one becomes 0; the
   mask (kept(), kernels/flat.c) depends only on (key, first + i), not on the type. */
void NB_FN(nb__dropout_fwd)(const NB_T *A, NB_T *D, size_t n, float p, uint64_t key, size_t first)
{
    uint64_t thr = threshold(p);
    NB_T scale = (NB_T)1 / ((NB_T)1 - p);
    for (size_t i = 0; i < n; i++)
        D[i] = kept(key, first + i, thr) ? A[i] * scale : (NB_T)0;
}

void NB_FN(nb__dropout_bwd)(NB_T *G, size_t n, float p, uint64_t key, size_t first)
{
    uint64_t thr = threshold(p);
    NB_T scale = (NB_T)1 / ((NB_T)1 - p);
    for (size_t i = 0; i < n; i++)
        G[i] = kept(key, first + i, thr) ? G[i] * scale : (NB_T)0;
}

/* An element is NaN or +-Inf exactly when its exponent bits are all ones: an integer max over
   the exponent fields is a reduction the compiler vectorises (a float sum would not be
   reordered).  Blocks: a failed long buffer stops early. */
NB_CLONES
bool NB_FN(nb__all_finite)(const NB_T *restrict v, size_t n)
{
    for (size_t i0 = 0; i0 < n; i0 += FINITE_BLOCK) {
        size_t end = n - i0 < FINITE_BLOCK ? n : i0 + FINITE_BLOCK;
        NB_UINT top = 0;
        for (size_t i = i0; i < end; i++) {
            NB_UINT u;
            memcpy(&u, v + i, sizeof u);
            u &= NB_EXP_BITS;
            top = u > top ? u : top;
        }
        if (top == NB_EXP_BITS)
            return false;
    }
    return true;
}

/* The class of a row of outputs: the one argmax of the library (evaluation, the CLI). */
size_t NB_FN(nb_argmax)(const NB_T *v, size_t n)
{
    size_t k = 0;
    if (!v)
        return 0;
    for (size_t j = 1; j < n; j++)
        if (v[j] > v[k])
            k = j;
    return k;
}

size_t NB_FN(nb_class_of)(const NB_T *y, size_t n)
{
    if (!y || n == 0)
        return 0;
    return n == 1 ? (size_t)(y[0] >= (NB_T)0.5) : NB_FN(nb_argmax)(y, n);
}

#include "kernels/tmpl_end.h"
