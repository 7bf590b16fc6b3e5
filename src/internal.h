/* Internal helpers shared by the library's sources: argument checks and the unchecked kernels
   that the network calls after validating once. */
#ifndef NABLAS_INTERNAL_H
#define NABLAS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "nablas.h"

/* Hot loops compiled for AVX-512, AVX2 and baseline x86-64, picked at load time (GCC, ELF):
   the library is never built with -march=native. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__ELF__)
#define NB_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NB_CLONES
#endif

/* GCC's vector extensions as the fast kernels use them (__builtin_shuffle among others, which
   clang lacks): with other compilers those kernels give way to the portable loops and BLAS. */
#if defined(__GNUC__) && !defined(__clang__)
#define NB_GCC_VECTORS 1
#endif

/* Non-zero: the kernels take their portable loops even where vector ones exist (set by the
   tests, tests/portable.c, to cover both). */
extern int nb__vrows_off;

#define NB_TRY(expr)                  \
    do {                              \
        nb_status nb_try_ = (expr);   \
        if (nb_try_ != NB_OK)         \
            return nb_try_;           \
    } while (0)

/* NB_ERR_NULL for a NULL tensor or data, NB_ERR_SHAPE for an empty one, NB_ERR_OVERFLOW if its
   byte size does not fit size_t. */
nb_status nb__check_tensor(const nb_tensor *t);
/* As nb__check_tensor, then NB_ERR_SHAPE unless t is rows x cols. */
nb_status nb__check_shape(const nb_tensor *t, size_t rows, size_t cols);
/* True if the memory of a and b overlaps (either may be NULL: no overlap). */
bool nb__overlap(const nb_tensor *a, const nb_tensor *b);
/* NB_ERR_OVERFLOW if any dimension does not fit the BLAS integer type. */
nb_status nb__check_blas_dims(size_t a, size_t b, size_t c);

/* 64-byte aligned, zero-filled allocation of n floats (NULL on failure or overflow). */
float *nb__alloc_floats(size_t n);

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
void nb__act_bwd(nb_act act, const float *A, float *G, size_t rows, size_t cols);
double nb__loss_fwd(nb_loss kind, const float *Y, const float *T, size_t rows, size_t cols);
void nb__loss_bwd(nb_loss kind, const float *Y, const float *T, float *G, size_t rows, size_t cols);
void nb__sgd(float *P, const float *dP, size_t n, float lr);

static inline bool nb__act_valid(nb_act a) { return (unsigned)a < (unsigned)NB_ACT_COUNT; }
static inline bool nb__loss_valid(nb_loss l) { return (unsigned)l < (unsigned)NB_LOSS_COUNT; }

#endif
