/* The plain loop a user would write for one row (built -O3 -march=native like the other naive
   baselines): z = b + sum_i x_i W_i, row by row of W, then the activation with libm. */
#include <math.h>

#include "latency_peers.h"

void lat_plain_run(const lat_net *n, const float *x, float *y, float *scratch)
{
    size_t wmax = 0;
    for (size_t l = 0; l <= n->n_layers; l++)
        wmax = n->width[l] > wmax ? n->width[l] : wmax;
    const float *in = x;
    for (size_t l = 0; l < n->n_layers; l++) {
        size_t ni = n->width[l], no = n->width[l + 1];
        float *z = l + 1 == n->n_layers ? y : scratch + (l & 1) * wmax;
        const float *W = n->W[l];
        for (size_t j = 0; j < no; j++)
            z[j] = n->b[l][j];
        for (size_t i = 0; i < ni; i++)
            for (size_t j = 0; j < no; j++)
                z[j] += in[i] * W[i * no + j];
        switch (n->act[l]) {
        case NB_ACT_RELU:
            for (size_t j = 0; j < no; j++)
                z[j] = z[j] > 0.0f ? z[j] : 0.0f;
            break;
        case NB_ACT_TANH:
            for (size_t j = 0; j < no; j++)
                z[j] = tanhf(z[j]);
            break;
        default: /* identity: the only other activation these networks use */
            break;
        }
        in = z;
    }
}
