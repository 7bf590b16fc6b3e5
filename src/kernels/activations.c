/* Activation kernels over a whole batch, and their derivatives: the float32 ones here (with
   their vector paths), the float64 ones from kernels/act_t.h (libm).  Sigmoid never overflows
   (exp of a non-positive number only); softmax subtracts each row's maximum (except where no
   exp can overflow or underflow without it: softmax_short_rows).  GELU, SiLU, softplus and ELU: see
   the numerics notes at their kernels below and docs/numerics.md. */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/scalar_exp.h"
#include "kernels/vmath.h"

/* a * b + c as one fused multiply-add in the polynomials (ISO C mode leaves contraction off) */
#ifdef NB_GCC_VECTORS
#pragma GCC optimize("fp-contract=fast")
#endif

#define LEAKY_SLOPE 0.01f
#define LEAKY_SLOPE_D 0.01 /* the same slope: (float)0.01 == 0.01f */

/* the derivatives from A alone, float and double alike */
#define NB_PREC 32
#include "kernels/act_bwd_a_t.h"
#define NB_PREC 64
#include "kernels/act_bwd_a_t.h"

/* tests/portable.c sets it: the kernel tests then cover both paths (vmath.h) */
int nb__vrows_off;

static inline float sigmoidf(float z)
{
    float e = nb__expf(-fabsf(z)); /* in [0, 1]: no overflow for any z */
    float r = 1.0f / (1.0f + e);
    return z >= 0.0f ? r : e * r;
}

/* tanh without a libm call, so the loop vectorises: an odd Taylor polynomial to z^9 where
   |z| < 0.2 (truncation below 2e-10 relative), elsewhere sign(z) (1 - 2 / (exp(2|z|) + 1)),
   whose cancellation costs at most a few ulp there; saturates to +-1 exactly. */
static inline float tanh_f(float z)
{
    float a = fabsf(z), z2 = z * z;
    float small = z + z * z2 * (-1.0f / 3.0f + z2 * (2.0f / 15.0f + z2 * (-17.0f / 315.0f
                                                        + z2 * (62.0f / 2835.0f))));
    float e = nb__expf(2.0f * (a < 44.0f ? a : 44.0f));
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = z < 0.0f ? -big : big;
    return a < 0.2f ? small : (a >= 0.2f ? big : z); /* NaN stays NaN */
}


#define SQRT1_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794
#define GELU_B 0.79788456080286535588 /* sqrt(2 / pi) */
#define GELU_K 0.044715
#define SOFTPLUS_THRESHOLD 20.0f

/* The scalar forms (vector tails, and builds without GCC's vectors) through libm in double:
   accurate to the float rounding everywhere, tails included. */
static inline float gelu_s(float z)
{
    double x = z;
    return (float)(0.5 * x * erfc(-x * SQRT1_2));
}

static inline float gelu_tanh_s(float z) /* z sigmoid(2u) = z (1 + tanh u) / 2, no cancellation */
{
    double x = z, u = GELU_B * (x + GELU_K * x * x * x);
    return (float)(x / (1.0 + exp(-2.0 * u)));
}

static inline float silu_s(float z)
{
    double x = z;
    return (float)(x / (1.0 + exp(-x)));
}

static inline float softplus_s(float z)
{
    return z > SOFTPLUS_THRESHOLD ? z : (float)log1p(exp((double)z));
}

static inline float elu_s(float z) { return z > 0.0f ? z : expm1f(z); }

/* Their derivatives: 1 - sigmoid(v) is taken as sigmoid(-v), never by a subtraction. */
static inline float gelu_d(float z)
{
    double x = z;
    return (float)(0.5 * erfc(-x * SQRT1_2) + x * exp(-0.5 * x * x) * INV_SQRT_2PI);
}

static inline float gelu_tanh_d(float z)
{
    double x = z, u = GELU_B * (x + GELU_K * x * x * x);
    double s = 1.0 / (1.0 + exp(-2.0 * u)), oms = 1.0 / (1.0 + exp(2.0 * u));
    return (float)(s + 2.0 * x * GELU_B * (1.0 + 3.0 * GELU_K * x * x) * s * oms);
}

