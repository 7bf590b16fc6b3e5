/* nablas: the batch kernels.  Each works on whole mini-batches, validates every argument and
   returns a status without touching any output when the arguments are bad.  No kernel
   allocates heap memory.  Outputs must not overlap inputs (NB_ERR_ALIAS), except where an
   operation is documented as in place.

   Element types: every kernel taking tensors accepts float32 and float64 tensors alike and
   dispatches on their element type (nb_tensor_dtype), as PyTorch's functions do; all the
   tensors of one call must have the same type, or the call returns NB_ERR_TYPE (mixed types
   are never converted).  float64 tensors go through dgemm and libm (docs/numerics.md:
   "float64"); float32 ones through the float kernels, unchanged.  Where a scalar is float in
   the float32 interface (the loss value, the SGD rate) a twin takes or gives a double:
   nb_loss_forward_d, nb_sgd_step_f64; raw-pointer helpers have _f64 twins (nb_argmax_f64). */
#ifndef NABLAS_KERNELS_H
#define NABLAS_KERNELS_H

#include <stdbool.h>

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dense layer -------------------------------------------------------------------------- */

/* Z = X W + b.  X: batch x in, W: in x out, b: 1 x out or NULL, Z: batch x out.
   NB_ERR_TYPE if the tensors' element types differ. */
nb_status nb_dense_forward(const nb_tensor *X, const nb_tensor *W, const nb_tensor *b, nb_tensor *Z);

/* G = dL/dZ (batch x out).  dW = X^T G (in x out), db = column sums of G (1 x out, or NULL),
   dX = G W^T (batch x in, or NULL).  Outputs are overwritten, not accumulated.
   Column sums accumulate in double.  NB_ERR_TYPE if the tensors' element types differ. */
nb_status nb_dense_backward(const nb_tensor *X, const nb_tensor *W, const nb_tensor *G,
                            nb_tensor *dW, nb_tensor *db, nb_tensor *dX);

/* ---- activations --------------------------------------------------------------------------- */

typedef enum nb_act {
    NB_ACT_IDENTITY,
    NB_ACT_RELU,
    NB_ACT_LEAKY_RELU, /* slope 0.01 for z < 0 (PyTorch's default) */
    NB_ACT_SIGMOID,    /* overflow-free: finite for any finite z */
    NB_ACT_TANH,
    NB_ACT_SOFTMAX,    /* row-wise, max-subtracted */
    NB_ACT_GELU,       /* z Phi(z), Phi the normal CDF (PyTorch's GELU, approximate='none') */
    NB_ACT_GELU_TANH,  /* z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2 (approximate='tanh') */
    NB_ACT_SILU,       /* z sigmoid(z) (swish) */
    NB_ACT_SOFTPLUS,   /* log(1 + exp(z)), and z where z > 20 (PyTorch: beta 1, threshold 20) */
    NB_ACT_ELU,        /* z for z > 0, exp(z) - 1 otherwise (alpha 1) */
    NB_ACT_COUNT       /* number of activations; not an activation */
} nb_act;
/* The numeric values above are recorded in model files: new ones are only ever appended. */

/* In place: Z <- f(Z) (float32 or float64). */
nb_status nb_act_forward(nb_act act, nb_tensor *Z);

/* True if act's derivative needs the pre-activation Z and not only A = f(Z): GELU, GELU_TANH
   and SiLU (not monotonic, so A does not determine Z) and ELU (exp(z) from A = exp(z) - 1
   loses its accuracy for z << 0); false for the others and for an unknown value. */
bool nb_act_needs_input(nb_act act);

/* A = f(Z) as forward left it (same shape as G).  In place: G <- dL/dZ from G = dL/dA.
   NB_ERR_ARG for an activation that needs Z (nb_act_needs_input): use nb_act_backward_z.
   NB_ERR_TYPE if A and G differ in element type. */
nb_status nb_act_backward(nb_act act, const nb_tensor *A, nb_tensor *G);

/* The same for every activation, from the pre-activation Z and A = f(Z) (both as forward
   computed them, same shape as G; Z may be NULL where !nb_act_needs_input(act)).  In place:
   G <- f'(Z) G elementwise (softmax: each row times its Jacobian).  G must not overlap Z or A
   (NB_ERR_ALIAS); NB_ERR_NULL, NB_ERR_SHAPE, NB_ERR_ARG, NB_ERR_TYPE as nb_act_backward.
   float64 softplus: from Z where Z is given (exact at the threshold 20), else from A. */
nb_status nb_act_backward_z(nb_act act, const nb_tensor *Z, const nb_tensor *A, nb_tensor *G);

/* Lower-case name ("relu", "leaky_relu", "gelu", "gelu_tanh", "silu", "softplus", "elu", ...),
   or NULL for an unknown value. */
const char *nb_act_name(nb_act act);

/* ---- losses -------------------------------------------------------------------------------- */

typedef enum nb_loss {
    NB_LOSS_MSE,        /* mean over all elements of (y - t)^2                                   */
    NB_LOSS_BCE,        /* y are probabilities; mean over all elements of
                           -[t log y + (1 - t) log(1 - y)], each log clamped at -100 (PyTorch)   */
    NB_LOSS_SOFTMAX_CE, /* y are logits; mean over rows of -sum_j t_j log softmax(y)_j, computed
                           with log-sum-exp (never softmax followed by log)                      */
    NB_LOSS_COUNT       /* number of losses; not a loss */
} nb_loss;

/* *loss = L(Y, T); Y and T have the same shape and element type (else NB_ERR_SHAPE,
   NB_ERR_TYPE).  Accumulates in double, and rounds the result to float: */
nb_status nb_loss_forward(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, float *loss);
/* the same, giving the double (the loss of float64 tensors keeps its digits) */
nb_status nb_loss_forward_d(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, double *loss);

/* G = dL/dY, same shape as Y:
   MSE: 2 (y - t) / (rows cols);  BCE: (y - t) / max(y (1 - y), 1e-12) / (rows cols);
   SOFTMAX_CE: (softmax(y) sum(t) - t) / rows, i.e. (softmax(y) - t) / rows when each row of t
   sums to 1.  Y, T and G: one element type (NB_ERR_TYPE). */
nb_status nb_loss_backward(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, nb_tensor *G);

/* Lower-case name ("mse", "bce", "softmax_ce"), or NULL for an unknown value. */
const char *nb_loss_name(nb_loss kind);

/* ---- classes -------------------------------------------------------------------------------- */

/* Index of the largest of v[0..n) (the first of equal maxima; NaN never wins); 0 if v is NULL
   or n is 0. */
size_t nb_argmax(const float *v, size_t n);
/* The class a row of n outputs (or one-hot targets) stands for: nb_argmax for n >= 2, and for
   one output 1 if y[0] >= 0.5, else 0. */
size_t nb_class_of(const float *y, size_t n);
/* The same over doubles. */
size_t nb_argmax_f64(const double *v, size_t n);
size_t nb_class_of_f64(const double *y, size_t n);

/* ---- optimizer ------------------------------------------------------------------------------ */

/* P <- P - lr dP.  lr must be finite and >= 0 (NB_ERR_ARG); P and dP have the same shape and
   element type (NB_ERR_TYPE).  float64 tensors take lr as the float it is here: */
nb_status nb_sgd_step(nb_tensor *P, const nb_tensor *dP, float lr);
/* the float64 step with a double rate (P and dP float64, else NB_ERR_TYPE). */
nb_status nb_sgd_step_f64(nb_tensor *P, const nb_tensor *dP, double lr);

#ifdef __cplusplus
}
#endif
#endif
