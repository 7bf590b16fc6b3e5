/* Gradient clipping by the global L2 norm, torch.nn.utils.clip_grad_norm_'s definition. */
#include <math.h>

#include "optim/optim.h"

enum { LANES = 32 };

/* Sum of squares in double: 32 independent accumulators (four AVX-512 vectors of doubles, so
   that four add chains hide the add latency) let the loop vectorise without reassociating
   anything: the result is the same on every clone. */
NB_CLONES
static double sum_squares(const float *restrict g, size_t n)
{
    double acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (size_t j = 0; j < LANES; j++)
            acc[j] += (double)g[i + j] * (double)g[i + j];
    for (size_t j = 0; i < n; i++, j++)
        acc[j] += (double)g[i] * (double)g[i];
    for (size_t w = LANES / 2; w > 0; w /= 2) /* a fixed tree */
        for (size_t j = 0; j < w; j++)
            acc[j] += acc[j + w];
    return acc[0];
}

NB_CLONES
static void scale(float *restrict g, size_t n, float c)
{
    for (size_t i = 0; i < n; i++)
        g[i] *= c;
}

nb_status nb_clip_grad_norm(float *grads, size_t n, double max_norm, double *total_norm)
{
    if (!grads)
        return NB_ERR_NULL;
    if (n == 0 || !isfinite(max_norm) || max_norm <= 0.0)
        return NB_ERR_ARG;
    double total = sqrt(sum_squares(grads, n));
    if (total_norm)
        *total_norm = total;
    if (!isfinite(total))
        return NB_ERR_NONFINITE;
    double coef = max_norm / (total + 1e-6);
    if (coef < 1.0)
        scale(grads, n, (float)coef);
    return NB_OK;
}
