/* The kernels over flat buffers (kernels/flat_t.h) for float and double: the SGD step, sums of
   gradient buffers, inverted dropout, the finiteness check, argmax; and nb_sgd_step. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

enum { FINITE_BLOCK = 4096 };

/* Dropout's mask is a pure function of (key, element index): a counter-based hash (the
   splitmix64 finaliser), so backward regenerates the forward's mask instead of storing it,
   nothing is allocated, and a resumed run draws the same masks (torch.nn.Dropout in
   training draws its own: the tests check the mask's statistics, not torch's). */
static inline uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

uint64_t nb__dropout_key(uint64_t seed, uint64_t step, uint64_t layer)
{
    return mix(mix(seed ^ 0x64726f706f7574u) + mix(step + 1) * 0x9e3779b97f4a7c15u + layer);
}

/* Element i is kept when the top 32 bits of its hash reach the threshold round(p * 2^32):
   the kept fraction is 1 - p to within 2^-33. */
static inline uint64_t threshold(float p) { return (uint64_t)llround((double)p * 4294967296.0); }
static inline bool kept(uint64_t key, size_t i, uint64_t thr)
{
    return (mix(key + (uint64_t)i * 0x9e3779b97f4a7c15u) >> 32) >= thr;
}

#define NB_PREC 32
#include "kernels/flat_t.h"
#define NB_PREC 64
#include "kernels/flat_t.h"

nb_status nb_sgd_step(nb_tensor *P, const nb_tensor *dP, float lr)
{
    if (P && nb_tensor_dtype(P) == NB_F64)
        return nb_sgd_step_f64(P, dP, lr);
    NB_TRY(nb__check_tensor(P));
    NB_TRY(nb__check_tensor(dP));
    if (!isfinite(lr) || lr < 0.0f)
        return NB_ERR_ARG;
    NB_TRY(nb__check_shape(dP, P->rows, P->cols));
    if (nb__overlap(P, dP))
        return NB_ERR_ALIAS;
    nb__sgd(P->data, dP->data, P->rows * P->cols, lr);
    return NB_OK;
}

nb_status nb_sgd_step_f64(nb_tensor *P, const nb_tensor *dP, double lr)
{
    NB_TRY(nb__check_tensor_as(P, NB_F64));
    NB_TRY(nb__check_tensor_as(dP, NB_F64));
    if (!isfinite(lr) || lr < 0.0)
        return NB_ERR_ARG;
    NB_TRY(nb__check_shape_as(dP, P->rows, P->cols, NB_F64));
    if (nb__overlap(P, dP))
        return NB_ERR_ALIAS;
    nb__sgd_f64(P->data64, dP->data64, P->rows * P->cols, lr);
    return NB_OK;
}
