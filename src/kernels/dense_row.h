/* The dense layer's few-rows path (dense_row.c): a row or a few through a layer without a BLAS
   call and without repacking W, for single-row inference (a surrogate called inside a solver
   loop), whatever OpenBLAS kernel set is in use. */
#ifndef NB_KERNELS_DENSE_ROW_H
#define NB_KERNELS_DENSE_ROW_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/kernels.h"

#ifdef NB_GCC_VECTORS
#define NB_HAVE_ROW_PATH 1
#endif

/* One row always takes the row path (nb__dense_fwd); up to NB_ROW_MAX rows do while W has at
   most NB_ROW_MAX_W floats (each row reads all of W, which must then stay in cache): the
   crossover that nablas-bench-kernels --row-crossover measures against the small path and
   sgemm. */
enum { NB_ROW_MAX = 4, NB_ROW_MAX_W = 65536 };

/* True if a batch x in x out product takes the row path. */
bool nb__dense_row(size_t batch, size_t in, size_t out);
/* Z = X W (+ b), through ReLU if relu_out: each element summed over the inner dimension in
   order from zero (fused multiply-adds where the vector ISA has them), then the bias added (a
   single output: a dot product in 16 lanes, then the lanes in order); each row on its own, so
   a row gives the same bits alone as in a batch of up to NB_ROW_MAX. */
void nb__row_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                 size_t in, size_t out, bool relu_out);

#endif