static inline float silu_d(float z)
{
    double x = z, s = 1.0 / (1.0 + exp(-x)), oms = 1.0 / (1.0 + exp(x));
    return (float)(s * (1.0 + x * oms));
}

/* from A = softplus(z): sigmoid(z) = 1 - exp(-A); 1 above the threshold, as PyTorch */
static inline float softplus_d(float a) { return a > SOFTPLUS_THRESHOLD ? 1.0f : -expm1f(-a); }

/* from Z: exp(z) where z <= 0 (A + 1 would lose exp(z)'s relative accuracy for z << 0) */
static inline float elu_d(float z) { return z > 0.0f ? 1.0f : (float)exp((double)z); }

#ifdef NB_HAVE_VMATH
NB_INLINE nb_vf vsigmoid(nb_vf z)
{
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vf e = nb__vexpf(-a);
    nb_vf r = 1.0f / (1.0f + e);
    return nb__vsel(z >= 0.0f, r, e * r);
}

/* tanh |z| = -em1 / (2 + em1) with em1 = expm1(-2 |z|), then z's sign.  expm1 shares
   nb__vexpf's reduction: with x = k ln2 + r, em1 = 2^k expm1(r) + (2^k - 1), where expm1(r) is
   the exp polynomial without its 1 (accurate relative to r for small z, where k = 0; no
   cancellation elsewhere).  |z| is clamped at 44 (tanh = 1 in float; 2^k then underflows to 0,
   so em1 = -1).  One exp and one division, no separate small-|z| polynomial. */
NB_INLINE nb_vf vtanh(nb_vf z)
{
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vf x = -2.0f * nb__vsel(a > 44.0f, nb__vsplat(44.0f), a); /* NaN stays NaN */
    nb_vf scale, p = nb__vexpm1_reduced(x, &scale); /* k in [-127, 0] */
    nb_vf em1 = scale * p + (scale - 1.0f);
    nb_vf th = (0.0f - em1) / (2.0f + em1); /* 0 - em1: +0, not -0, at z = 0 */
    return (nb_vf)((nb_vu)th | ((nb_vu)z & 0x80000000u)); /* th >= 0 (or NaN) */
}


/* GELU: z Phi(z) with Phi(z) = erfc(-z / sqrt 2) / 2, and erfc(x) for x >= 0 as Numerical
   Recipes' erfcc, t exp(-x^2 + P(t)) with t = 1 / (1 + x / 2): relative error at most 1.05e-7
   for x in [0, 20] (checked against libm), one formula for every x, so the negative tail,
   where z Phi(z) is tiny, keeps its relative accuracy (1 - erf(x) would cancel).  In double:
   exp(-x^2) of a float x^2 would lose x^2 ulp (1e-5 at z = -13).  Phi = 1 - erfc / 2 for
   z >= 0.  |z| > 37: exp(-x^2) is 0 (nb__vexp_neg_d's underflow). */
NB_INLINE nb_vf vgelu(nb_vf z)
{
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vd zd = __builtin_convertvector(z, nb_vd);
    nb_vd x = __builtin_convertvector(a, nb_vd) * SQRT1_2;
    nb_vd t = 1.0 / (1.0 + 0.5 * x);
    nb_vd p = 0.17087277 * t - 0.82215223;
    p = p * t + 1.48851587;
    p = p * t - 1.13520398;
    p = p * t + 0.27886807;
    p = p * t - 0.18628806;
    p = p * t + 0.09678418;
    p = p * t + 0.37409196;
    p = p * t + 1.00002368;
    p = p * t - 1.26551223;
    /* masks from the float bits (see vsoftplus); -0 takes the z < 0 side: Phi = 1/2 either way */
    nb_vi zi = (nb_vi)z;
    nb_vd half_erfc = 0.5 * t * nb__vexp_neg_d(p - x * x, (nb_vi)a > 0x42140000 /* 37.0f */);
    nb_vd phi = nb__vsel_dd(__builtin_convertvector(zi < 0, nb_vl), half_erfc, 1.0 - half_erfc);
    return __builtin_convertvector(zd * phi, nb_vf);
}

