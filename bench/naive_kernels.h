/* Each kernel written the plain way a user would (float loops, libm calls), the baseline of
   the "naive" column of nablas-bench-kernels. */
#ifndef NB_BENCH_NAIVE_KERNELS_H
#define NB_BENCH_NAIVE_KERNELS_H

#include "nablas.h"

void naive_dense_fwd(const float *X, const float *W, const float *b, float *Z,
                     size_t batch, size_t in, size_t out);
void naive_dense_bwd(const float *X, const float *W, const float *G, float *dW, float *db,
                     float *dX, size_t batch, size_t in, size_t out);
void naive_act_fwd(nb_act act, float *Z, size_t rows, size_t cols);
void naive_act_bwd(nb_act act, const float *Z, const float *A, float *G, size_t rows, size_t cols);
float naive_loss_fwd(nb_loss kind, const float *Y, const float *T, size_t rows, size_t cols);
void naive_loss_bwd(nb_loss kind, const float *Y, const float *T, float *G, size_t rows,
                    size_t cols);
void naive_sgd(float *P, const float *dP, size_t n, float lr);

#endif
