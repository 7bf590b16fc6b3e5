/* The unchecked kernels: what the public kernels, the network and the training step call once
   their arguments have been validated. */
#ifndef NB_KERNELS_KERNELS_H
#define NB_KERNELS_KERNELS_H

#include <stdint.h>

#include "core/base.h"
#include "nablas/kernels.h"

/* Non-zero: the kernels take their portable loops even where vector ones exist (set by the
   tests, tests/portable.c, to cover both). */
extern int nb__vrows_off;

/* Unchecked kernels: pointers valid, shapes consistent, no overlap. */
void nb__dense_fwd(const float *X, const float *W, const float *b, float *Z,
                   size_t batch, size_t in, size_t out);
/* dW = X^T G; db = column sums of G (if db); dX = G W^T (if dX). */
void nb__dense_bwd(const float *X, const float *W, const float *G, float *dW, float *db, float *dX,
                   size_t batch, size_t in, size_t out);
void nb__colsum(const float *G, size_t rows, size_t cols, float *out);
/* Z = f(X W + b): nb__dense_fwd then nb__act_fwd, fused where the small path allows. */
void nb__dense_act_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                       size_t in, size_t out, nb_act act);
/* dX = G W^T (batch x in). */
void nb__dense_dx(const float *G, const float *W, float *dX, size_t batch, size_t in, size_t out);
/* The SGD step fused into the weight gradient: W <- W - lr X^T G (one sgemm, alpha = -lr,
   beta = 1) and b <- b - lr colsum(G). */
void nb__dense_update(const float *X, const float *G, float *W, float *b, size_t batch,
                      size_t in, size_t out, float lr);
void nb__act_fwd(nb_act act, float *Z, size_t rows, size_t cols);
/* A = f(Z) out of place (the network keeps Z for the activations that need it); A may also
   be Z. */
void nb__act_fwd_to(nb_act act, const float *Z, float *A, size_t rows, size_t cols);
/* The one derivative of every activation: G <- f'(Z) G elementwise (softmax: each row of G
   times its Jacobian), from the pre-activation Z and A = f(Z) as forward left them.  Z is read
   only where nb__act_needs_z(act) and may be NULL elsewhere.  G = 1 gives f'(Z) itself for the
   elementwise activations. */
void nb__act_bwd(nb_act act, const float *Z, const float *A, float *G, size_t rows, size_t cols);
double nb__loss_fwd(nb_loss kind, const float *Y, const float *T, size_t rows, size_t cols);
void nb__loss_bwd(nb_loss kind, const float *Y, const float *T, float *G, size_t rows, size_t cols);
/* nb__loss_bwd for rows of a batch of total_rows (>= rows): the gradient of the whole batch's
   mean loss with respect to these rows (the batch split, net/split.c). */
void nb__loss_bwd_n(nb_loss kind, const float *Y, const float *T, float *G, size_t rows,
                    size_t cols, size_t total_rows);
void nb__sgd(float *P, const float *dP, size_t n, float lr);
/* a += b over n floats (no overlap). */
void nb__vadd(float *a, const float *b, size_t n);
/* Inverted dropout (kernels/flat_t.h; the mask in kernels/flat.c), p in [0, 1):
   D[i] = A[i] / (1 - p) if element first + i is kept, else 0; the mask depends only on
   (key, first + i), so a slice of a batch (first = its offset) gets the whole batch's mask.
   _bwd applies the same mask to G. */
uint64_t nb__dropout_key(uint64_t seed, uint64_t step, uint64_t layer);
void nb__dropout_fwd(const float *A, float *D, size_t n, float p, uint64_t key, size_t first);
void nb__dropout_bwd(float *G, size_t n, float p, uint64_t key, size_t first);
/* True if none of v[0..n) is NaN or +-Inf. */
bool nb__all_finite(const float *v, size_t n);

/* The float64 kernels: the same contracts over doubles (the kernels/<family>_t.h templates
   instantiated for double; no small-size, vector-math or bf16 paths: BLAS dgemm and libm). */
void nb__dense_fwd_f64(const double *X, const double *W, const double *b, double *Z,
                       size_t batch, size_t in, size_t out);
void nb__dense_bwd_f64(const double *X, const double *W, const double *G, double *dW,
                       double *db, double *dX, size_t batch, size_t in, size_t out);
void nb__colsum_f64(const double *G, size_t rows, size_t cols, double *out);
void nb__dense_dx_f64(const double *G, const double *W, double *dX, size_t batch, size_t in,
                      size_t out);
void nb__dense_update_f64(const double *X, const double *G, double *W, double *b, size_t batch,
                          size_t in, size_t out, double lr);
void nb__act_fwd_f64(nb_act act, double *Z, size_t rows, size_t cols);
void nb__act_fwd_to_f64(nb_act act, const double *Z, double *A, size_t rows, size_t cols);
void nb__act_bwd_f64(nb_act act, const double *Z, const double *A, double *G, size_t rows,
                     size_t cols);
double nb__loss_fwd_f64(nb_loss kind, const double *Y, const double *T, size_t rows, size_t cols);
void nb__loss_bwd_f64(nb_loss kind, const double *Y, const double *T, double *G, size_t rows,
                      size_t cols);
void nb__loss_bwd_n_f64(nb_loss kind, const double *Y, const double *T, double *G, size_t rows,
                        size_t cols, size_t total_rows);
void nb__sgd_f64(double *P, const double *dP, size_t n, double lr);
void nb__vadd_f64(double *a, const double *b, size_t n);
void nb__dropout_fwd_f64(const double *A, double *D, size_t n, float p, uint64_t key,
                         size_t first);
void nb__dropout_bwd_f64(double *G, size_t n, float p, uint64_t key, size_t first);
bool nb__all_finite_f64(const double *v, size_t n);

static inline bool nb__act_valid(nb_act a) { return (unsigned)a < (unsigned)NB_ACT_COUNT; }
/* True if the derivative of act needs Z, not only A: GELU and SiLU are not monotonic (A does
   not determine Z), and ELU's exp(z) = A + 1 would lose its relative accuracy for z << 0. */
static inline bool nb__act_needs_z(nb_act a)
{
    return a == NB_ACT_GELU || a == NB_ACT_GELU_TANH || a == NB_ACT_SILU || a == NB_ACT_ELU;
}
static inline bool nb__loss_valid(nb_loss l) { return (unsigned)l < (unsigned)NB_LOSS_COUNT; }

#endif