/* sigmoid(v) and 1 - sigmoid(v) of doubles v, each without cancellation; neg_f: the float
   lanes where v < 0 (-0 may be either), under: where |v| is beyond exp's range (these take
   exp(-|v|) = 0) */
NB_INLINE nb_vd vsigmoid_d(nb_vd v, nb_vi neg_f, nb_vi under, nb_vd *one_minus)
{
    nb_vl neg = __builtin_convertvector(neg_f, nb_vl);
    nb_vd e = nb__vexp_neg_d(nb__vsel_dd(neg, v, -v), under); /* exp(-|v|) */
    nb_vd r = 1.0 / (1.0 + e);
    *one_minus = nb__vsel_dd(neg, r, e * r);
    return nb__vsel_dd(neg, e * r, r);
}

/* GELU, tanh form: z (1 + tanh u) / 2 = z sigmoid(2u), u = sqrt(2/pi) (z + 0.044715 z^3), which
   does not cancel for z < 0.  u in double: its float rounding, times |2u| up to 700 in exp,
   would cost up to 1e-5 in the tail.  |z| > 21: |2u| > 708, exp(-|2u|) = 0. */
NB_INLINE nb_vf vgelu_tanh(nb_vf z)
{
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vd x = __builtin_convertvector(z, nb_vd), oms;
    nb_vd u2 = (2.0 * GELU_B) * (x + GELU_K * x * x * x); /* the sign of z */
    nb_vi under = (nb_vi)a > 0x41a80000; /* 21.0f */
    return __builtin_convertvector(x * vsigmoid_d(u2, (nb_vi)z < 0, under, &oms), nb_vf);
}

/* SiLU: z sigmoid(z) in float (z is exact, so exp(-|z|) keeps nb__vexpf's few ulp) */
NB_INLINE nb_vf vsilu(nb_vf z) { return z * vsigmoid(z); }

/* log1p(y) for y in [0, 1] as log(u) y / (u - 1) with u = 1 + y rounded (Goldberg): the
   division cancels the rounding of u, so small y keep their relative accuracy */
NB_INLINE nb_vf vlog1p_unit(nb_vf y)
{
    nb_vf u = 1.0f + y, d = u - 1.0f;
    nb_vi exact = (nb_vi)d == 0; /* d >= +0: by the bits (see vsoftplus) */
    nb_vf q = nb__vlogf_pos(u) * y / nb__vsel(exact, nb__vsplat(1.0f), d);
    return nb__vsel(exact, y, q);
}

/* softplus: max(z, 0) + log1p(exp(-|z|)) (no overflow, and exp(z) itself for very negative z);
   z above the threshold, as PyTorch.  NaN stays NaN. */
NB_INLINE nb_vf vsoftplus(nb_vf z)
{
    /* the comparisons on the bits: GCC lowered these float ones lane by lane here.  As
       signed integers, floats above +0 order as their values and NaN lies above +inf, so
       NaN takes z (itself) */
    nb_vi zi = (nb_vi)z;
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vf r = nb__vsel(zi > 0, z, (nb_vf){0}) + vlog1p_unit(nb__vexpf(-a));
    return nb__vsel(zi > 0x41a00000 /* 20.0f */, z, r);
}

/* expm1 of x in [-inf, 0] (NaN stays NaN): nb__vexpm1_reduced, as vtanh; -1 below -87 */
NB_INLINE nb_vf vexpm1_neg(nb_vf x)
{
    x = nb__vsel(x < -87.0f, nb__vsplat(-87.0f), x);
    nb_vf scale, p = nb__vexpm1_reduced(x, &scale);
    return scale * p + (scale - 1.0f);
}

/* ELU: z for z > 0, expm1(z) otherwise (accurate relative to z near 0, where exp(z) - 1
   would cancel) */
