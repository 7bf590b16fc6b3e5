/* The class of a row of outputs: the one argmax of the library (evaluation, the CLI). */
#include "kernels/kernels.h"

size_t nb_argmax(const float *v, size_t n)
{
    size_t k = 0;
    if (!v)
        return 0;
    for (size_t j = 1; j < n; j++)
        if (v[j] > v[k])
            k = j;
    return k;
}

size_t nb_class_of(const float *y, size_t n)
{
    if (!y || n == 0)
        return 0;
    return n == 1 ? (size_t)(y[0] >= 0.5f) : nb_argmax(y, n);
}
