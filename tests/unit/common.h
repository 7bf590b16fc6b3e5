/* Shared helpers of the unit tests: reproducible data, sentinels, naive double-precision
   references of every kernel and the error measures the tolerances are stated in. */
#ifndef NABLAS_TESTS_UNIT_COMMON_H
#define NABLAS_TESTS_UNIT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nablas.h"

/* ---- memory and data ---------------------------------------------------------------------- */

/* Heap arrays that abort the test process on failure (never NULL). */
float *tc_falloc(size_t n);
double *tc_dalloc(size_t n);
float *tc_fdup(const float *a, size_t n);

/* U[lo, hi) and N(mean, sd) from nb_rng, so every test is reproducible. */
void tc_fill_uniform(nb_rng *r, float *a, size_t n, double lo, double hi);
void tc_fill_normal(nb_rng *r, float *a, size_t n, double mean, double sd);
/* Rows of probabilities: one-hot at a random column if onehot, else random positive rows
   summing to 1. */
void tc_fill_prob_rows(nb_rng *r, float *a, size_t rows, size_t cols, bool onehot);

/* A recognisable byte pattern for "must stay untouched" checks (compare with memcmp). */
void tc_fill_sentinel(void *p, size_t bytes);
/* All-NaN floats: an output pre-filled with this proves it is overwritten, not accumulated. */
void tc_fill_nan(float *a, size_t n);

/* ---- error measures ----------------------------------------------------------------------- */

/* Norm-wise relative error: max |a - ref| / max(max |ref|, tiny).  NaN anywhere gives +inf. */
double tc_rel_err(const float *a, const double *ref, size_t n);
double tc_rel_err_ff(const float *a, const float *ref, size_t n);
double tc_max_abs(const float *a, size_t n);
double tc_norm2(const float *a, size_t n);
bool tc_all_finite(const float *a, size_t n);

/* ---- naive double-precision references ---------------------------------------------------- */

/* Z = X W (+ b).  X: batch x in, W: in x out, b: out or NULL, Z: batch x out. */
void ref_dense_fwd(const float *X, const float *W, const float *b, double *Z,
                   size_t batch, size_t in, size_t out);
/* dW = X^T G, db = column sums of G, dX = G W^T (db, dX may be NULL). */
void ref_dense_bwd(const float *X, const float *W, const float *G, double *dW, double *db,
                   double *dX, size_t batch, size_t in, size_t out);

double ref_act_scalar(nb_act act, double z); /* every activation but softmax */
double ref_act_deriv(nb_act act, double z);  /* f'(z) of GELU onwards */
void ref_act_fwd(nb_act act, const float *Z, double *A, size_t rows, size_t cols);

/* dL/dZ from G = dL/dA: from A for the first six activations, from Z for GELU onwards. */
void ref_act_bwd(nb_act act, const float *Z, const float *A, const float *G, double *out,
                 size_t rows, size_t cols);

double ref_loss_fwd(nb_loss kind, const float *Y, const float *T, size_t rows, size_t cols);
void ref_loss_bwd(nb_loss kind, const float *Y, const float *T, double *G, size_t rows,
                  size_t cols);

void ref_sgd(const float *P, const float *dP, double *out, size_t n, float lr);

/* ---- sanitizers -------------------------------------------------------------------------- */

/* Under AddressSanitizer, fails the current test if memory leaked so far.  Criterion's workers
   would report leaks only after the result is sent, so every suite runs this as its .fini. */
void tc_leak_check(void);

/* ---- networks ----------------------------------------------------------------------------- */

/* Creates a network or fails the test. */
nb_net *tc_net(size_t inputs, const nb_layer_spec *layers, size_t n_layers, uint64_t seed);

#endif