NB_INLINE nb_vf velu(nb_vf z)
{
    return nb__vsel(z > 0.0f, z, vexpm1_neg(nb__vsel(z > 0.0f, (nb_vf){0}, z)));
}

/* The derivatives, G *= f'.  GELU: Phi(z) + z phi(z), with Phi(z) = A / z (relative to A's
   rounding, so no erfc again; 1/2 where |z| < 1e-10, where A / z may be subnormal noise) and
   phi the normal density in float. */
NB_INLINE nb_vf vgelu_d(nb_vf z, nb_vf A)
{
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vi tiny = (nb_vi)a < 0x2edbe6ff; /* 1e-10f; NaN is not tiny */
    nb_vf cdf = nb__vsel(tiny, nb__vsplat(0.5f), A / nb__vsel(tiny, nb__vsplat(1.0f), z));
    return cdf + z * ((float)INV_SQRT_2PI * nb__vexpf(-0.5f * z * z));
}

/* GELU tanh form: s + 2 z b (1 + 3 k z^2) s (1 - s), s = sigmoid(2u); both sigmoids from one
   exp, 1 - s never by subtraction (it is the whole term for z > 3) */
NB_INLINE nb_vf vgelu_tanh_d(nb_vf z)
{
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vd x = __builtin_convertvector(z, nb_vd), oms;
    nb_vd s = vsigmoid_d((2.0 * GELU_B) * (x + GELU_K * x * x * x), (nb_vi)z < 0,
                         (nb_vi)a > 0x41a80000 /* 21.0f */, &oms);
    nb_vd d = s + (2.0 * GELU_B) * x * (1.0 + (3.0 * GELU_K) * x * x) * s * oms;
    return __builtin_convertvector(d, nb_vf);
}

/* SiLU: s (1 + z (1 - s)), s = sigmoid(z), 1 - s from the same exp */
NB_INLINE nb_vf vsilu_d(nb_vf z)
{
    nb_vf a = (nb_vf)((nb_vu)z & 0x7fffffffu);
    nb_vf e = nb__vexpf(-a);
    nb_vf r = 1.0f / (1.0f + e), er = e * r;
    nb_vi pos = z >= 0.0f;
    return nb__vsel(pos, r, er) * (1.0f + z * nb__vsel(pos, er, r));
}

/* softplus from A: -expm1(-A), 1 above the threshold */
NB_INLINE nb_vf vsoftplus_d(nb_vf A)
{
    return nb__vsel(A > SOFTPLUS_THRESHOLD, nb__vsplat(1.0f), 0.0f - vexpm1_neg(-A));
}

/* ELU from Z: exp(z) where z <= 0 (NaN stays NaN), else 1 */
NB_INLINE nb_vf velu_d(nb_vf z)
{
    return nb__vsel(z > 0.0f, nb__vsplat(1.0f), nb__vexpf(nb__vsel(z > 0.0f, (nb_vf){0}, z)));
}

/* dst[i] = f(src[i]); dst may be src.  Two vectors per iteration (two exp chains overlap),
   each loaded before it is stored; scalar tail. */
#define NB_MAP(S, D, n, vf, sf)                                        \
    do {                                                               \
        size_t i_ = 0;                                                 \
        for (; i_ + 2 * NB_VW <= (n); i_ += 2 * NB_VW) {               \
            nb_vf a_, b_;                                              \
            memcpy(&a_, (S) + i_, sizeof a_);                          \
            memcpy(&b_, (S) + i_ + NB_VW, sizeof b_);                  \
            a_ = vf(a_);                                               \
            b_ = vf(b_);                                               \
            memcpy((D) + i_, &a_, sizeof a_);                          \
            memcpy((D) + i_ + NB_VW, &b_, sizeof b_);                  \
        }                                                              \
        for (; i_ < (n); i_++)                                         \
            (D)[i_] = sf((S)[i_]);                                     \
    } while (0)

