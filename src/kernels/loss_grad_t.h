/* Template (kernels/tmpl_begin.h): the elementwise loss gradients, one code for both
   precisions.  kernels/losses.c instantiates it for float (its nb__loss_bwd_n, beside the
   vectorised softmax cross-entropy rows) and for double (loss_t.h's nb__loss_bwd_n_f64).
   count is the mean's count (a slice of a batch weighs as in its batch); the includer defines
   BCE_EPS. */
#include "kernels/tmpl_begin.h"

/* MSE: G = 2 (Y - T) / count */
static inline void NB_FN(mse_grad_t)(const NB_T *restrict Y, const NB_T *restrict T,
                                     NB_T *restrict G, size_t n, double count)
{
    NB_T s = (NB_T)(2.0 / count);
    for (size_t i = 0; i < n; i++)
        G[i] = s * (Y[i] - T[i]);
}

/* BCE: G = (y - t) / max(y (1 - y), eps) / count, NaN for y outside [0, 1] as the loss.  In
   NB_T, so that the float loop runs 16 lanes wide: y - t, 1 - y (exact for y >= 0.5), the
   product and the quotient round once each, a few 1e-7 in all. */
static inline void NB_FN(bce_grad_t)(const NB_T *restrict Y, const NB_T *restrict T,
                                     NB_T *restrict G, size_t n, double count)
{
    /* eps as PyTorch has it in float64 too: the float 1e-12 */
    NB_T s = (NB_T)(1.0 / count), eps = (NB_T)(float)BCE_EPS;
    for (size_t i = 0; i < n; i++) {
        NB_T y = Y[i], d = y * ((NB_T)1 - y); /* fmax without the libm call */
        NB_T g = (y - T[i]) / (d > eps ? d : eps) * s;
        G[i] = y >= (NB_T)0 && y <= (NB_T)1 ? g : (NB_T)NAN;
    }
}

#include "kernels/tmpl_end.h"
