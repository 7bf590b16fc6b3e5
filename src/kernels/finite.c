/* Finiteness of a whole buffer, for the training step's non-finite stop. */
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

enum { EXP_MASK = 0x7f800000u, BLOCK = 4096 };

/* A float is NaN or +-Inf exactly when its exponent bits are all ones: an integer max over the
   exponent fields is a reduction the compiler vectorises (a float sum would not be reordered). */
NB_CLONES
bool nb__all_finite(const float *restrict v, size_t n)
{
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) { /* blocks: a failed long buffer stops early */
        size_t end = n - i0 < BLOCK ? n : i0 + BLOCK;
        uint32_t top = 0;
        for (size_t i = i0; i < end; i++) {
            uint32_t u;
            memcpy(&u, v + i, sizeof u);
            u &= EXP_MASK;
            top = u > top ? u : top;
        }
        if (top == EXP_MASK)
            return false;
    }
    return true;
}