/* G[i] *= d(X[i]) (d a derivative from one input: Z or A); vector and scalar tail */
#define NB_SCALE_BY(X, G, n, vd, sd)                                   \
    do {                                                               \
        size_t i_ = 0;                                                 \
        for (; i_ + NB_VW <= (n); i_ += NB_VW) {                       \
            nb_vf x_, g_;                                              \
            memcpy(&x_, (X) + i_, sizeof x_);                          \
            memcpy(&g_, (G) + i_, sizeof g_);                          \
            g_ *= vd(x_);                                              \
            memcpy((G) + i_, &g_, sizeof g_);                          \
        }                                                              \
        for (; i_ < (n); i_++)                                         \
            (G)[i_] *= sd((X)[i_]);                                    \
    } while (0)

/* f over Z in place, two vectors per iteration so that two exp chains overlap; scalar tail */
#define NB_MAP_INPLACE(Z, n, vf, sf)                                   \
    do {                                                               \
        size_t i_ = 0;                                                 \
        for (; i_ + 2 * NB_VW <= (n); i_ += 2 * NB_VW) {               \
            nb_vf a_, b_;                                              \
            memcpy(&a_, (Z) + i_, sizeof a_);                          \
            memcpy(&b_, (Z) + i_ + NB_VW, sizeof b_);                  \
            a_ = vf(a_);                                               \
            b_ = vf(b_);                                               \
            memcpy((Z) + i_, &a_, sizeof a_);                          \
            memcpy((Z) + i_ + NB_VW, &b_, sizeof b_);                  \
        }                                                              \
        for (; i_ < (n); i_++)                                         \
            (Z)[i_] = sf((Z)[i_]);                                     \
    } while (0)

enum { SM_BLOCK = 64 }; /* rows per block of the short-row softmax */

/* Softmax of rows of at most NB_VW columns: a row-by-row loop over so few columns barely
   vectorises, so a block of rows goes in passes over the contiguous block: one exp pass, then
   each row times 1 / its sum (double, one vector per row).  The shift by each row's maximum
   is skipped for a block whose values all lie in [-80, 80]: no exp there overflows or is
   subnormal, and softmax does not depend on the shift, so only the rounding differs (less:
   z - max would itself be rounded).  Other blocks (large values, inf, NaN) take the shift. */
NB_INLINE void softmax_short_rows(float *Z, size_t rows, size_t cols)
{
    float sh[SM_BLOCK * NB_VW + NB_VW], last[NB_VW];
    const float *end = Z + rows * cols;
    nb_vi in_row = nb__vfirst(cols);
    const nb_vf ninf = nb__vsplat(-__builtin_inff());
    for (size_t r0 = 0; r0 < rows; r0 += SM_BLOCK) {
        size_t nr = rows - r0 < SM_BLOCK ? rows - r0 : SM_BLOCK, n = nr * cols;
        float *zb = Z + r0 * cols;
        /* the largest |z| bit pattern: unsigned, NaN and inf compare above any finite value */
        nb_vu amax = {0};
        for (size_t i = 0; i < n; i += NB_VW) { /* exp unshifted, kept if the block allows */
            /* lanes past the block may hold the next block's values: at worst a false alarm */
            nb_vf v = nb__vload(zb + i, n - i < NB_VW ? n - i : NB_VW, end);
            nb_vu a = (nb_vu)v & 0x7fffffffu;
            amax = (nb_vu)nb__vsel(a > amax, (nb_vf)a, (nb_vf)amax);
            v = nb__vexpf(v);
            memcpy(sh + i, &v, sizeof v);
        }
        bool safe = true;
        for (int l = 0; l < NB_VW; l++)
            safe &= amax[l] <= 0x42a00000u; /* 80.0f */
        if (!safe) { /* Z's block is still intact: redo with each row's maximum */
            for (size_t r = 0; r < nr; r++) {
                nb_vf v = nb__vsel(in_row, nb__vload(zb + r * cols, cols, end), ninf);
                v -= nb__vhmax(v);
                memcpy(sh + r * cols, &v, sizeof v);
            }
            for (size_t i = 0; i < n; i += NB_VW) {
                nb_vf v;
                memcpy(&v, sh + i, sizeof v);
                v = nb__vexpf(v);
                memcpy(sh + i, &v, sizeof v);
            }
        }
        /* the last row's vector reaches past n: defined (and masked off below) */
        memset(sh + n, 0, NB_VW * sizeof(float));
        /* Z's block is no longer read: whole-vector stores may run into the rows after, but
           not past the block (the next block's input) */
        for (size_t r = 0; r < nr; r++) {
            nb_vf e;
            memcpy(&e, sh + r * cols, sizeof e);
            e = nb__vsel(in_row, e, (nb_vf){0});
            e /= (float)nb__vhsum_d(e); /* a division: a lone column gives exactly 1 */
            if (r * cols + NB_VW <= n) {
                memcpy(zb + r * cols, &e, sizeof e);
            } else {
                memcpy(last, &e, sizeof e);
                memcpy(zb + r * cols, last, cols * sizeof(float));
            }
        }
    }
}

