/* Near-equal slices of a batch: the one rule the batch split and MPI ranks share. */
#include "core/base.h"

void nb__slice(size_t n, size_t part, size_t parts, size_t *lo, size_t *hi)
{
    size_t q = n / parts, r = n % parts;
    *lo = part * q + (part < r ? part : r);
    *hi = *lo + q + (part < r);
}
