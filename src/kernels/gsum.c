/* Sums of gradient buffers (the batch split of the training step adds its parts' buffers). */
#include "kernels/kernels.h"

NB_CLONES
void nb__vadd(float *restrict a, const float *restrict b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] += b[i];
}