/* Softmax backward on rows of at most NB_VW columns, one row per vector (see above). */
NB_INLINE void softmax_bwd_short_rows(const float *A, float *G, size_t rows, size_t cols)
{
    float out[SM_BLOCK * NB_VW + NB_VW];
    const float *a_end = A + rows * cols, *g_end = G + rows * cols;
    nb_vi in_row = nb__vfirst(cols);
    for (size_t r0 = 0; r0 < rows; r0 += SM_BLOCK) {
        size_t nr = rows - r0 < SM_BLOCK ? rows - r0 : SM_BLOCK;
        for (size_t r = 0; r < nr; r++) {
            size_t off = (r0 + r) * cols;
            nb_vf a = nb__vload(A + off, cols, a_end), g = nb__vload(G + off, cols, g_end);
            /* products exact in double, as the row loop sums them */
            nb_vd ad = __builtin_convertvector(a, nb_vd), gd = __builtin_convertvector(g, nb_vd);
            nb_vf d = nb__vsplat((float)nb__vhsum_dd(nb__vsel_d(in_row, ad * gd)));
            g = a * (g - d);
            memcpy(out + r * cols, &g, sizeof g);
        }
        memcpy(G + r0 * cols, out, nr * cols * sizeof(float));
    }
}
#endif

#ifdef NB_HAVE_VMATH
#define ACT_MAP(S, D, n, vf, sf) NB_MAP(S, D, n, vf, sf)
#define ACT_SCALE(X, G, n, vd, sd) NB_SCALE_BY(X, G, n, vd, sd)
#else
#define ACT_MAP(S, D, n, vf, sf)           \
    do {                                   \
        for (size_t i_ = 0; i_ < (n); i_++) \
            (D)[i_] = sf((S)[i_]);         \
    } while (0)
#define ACT_SCALE(X, G, n, vd, sd)         \
    do {                                   \
        for (size_t i_ = 0; i_ < (n); i_++) \
            (G)[i_] *= sd((X)[i_]);        \
    } while (0)
#endif

/* inlined, so that the short-row path is compiled for each clone of nb__act_fwd */
static inline __attribute__((always_inline)) void softmax_rows(float *Z, size_t rows, size_t cols)
{
#ifdef NB_HAVE_VMATH
    if (cols <= NB_VW && nb__vrows_fast()) {
        softmax_short_rows(Z, rows, cols);
        return;
    }
#endif
    for (size_t i = 0; i < rows; i++) {
        float *z = Z + i * cols;
        float m = z[0];
        for (size_t j = 1; j < cols; j++)
            m = z[j] > m ? z[j] : m;
        for (size_t j = 0; j < cols; j++) /* vectorised */
            z[j] = nb__expf(z[j] - m);
        double s = 0.0;
        for (size_t j = 0; j < cols; j++)
            s += z[j];
        float inv = (float)(1.0 / s);
        for (size_t j = 0; j < cols; j++)
            z[j] *= inv;
    }
}

