/* Inverted dropout: a kept element is scaled by 1 / (1 - p), a dropped one becomes 0
   (torch.nn.Dropout in training).  The mask is a pure function of (key, element index): a
   counter-based hash (the splitmix64 finaliser), so backward regenerates the forward's mask
   instead of storing it, nothing is allocated, and a resumed run draws the same masks. */
#include <math.h>
#include <stdint.h>

#include "kernels/kernels.h"

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

void nb__dropout_fwd(const float *A, float *D, size_t n, float p, uint64_t key, size_t first)
{
    uint64_t thr = threshold(p);
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        D[i] = kept(key, first + i, thr) ? A[i] * scale : 0.0f;
}

void nb__dropout_bwd(float *G, size_t n, float p, uint64_t key, size_t first)
{
    uint64_t thr = threshold(p);
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        G[i] = kept(key, first + i, thr) ? G[i] * scale : 0.0f;
}
