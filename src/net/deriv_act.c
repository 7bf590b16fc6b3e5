/* How each activation's derivative acts on the tangents of the input derivatives.  The
   derivative itself is defined once, in nb__act_bwd (kernels/activations.c), from the
   pre-activation Z and the output A: an elementwise activation's f'(Z) is nb__act_bwd applied to
   ones; softmax's Jacobian (diag(a) - a a^T, symmetric, so the same in both modes) is
   nb__act_bwd applied to the tangents themselves.  An activation added to nb_act needs nothing
   here. */
#include <string.h>

#include "net/deriv.h"

nb__djac nb__act_deriv(nb_act act, const float *Z, const float *A, float *D, size_t rows,
                       size_t cols)
{
    if (act == NB_ACT_IDENTITY)
        return NB__DJ_ONE;
    if (act == NB_ACT_SOFTMAX) /* not elementwise: applied from A, tangent by tangent */
        return NB__DJ_SOFTMAX;
    for (size_t i = 0; i < rows * cols; i++)
        D[i] = 1.0f;
    nb__act_bwd(act, Z, A, D, rows, cols);
    return NB__DJ_DIAG;
}

void nb__djac_apply(nb__djac kind, const float *D, float *T, size_t rows, size_t k, size_t cols,
                    float *scratch)
{
    switch (kind) {
    case NB__DJ_ONE:
        break;
    case NB__DJ_DIAG:
        for (size_t b = 0; b < rows; b++) {
            const float *d = D + b * cols;
            for (size_t j = 0; j < k; j++) {
                float *t = T + (b * k + j) * cols;
                for (size_t c = 0; c < cols; c++)
                    t[c] *= d[c];
            }
        }
        break;
    case NB__DJ_SOFTMAX:
        if (k == 1) { /* one tangent per row: the rows of A line up with them */
            nb__act_bwd(NB_ACT_SOFTMAX, NULL, D, T, rows, cols);
            break;
        }
        for (size_t b = 0; b < rows; b++) { /* row b's output, once per tangent */
            for (size_t j = 0; j < k; j++)
                memcpy(scratch + j * cols, D + b * cols, cols * sizeof(float));
            nb__act_bwd(NB_ACT_SOFTMAX, NULL, scratch, T + b * k * cols, k, cols);
        }
        break;
    }
}
