/* exp for float written without calls or branches, so that loops using it vectorise (libm's
   expf is a call per element).  Range reduction x = k ln2 + r with |r| <= ln2 / 2 (ln2 split in
   two parts so k ln2 is exact), a degree-6 polynomial for exp(r) (Cephes' coefficients), and
   2^k built in the exponent bits.  Relative error about 2 ulp on [-87.3, 88]; 0 below -87.33
   (where exp is subnormal or 0: the callers' sigmoid and softmax only need it small). */
#ifndef NB_KERNELS_SCALAR_EXP_H
#define NB_KERNELS_SCALAR_EXP_H

#include <stdint.h>
#include <string.h>

static inline float nb__expf(float x)
{
    float xc = x < -87.33f ? -87.33f : (x > 88.0f ? 88.0f : x);
    float t = xc * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: rounds to an integer */
    float k = t - 12582912.0f;
    int32_t ki;
    memcpy(&ki, &t, sizeof ki);
    ki -= 0x4B400000; /* the integer k itself */
    float r = xc - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* unsigned: a NaN x makes ki garbage, and a signed overflow here would be undefined
       (found by the model-loader fuzzer); for finite x this is the same exponent */
    uint32_t bits = ((uint32_t)ki + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.33f ? 0.0f : p * scale;
}

#endif
