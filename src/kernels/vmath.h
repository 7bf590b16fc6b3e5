/* exp and log on GCC vectors of 16 floats, for kernels that work on short rows (softmax and
   softmax cross-entropy over few classes) or need a log per element (BCE): a libm call per
   element or per row costs more than the memory traffic.  Same method and coefficients as
   nb__expf (scalar_exp.h); log is Cephes' logf.  Only for functions that always inline them into
   the cloned kernels (see dense_small.c on -Wpsabi). */
#ifndef NB_KERNELS_VMATH_H
#define NB_KERNELS_VMATH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

#ifdef NB_GCC_VECTORS /* internal.h */
#define NB_HAVE_VMATH 1
#pragma GCC diagnostic ignored "-Wpsabi"

enum { NB_VW = 16 };
typedef float nb_vf __attribute__((vector_size(NB_VW * sizeof(float))));
typedef int32_t nb_vi __attribute__((vector_size(NB_VW * sizeof(float))));
typedef uint32_t nb_vu __attribute__((vector_size(NB_VW * sizeof(float))));
typedef double nb_vd __attribute__((vector_size(NB_VW * sizeof(double))));

/* The row-wise kernels (softmax, its cross-entropy, BCE) on these vectors pay only with
   AVX-512, where one vector is one register and the shuffles are single instructions; the
   AVX2 and baseline clones, which split every vector, measured slower than the scalar loops
   and keep those.  A build with one vector variant (core/base.h) decides at compile time, as
   the clones' CPU would. */