NB_CLONES
void nb__act_fwd(nb_act act, float *restrict Z, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (act) {
    case NB_ACT_IDENTITY:
        break;
    case NB_ACT_RELU: /* as PyTorch: NaN stays NaN, -0 stays -0 */
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] < 0.0f ? 0.0f : Z[i];
        break;
    case NB_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 0.0f ? Z[i] : LEAKY_SLOPE * Z[i];
        break;
    case NB_ACT_SIGMOID:
#ifdef NB_HAVE_VMATH
        NB_MAP_INPLACE(Z, n, vsigmoid, sigmoidf);
#else
        for (size_t i = 0; i < n; i++)
            Z[i] = sigmoidf(Z[i]);
#endif
        break;
    case NB_ACT_TANH:
#ifdef NB_HAVE_VMATH
        NB_MAP_INPLACE(Z, n, vtanh, tanh_f);
#else
        for (size_t i = 0; i < n; i++)
            Z[i] = tanh_f(Z[i]);
#endif
        break;
    case NB_ACT_SOFTMAX:
        softmax_rows(Z, rows, cols);
        break;
    case NB_ACT_GELU:
        ACT_MAP(Z, Z, n, vgelu, gelu_s);
        break;
    case NB_ACT_GELU_TANH:
        ACT_MAP(Z, Z, n, vgelu_tanh, gelu_tanh_s);
        break;
    case NB_ACT_SILU:
        ACT_MAP(Z, Z, n, vsilu, silu_s);
        break;
    case NB_ACT_SOFTPLUS:
        ACT_MAP(Z, Z, n, vsoftplus, softplus_s);
        break;
    case NB_ACT_ELU:
        ACT_MAP(Z, Z, n, velu, elu_s);
        break;
    case NB_ACT_COUNT:
        break;
    }
}

NB_CLONES
void nb__act_fwd_to(nb_act act, const float *Z, float *A, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (act) { /* the ones the network keeps Z for: one pass from Z into A */
    case NB_ACT_GELU:
        ACT_MAP(Z, A, n, vgelu, gelu_s);
        break;
    case NB_ACT_GELU_TANH:
        ACT_MAP(Z, A, n, vgelu_tanh, gelu_tanh_s);
        break;
    case NB_ACT_SILU:
        ACT_MAP(Z, A, n, vsilu, silu_s);
        break;
    case NB_ACT_ELU:
        ACT_MAP(Z, A, n, velu, elu_s);
        break;
    default:
        if (A != Z)
            memcpy(A, Z, n * sizeof(float));
        nb__act_fwd(act, A, rows, cols);
        break;
    }
}

NB_CLONES
void nb__act_bwd(nb_act act, const float *restrict Z, const float *restrict A, float *restrict G,
                 size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (act) {
    case NB_ACT_SOFTMAX:
#ifdef NB_HAVE_VMATH
        if (cols <= NB_VW && nb__vrows_fast()) {
            softmax_bwd_short_rows(A, G, rows, cols);
            break;
        }
#endif
        softmax_bwd_rows_t(A, G, rows, cols);
        break;
    case NB_ACT_GELU: {
        size_t i = 0;
#ifdef NB_HAVE_VMATH
        for (; i + NB_VW <= n; i += NB_VW) {
            nb_vf z, a, g;
            memcpy(&z, Z + i, sizeof z);
            memcpy(&a, A + i, sizeof a);
            memcpy(&g, G + i, sizeof g);
            g *= vgelu_d(z, a);
            memcpy(G + i, &g, sizeof g);
        }
#endif
        for (; i < n; i++)
            G[i] *= gelu_d(Z[i]);
        break;
    }
    case NB_ACT_GELU_TANH:
        ACT_SCALE(Z, G, n, vgelu_tanh_d, gelu_tanh_d);
        break;
    case NB_ACT_SILU:
        ACT_SCALE(Z, G, n, vsilu_d, silu_d);
        break;
    case NB_ACT_SOFTPLUS:
        ACT_SCALE(A, G, n, vsoftplus_d, softplus_d);
        break;
    case NB_ACT_ELU:
        ACT_SCALE(Z, G, n, velu_d, elu_d);
        break;
    default: /* identity, ReLU, leaky ReLU, sigmoid, tanh: from A alone */
        act_bwd_from_a_t(act, A, G, n);
        break;
    }
}

