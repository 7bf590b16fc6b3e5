/* Mixed-precision dense products: bf16 inputs, fp32 accumulation and outputs, through oneDNN's
   matmul (built with -Ddnnl; docs/performance.md). The network's master weights, gradient
   sums, losses and the optimizer stay in fp32; only the three products of each dense layer
   see bf16 copies of their inputs, rounded to nearest even. */
#ifndef NB_KERNELS_DENSE_BF16_H
#define NB_KERNELS_DENSE_BF16_H

#include <stdint.h>

#include "kernels/kernels.h"

typedef struct nb__bf16 nb__bf16;

/* NB_OK if bf16 products can run here; NB_ERR_UNSUPPORTED if the library was built without
   oneDNN, NB_ERR_CPU if the CPU lacks AVX512-BF16 (checked with cpuid, never by trying). */
nb_status nb__bf16_available(void);

/* A context for layers l = 0 .. n_layers-1 mapping width[l] to width[l + 1] features. */
nb_status nb__bf16_create(nb__bf16 **out, const size_t *width, size_t n_layers);
void nb__bf16_free(nb__bf16 *h); /* NULL is a no-op */
/* Makes ready what batches of `batch` rows need (oneDNN primitives for the current thread
   limit, bf16 buffers): afterwards the kernels below allocate nothing for that batch size. */
nb_status nb__bf16_prepare(nb__bf16 *h, size_t batch);

/* The dense kernels of kernels.h for layer l, in fp32 when h is NULL and with bf16 products
   otherwise: the one precision branch of the step path. A batch size that was not prepared
   falls back to fp32 (the checked entry points always prepare). */
void nb__dense_act_fwd_p(nb__bf16 *h, size_t l, const float *X, const float *W, const float *b,
                         float *Z, size_t batch, size_t in, size_t out, nb_act act);
void nb__dense_dx_p(nb__bf16 *h, size_t l, const float *G, const float *W, float *dX,
                    size_t batch, size_t in, size_t out);
void nb__dense_update_p(nb__bf16 *h, size_t l, const float *X, const float *G, float *W,
                        float *b, size_t batch, size_t in, size_t out, float lr);
void nb__dense_bwd_p(nb__bf16 *h, size_t l, const float *X, const float *W, const float *G,
                     float *dW, float *db, float *dX, size_t batch, size_t in, size_t out);

/* x rounded to bf16, nearest even (NaN stays NaN, infinities stay): y[i], or with the
   transposing form y[j * rows + i] = x[i * cols + j]. */
void nb__to_bf16(const float *x, uint16_t *y, size_t n);
void nb__to_bf16_t(const float *x, uint16_t *y, size_t rows, size_t cols);

#endif
