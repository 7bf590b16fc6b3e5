/* Template (kernels/tmpl_begin.h): the activation derivatives that need only the output A
   (ReLU, leaky ReLU, sigmoid, tanh, softmax's row Jacobian), one code for both precisions.
   kernels/activations.c instantiates it for float (its nb__act_bwd, around the vectorised
   softmax rows) and for double (act_t.h's nb__act_bwd_f64).  The includer defines
   LEAKY_SLOPE_D. */
#include "kernels/tmpl_begin.h"

/* G <- f'(A) G for the elementwise activations whose derivative is a function of A; any
   other act leaves G as it is */
static inline void NB_FN(act_bwd_from_a_t)(nb_act act, const NB_T *restrict A,
                                           NB_T *restrict G, size_t n)
{
    switch (act) {
    case NB_ACT_RELU: /* PyTorch's threshold_backward: zero where A <= 0, so NaN passes G */
        for (size_t i = 0; i < n; i++)
            G[i] = A[i] <= (NB_T)0 ? (NB_T)0 : G[i];
        break;
    case NB_ACT_LEAKY_RELU: /* A has the sign of Z */
        for (size_t i = 0; i < n; i++)
            G[i] = A[i] > (NB_T)0 ? G[i] : (NB_T)LEAKY_SLOPE_D * G[i];
        break;
    case NB_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            G[i] *= A[i] * ((NB_T)1 - A[i]);
        break;
    case NB_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            G[i] *= (NB_T)1 - A[i] * A[i];
        break;
    default:
        break;
    }
}

/* softmax: dZ_j = a_j (g_j - sum_k g_k a_k), row by row, the dot product in double */
static inline void NB_FN(softmax_bwd_rows_t)(const NB_T *restrict A, NB_T *restrict G,
                                             size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        const NB_T *a = A + r * cols;
        NB_T *g = G + r * cols;
        double dot = 0.0;
        for (size_t j = 0; j < cols; j++)
            dot += (double)g[j] * a[j];
        NB_T d = (NB_T)dot;
        for (size_t j = 0; j < cols; j++)
            g[j] = a[j] * (g[j] - d);
    }
}

#include "kernels/tmpl_end.h"
