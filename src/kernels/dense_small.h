/* The dense layer's own small-size kernels (dense_small.c), used instead of sgemm below the
   crossover measured with nablas-bench-kernels (docs/performance.md). */
#ifndef NB_KERNELS_DENSE_SMALL_H
#define NB_KERNELS_DENSE_SMALL_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/kernels.h"

/* The small path is written on GCC's vector extensions; elsewhere BLAS does everything. */
#ifdef NB_GCC_VECTORS
#define NB_HAVE_SMALL_PATH 1
#endif

enum {
    NB_SMALL_CW = 16,        /* widest panel: one AVX-512 register (narrow layers use 8 or 4) */
    NB_SMALL_MAX_W = 4096,   /* padded in * out: the stack buffers of the kernels */
    NB_SMALL_MAX_MNK = 65536 /* batch * in * out: above this sgemm is faster */
};

/* One row always takes the few-rows path (nb__dense_fwd); up to NB_ROW_MAX rows do while W has
   at most NB_ROW_MAX_W floats (each row reads all of W, which must then stay in cache) and
   OpenBLAS runs AVX2 or older kernels (its AVX-512 sgemm wins from two rows on): the crossover
   nablas-bench-kernels --row-crossover measures against the small path and sgemm. */
enum { NB_ROW_MAX = 4, NB_ROW_MAX_W = 65536 };

/* True if a batch x in x out product takes the few-rows path: W read where it lies, nothing
   packed, no BLAS call, so single-row inference does not depend on the BLAS kernel set. */
bool nb__dense_row(size_t batch, size_t in, size_t out);
/* Z = X W (+ b), through ReLU if relu_out, row by row: each element as nb__small_fwd computes
   it, so a row gives the same bits on either path (and alone or in any batch they take). */
void nb__row_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                 size_t in, size_t out, bool relu_out);

/* True if a batch x in x out layer takes the small path. */
bool nb__dense_small(size_t batch, size_t in, size_t out);
/* Z = X W (+ b), through ReLU if relu_out. */
void nb__small_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                   size_t in, size_t out, bool relu_out);
/* dX = G W^T. */
void nb__small_dx(const float *G, const float *W, float *dX, size_t batch, size_t in, size_t out);
/* C = alpha X^T G, or C += alpha X^T G if accumulate (the fused SGD update with -lr). */
void nb__small_xtg(const float *X, const float *G, float *C, size_t batch, size_t in, size_t out,
                   float alpha, bool accumulate);
/* Column sums of G (batch x out) in double: b = sums, or b -= lr * sums if update. */
void nb__small_colsum(const float *G, size_t batch, size_t out, float *b, float lr, bool update);

#endif