/* The float64 kernels: act_t.h through libm (the float paths above stay float-only) */
/* softplus(20) = 20 + log1p(exp(-20)), a little above: the largest A whose z is <= 20 */
#define SOFTPLUS_AT_THRESHOLD 20.0000000020612
#define NB_PREC 64
#include "kernels/act_t.h"

nb_status nb_act_forward(nb_act act, nb_tensor *Z)
{
    nb_dtype t = nb_tensor_dtype(Z);
    NB_TRY(nb__check_tensor_as(Z, t));
    if (!nb__act_valid(act))
        return NB_ERR_ARG;
    if (t == NB_F64)
        nb__act_fwd_f64(act, Z->data64, Z->rows, Z->cols);
    else
        nb__act_fwd(act, Z->data, Z->rows, Z->cols);
    return NB_OK;
}

bool nb_act_needs_input(nb_act act) { return nb__act_needs_z(act); }

/* The checks both backward entry points share; Z is checked where given or needed. */
static nb_status check_bwd(nb_act act, const nb_tensor *Z, const nb_tensor *A, const nb_tensor *G)
{
    nb_dtype t = nb_tensor_dtype(A); /* Z and G must have A's element type */
    NB_TRY(nb__check_tensor_as(A, t));
    NB_TRY(nb__check_tensor_as(G, t));
    if (!nb__act_valid(act))
        return NB_ERR_ARG;
    if (Z || nb__act_needs_z(act))
        NB_TRY(nb__check_shape_as(Z, A->rows, A->cols, t));
    NB_TRY(nb__check_shape_as(G, A->rows, A->cols, t));
    if (nb__overlap(A, G) || nb__overlap(Z, G))
        return NB_ERR_ALIAS;
    return NB_OK;
}

nb_status nb_act_backward_z(nb_act act, const nb_tensor *Z, const nb_tensor *A, nb_tensor *G)
{
    NB_TRY(check_bwd(act, Z, A, G));
    if (nb_tensor_dtype(A) == NB_F64)
        nb__act_bwd_f64(act, Z ? Z->data64 : NULL, A->data64, G->data64, G->rows, G->cols);
    else
        nb__act_bwd(act, Z ? Z->data : NULL, A->data, G->data, G->rows, G->cols);
    return NB_OK;
}

nb_status nb_act_backward(nb_act act, const nb_tensor *A, nb_tensor *G)
{
    /* A stands in for Z in the checks: the ones that need Z are refused after them */
    NB_TRY(check_bwd(act, nb__act_valid(act) && nb__act_needs_z(act) ? A : NULL, A, G));
    if (nb__act_needs_z(act))
        return NB_ERR_ARG;
    if (nb_tensor_dtype(A) == NB_F64)
        nb__act_bwd_f64(act, NULL, A->data64, G->data64, G->rows, G->cols);
    else
        nb__act_bwd(act, NULL, A->data, G->data, G->rows, G->cols);
    return NB_OK;
}

const char *nb_act_name(nb_act act)
{
    static const char *const names[NB_ACT_COUNT] = {
        [NB_ACT_IDENTITY] = "identity", [NB_ACT_RELU] = "relu",
        [NB_ACT_LEAKY_RELU] = "leaky_relu", [NB_ACT_SIGMOID] = "sigmoid",
        [NB_ACT_TANH] = "tanh",         [NB_ACT_SOFTMAX] = "softmax",
        [NB_ACT_GELU] = "gelu",         [NB_ACT_GELU_TANH] = "gelu_tanh",
        [NB_ACT_SILU] = "silu",         [NB_ACT_SOFTPLUS] = "softplus",
        [NB_ACT_ELU] = "elu",
    };
    return nb__act_valid(act) ? names[act] : NULL;
}