static inline bool nb__vrows_fast(void)
{
#if defined(NB_VECTOR_ISA_AVX512)
    return !nb__vrows_off;
#elif defined(NB_VECTOR_ISA_AVX2) || defined(NB_VECTOR_ISA_BASELINE)
    return false;
#elif defined(__x86_64__) || defined(__i386__)
    return !nb__vrows_off && __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

/* m ? a : b lane by lane, m from a vector comparison (all ones or zero) */
NB_INLINE nb_vf nb__vsel(nb_vi m, nb_vf a, nb_vf b)
{
    return (nb_vf)(((nb_vi)a & m) | ((nb_vi)b & ~m));
}

NB_INLINE nb_vf nb__vsplat(float x) { return (nb_vf){0} + x; }

/* lanes below n: all ones */
NB_INLINE nb_vi nb__vfirst(size_t n)
{
    const nb_vi idx = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    return idx < (int32_t)n;
}

/* 16 floats from p, of which only the first n (<= 16) need exist (p + 16 may pass `end`) */
NB_INLINE nb_vf nb__vload(const float *p, size_t n, const float *end)
{
    nb_vf v = {0};
    if ((size_t)(end - p) >= NB_VW) {
        memcpy(&v, p, sizeof v);
    } else {
        float t[NB_VW] = {0};
        memcpy(t, p, n * sizeof(float));
        memcpy(&v, t, sizeof v);
    }
    return v;
}

/* horizontal max, the result in every lane.  Built from a > b ? a : b, so a
   NaN may be dropped; callers get NaN back from exp(NaN - max) anyway. */
NB_INLINE nb_vf nb__vhmax(nb_vf v)
{
    nb_vf s;
    s = __builtin_shuffle(v, (nb_vi){8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7});
    v = nb__vsel(s > v, s, v);
    s = __builtin_shuffle(v, (nb_vi){4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11});
    v = nb__vsel(s > v, s, v);
    s = __builtin_shuffle(v, (nb_vi){2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13});
    v = nb__vsel(s > v, s, v);
    s = __builtin_shuffle(v, (nb_vi){1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14});
    return nb__vsel(s > v, s, v);
}

typedef double nb_vd8 __attribute__((vector_size(8 * sizeof(double))));
typedef int64_t nb_vl8 __attribute__((vector_size(8 * sizeof(double))));

typedef int64_t nb_vl __attribute__((vector_size(NB_VW * sizeof(double))));

/* lanes of d where the float-lane mask m is set, else 0 */
NB_INLINE nb_vd nb__vsel_d(nb_vi m, nb_vd d)
{
    return (nb_vd)((nb_vl)d & __builtin_convertvector(m, nb_vl));
}

/* sum of 16 doubles (a fixed tree) */
NB_INLINE double nb__vhsum_dd(nb_vd d)
{
    nb_vd8 lo, hi;
    memcpy(&lo, &d, sizeof lo);
    memcpy(&hi, (char *)&d + sizeof lo, sizeof hi);
    lo += hi;
    lo += __builtin_shuffle(lo, (nb_vl8){4, 5, 6, 7, 0, 1, 2, 3});
    lo += __builtin_shuffle(lo, (nb_vl8){2, 3, 0, 1, 6, 7, 4, 5});
    return lo[0] + lo[1];
}

/* sum of the 16 lanes in double (lanes converted exactly) */
NB_INLINE double nb__vhsum_d(nb_vf v) { return nb__vhsum_dd(__builtin_convertvector(v, nb_vd)); }

typedef uint64_t nb_vul __attribute__((vector_size(NB_VW * sizeof(double))));

NB_INLINE nb_vd nb__vsel_dd(nb_vl m, nb_vd a, nb_vd b)
{
    return (nb_vd)(((nb_vl)a & m) | ((nb_vl)b & ~m));
}

/* exp in double on 16 lanes, for x <= 0 (softmax gradients need more than float's accuracy):
   x = k ln2 + r, |r| <= ln2 / 2, Taylor to r^11 (truncation below 3e-14), 2^k in the exponent
   bits.  0 where `under` (lanes that the caller found below -708, by a float comparison:
   one on doubles would be done lane by lane without AVX-512DQ); NaN stays NaN. */
NB_INLINE nb_vd nb__vexp_neg_d(nb_vd x, nb_vi under_f)
{
    nb_vl under = __builtin_convertvector(under_f, nb_vl);
    nb_vd xc = nb__vsel_dd(under, (nb_vd){0} - 708.0, x);
    nb_vd t = xc * 1.4426950408889634 + 6755399441055744.0; /* 1.5 * 2^52: rounds */
    nb_vd k = t - 6755399441055744.0;
    nb_vd r = (xc - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    nb_vd p = (nb_vd){0} + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r * r + r + 1.0;
    /* low bits of t hold k (as in nb__vexpf); unsigned, so NaN lanes cannot overflow */
    nb_vul bits = ((nb_vul)t - 0x4338000000000000u + 1023u) << 52;
    return nb__vsel_dd(under, (nb_vd){0}, p * (nb_vd)bits);
}

/* The core that exp and expm1 share, for x in [-87.33, 88]: x = k ln2 + r with |r| <= ln2 / 2,
   returns expm1(r) (the exp polynomial without its 1, accurate relative to r) and sets *scale
   to 2^k from the exponent bits (0 at k = -127). */
NB_INLINE nb_vf nb__vexpm1_reduced(nb_vf x, nb_vf *scale)
{
    nb_vf t = x * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: rounds to an integer */
    nb_vf k = t - 12582912.0f;
    nb_vf r = x - k * 0.693359375f + k * 2.12194440e-4f;
    nb_vf p = 1.9875691500e-4f * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    /* unsigned bit arithmetic: NaN lanes hold garbage here, and must not overflow */
    *scale = (nb_vf)(((nb_vu)t - 0x4B400000u + 127u) << 23);
    return p * r * r + r;
}

/* nb__expf on every lane: 0 below -87.33, NaN stays NaN */
NB_INLINE nb_vf nb__vexpf(nb_vf x)
{
    nb_vi under = x < -87.33f;
    nb_vf xc = nb__vsel(under, nb__vsplat(-87.33f), x);
    xc = nb__vsel(xc > 88.0f, nb__vsplat(88.0f), xc);
    nb_vf scale, em1 = nb__vexpm1_reduced(xc, &scale);
    return nb__vsel(under, (nb_vf){0}, (em1 + 1.0f) * scale);
}

/* natural log of every lane for finite x > 0, including subnormals (about 1 ulp); other x
   give garbage, see nb__vlogf */
NB_INLINE nb_vf nb__vlogf_pos(nb_vf x)
{
    nb_vi sub = x < 1.17549435e-38f; /* subnormal: scale by 2^23 first */
    nb_vf xs = nb__vsel(sub, x * 8388608.0f, x);
    nb_vu bits = (nb_vu)xs;
    /* exponent and mantissa as frexp gives them: m in [0.5, 1), x = m 2^e */
    nb_vi e = (nb_vi)((bits >> 23) & 0xffu) - 126 - (sub & 23);
    nb_vf m = (nb_vf)((bits & 0x007fffffu) | 0x3f000000u);
    nb_vi lo = m < 0.707106781186547524f; /* m < sqrt(1/2): use 2m, e - 1 */
    e += lo; /* lo is -1 where true */
    m = nb__vsel(lo, m + m, m) - 1.0f;
    nb_vf fe = __builtin_convertvector(e, nb_vf);
    nb_vf z = m * m;
    nb_vf y = 7.0376836292e-2f * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return m + y + 0.693359375f * fe;
}

/* natural log of every lane: log(0) = -inf, +inf gives +inf, a negative or NaN x gives NaN */
NB_INLINE nb_vf nb__vlogf(nb_vf x)
{
    nb_vf r = nb__vlogf_pos(x);
    const nb_vf inf = nb__vsplat(__builtin_inff());
    r = nb__vsel(x == 0.0f, -inf, r);
    r = nb__vsel(x == inf, inf, r);
    return nb__vsel(x < 0.0f, nb__vsplat(__builtin_nanf("")), nb__vsel(x == x, r, x));
}

#endif
#endif
