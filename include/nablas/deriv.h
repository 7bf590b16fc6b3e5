/* nablas: derivatives of a trained network with respect to its inputs: the full Jacobian,
   Jacobian-vector products (forward mode) and vector-Jacobian products (reverse mode), for a
   batch of rows, in the user's units.

   The function differentiated.  With the optional input standardisation (mean mx, std sx),
   the optional target standardisation (mean my, std sy) and the network's output f (its last
   layer's activation applied), each row x gives
       y = sy * s(f((x - mx) / sx)) + my
   where s is softmax over the row when opts.probabilities is set (a classifier trained with
   NB_LOSS_SOFTMAX_CE outputs logits: its probabilities are softmax of them) and the identity
   otherwise.  So dy/dx = diag(sy) J_s J_f diag(1/sx), exactly what `nablas predict` reports
   in units of the data.  Dropout is never applied (evaluation mode).  At a kink (ReLU and
   leaky ReLU at 0) the derivative taken is PyTorch's: that of the z < 0 side.

   Modes.  A JVP carries one tangent per row forward through the layers, a VJP one cotangent
   per row backward; each costs about one more pass of the network.  The full Jacobian carries
   k = min(inputs, outputs) tangents per row (forward mode when inputs <= outputs, reverse
   otherwise; opts.mode can force either), all rows' tangents through one matrix product per
   layer on (rows * k) x width blocks: about k passes of the network.

   Layout.  J (rows x (outputs * inputs)) holds each row's outputs x inputs Jacobian
   row-major: J[b][i][j] = dy_i/dx_j of row b, at J->data[(b * outputs + i) * inputs + j].
   nb_deriv_jacobian_t writes the transpose of each row's block instead (inputs x outputs,
   JT[b][j][i]), which a column-major caller (Fortran, LAPACK) reads as its
   outputs x inputs x rows array J(i, j, b) without a copy.

   Contexts.  As nb_infer_ctx: a context holds one thread's workspace for a network that is
   only read.  It borrows net and the two standardisations, which must outlive it and must not
   change while it is in use; create one context per thread.  After nb_deriv_ctx_create
   nothing allocates.  The same call on the same context gives the same bits every time, and
   two contexts on two threads the same bits as one.

   Statuses (every function below).  NB_ERR_NULL: a NULL pointer; NB_ERR_SHAPE: a tensor of
   the wrong shape (or empty); NB_ERR_ALIAS: an output overlaps an input or another output;
   NB_ERR_NONFINITE: X, V or U holds a NaN or infinity.  On any failure no output is written. */
#ifndef NABLAS_DERIV_H
#define NABLAS_DERIV_H

#include <stdbool.h>
#include "net.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nb_deriv_mode {
    NB_DERIV_AUTO = 0, /* forward mode when inputs <= outputs, else reverse */
    NB_DERIV_FORWARD,  /* inputs tangents per row, carried forward */
    NB_DERIV_REVERSE,  /* outputs cotangents per row, carried backward */
    NB_DERIV_MODE_COUNT
} nb_deriv_mode;

typedef struct nb_deriv_opts {
    const nb_norm *norm;        /* input standardisation, or NULL; as many features as inputs */
    const nb_norm *target_norm; /* target standardisation, or NULL; as many as outputs */
    /* Differentiate softmax of the network's output (a classifier's probabilities from its
       logits) instead of the output itself.  NB_ERR_ARG if the last layer is already softmax
       or with one output. */
    bool probabilities;
    nb_deriv_mode mode; /* how nb_deriv_jacobian runs (JVP and VJP have one mode each) */
} nb_deriv_opts;

/* No standardisation, the network's own outputs, NB_DERIV_AUTO. */
nb_deriv_opts nb_deriv_opts_default(void);

typedef struct nb_deriv_ctx nb_deriv_ctx;

/* A context for batches of up to max_batch rows (more rows are processed in chunks of
   max_batch).  opts NULL: nb_deriv_opts_default().  NB_ERR_SHAPE: max_batch 0 or a
   standardisation of the wrong width; NB_ERR_ARG: a mode out of range, or probabilities on a
   softmax or one-output network; NB_ERR_OVERFLOW, NB_ERR_NOMEM.  *out is set only on
   success. */
nb_status nb_deriv_ctx_create(nb_deriv_ctx **out, const nb_net *net, const nb_deriv_opts *opts,
                              size_t max_batch);
void nb_deriv_ctx_free(nb_deriv_ctx *ctx); /* NULL is a no-op */

/* J (rows x (outputs * inputs), layout above) = dY/dX for every row of X (rows x inputs).
   Y (rows x outputs) gets the outputs y in the same units, or is NULL. */
nb_status nb_deriv_jacobian(nb_deriv_ctx *ctx, const nb_tensor *X, nb_tensor *J, nb_tensor *Y);
/* As nb_deriv_jacobian, each row's block transposed (rows x (inputs * outputs)). */
nb_status nb_deriv_jacobian_t(nb_deriv_ctx *ctx, const nb_tensor *X, nb_tensor *JT,
                              nb_tensor *Y);

/* Forward mode: JV (rows x outputs) row b = J_b v_b, with V (rows x inputs) row b = v_b. */
nb_status nb_deriv_jvp(nb_deriv_ctx *ctx, const nb_tensor *X, const nb_tensor *V, nb_tensor *JV,
                       nb_tensor *Y);
/* Reverse mode: UJ (rows x inputs) row b = u_b^T J_b, with U (rows x outputs) row b = u_b. */
nb_status nb_deriv_vjp(nb_deriv_ctx *ctx, const nb_tensor *X, const nb_tensor *U, nb_tensor *UJ,
                       nb_tensor *Y);

/* The same in double precision, for callers whose data are doubles (the network still computes
   in float32): bare row-major double arrays in the caller's memory, rows rows each: x
   (rows x inputs), v (rows x inputs), u (rows x outputs), J (rows x (outputs * inputs), the
   layout above; JT each row's block transposed), jv (rows x outputs), uj (rows x inputs), y
   (rows x outputs, or NULL).  The context narrows up to max_batch rows at a time into float
   buffers it made at creation (nothing allocates), runs the float call on them and widens
   the results, so on inputs that are floats already they are the float call's, bit for bit.
   Statuses as above: NB_ERR_NULL, NB_ERR_SHAPE (rows 0), NB_ERR_ALIAS (an output overlaps an
   input or the other output), NB_ERR_NONFINITE (x, v or u holds a NaN, an infinity, or a
   finite double that rounds to a float infinity, |value| >= FLT_MAX + half an ulp),
   NB_ERR_OVERFLOW (rows x width beyond size_t); every input is checked before any output is
   written.  The float buffers cost max_batch * (inputs * outputs + 2 * (inputs + outputs))
   floats per context. */
nb_status nb_deriv_jacobian_f64(nb_deriv_ctx *ctx, const double *x, size_t rows, double *J,
                                double *y);
nb_status nb_deriv_jacobian_t_f64(nb_deriv_ctx *ctx, const double *x, size_t rows, double *JT,
                                  double *y);
nb_status nb_deriv_jvp_f64(nb_deriv_ctx *ctx, const double *x, const double *v, size_t rows,
                           double *jv, double *y);
nb_status nb_deriv_vjp_f64(nb_deriv_ctx *ctx, const double *x, const double *u, size_t rows,
                           double *uj, double *y);

#ifdef __cplusplus
}
#endif
#endif
