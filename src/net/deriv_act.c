/* The derivative of every activation, in one place: f'(z) from the pre-activation z and the
   output a = f(z), or the kind of Jacobian that is not diagonal (softmax), and its action on
   a batch of tangents.  Where PyTorch's backward has a convention (ReLU at 0, NaN), it is
   followed, so that derivatives match torch.autograd. */
#include <math.h>

#include "kernels/scalar_exp.h"
#include "net/deriv.h"

#define LEAKY_SLOPE 0.01f /* as kernels/activations.c */

nb__djac nb__act_deriv(nb_act act, float *ZD, const float *A, size_t n)
{
    (void)A; /* none of today's activations needs it; ELU's is cheapest from it (a + 1) */
    switch (act) {
    case NB_ACT_IDENTITY:
        return NB__DJ_ONE;
    case NB_ACT_RELU: /* 0 at z = 0, as threshold_backward */
        for (size_t i = 0; i < n; i++)
            ZD[i] = ZD[i] > 0.0f ? 1.0f : 0.0f;
        return NB__DJ_DIAG;
    case NB_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            ZD[i] = ZD[i] > 0.0f ? 1.0f : LEAKY_SLOPE;
        return NB__DJ_DIAG;
    /* Sigmoid and tanh from z, not from the output as PyTorch's backward (a (1 - a) and
       1 - a^2): where the output nears 1, its rounding error of half an ulp becomes a large
       relative error of 1 - a (1e-5 at 1 - a = 0.01), while e / (1 + e)^2 keeps the few ulp
       of the exp whatever z. */
    case NB_ACT_SIGMOID: /* s(z) s(-z) = e / (1 + e)^2, e = exp(-|z|) */
        for (size_t i = 0; i < n; i++) {
            float e = nb__expf(-fabsf(ZD[i])), d = 1.0f + e;
            ZD[i] = isnan(ZD[i]) ? ZD[i] : e / (d * d);
        }
        return NB__DJ_DIAG;
    case NB_ACT_TANH: /* sech^2 z = 4 e / (1 + e)^2, e = exp(-2 |z|) */
        for (size_t i = 0; i < n; i++) {
            float e = nb__expf(-2.0f * fabsf(ZD[i])), d = 1.0f + e;
            ZD[i] = isnan(ZD[i]) ? ZD[i] : 4.0f * e / (d * d);
        }
        return NB__DJ_DIAG;
    case NB_ACT_SOFTMAX:
        return NB__DJ_SOFTMAX;
    case NB_ACT_COUNT:
        break;
    }
    return NB__DJ_ONE; /* not reached: activations are validated when the network is made */
}

void nb__djac_apply(nb__djac kind, const float *D, float *T, size_t rows, size_t k, size_t cols)
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
    case NB__DJ_SOFTMAX: /* J = diag(a) - a a^T, symmetric: the same in both modes */
        for (size_t b = 0; b < rows; b++) {
            const float *a = D + b * cols;
            for (size_t j = 0; j < k; j++) {
                float *t = T + (b * k + j) * cols;
                double dot = 0.0;
                for (size_t c = 0; c < cols; c++)
                    dot += (double)a[c] * t[c];
                float d = (float)dot;
                for (size_t c = 0; c < cols; c++)
                    t[c] = a[c] * (t[c] - d);
            }
        }
        break;
    }
}
