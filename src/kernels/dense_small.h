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
