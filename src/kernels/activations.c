/* Activation kernels, in place over a whole batch.  Sigmoid never overflows (exp of a
   non-positive number only); softmax subtracts each row's maximum (except where no exp can
   overflow or underflow without it: softmax_short_rows). */
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
    case NB_ACT_COUNT:
        break;
    }
}

NB_CLONES
void nb__act_bwd(nb_act act, const float *restrict A, float *restrict G, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (act) {
    case NB_ACT_IDENTITY:
        break;
    case NB_ACT_RELU: /* PyTorch's threshold_backward: zero where A <= 0, so NaN passes G */
        for (size_t i = 0; i < n; i++)
            G[i] = A[i] <= 0.0f ? 0.0f : G[i];
        break;
    case NB_ACT_LEAKY_RELU: /* A has the sign of Z */
        for (size_t i = 0; i < n; i++)
            G[i] = A[i] > 0.0f ? G[i] : LEAKY_SLOPE * G[i];
        break;
    case NB_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            G[i] *= A[i] * (1.0f - A[i]);
        break;
    case NB_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            G[i] *= 1.0f - A[i] * A[i];
        break;
    case NB_ACT_SOFTMAX: /* dZ_j = a_j (g_j - sum_k g_k a_k), row by row */
#ifdef NB_HAVE_VMATH
        if (cols <= NB_VW && nb__vrows_fast()) {
            softmax_bwd_short_rows(A, G, rows, cols);
            break;
        }
#endif
        for (size_t r = 0; r < rows; r++) {
            const float *a = A + r * cols;
            float *g = G + r * cols;
            double dot = 0.0;
            for (size_t j = 0; j < cols; j++)
                dot += (double)g[j] * a[j];
            float d = (float)dot;
            for (size_t j = 0; j < cols; j++)
                g[j] = a[j] * (g[j] - d);
        }
        break;
    case NB_ACT_COUNT:
        break;
    }
}

nb_status nb_act_forward(nb_act act, nb_tensor *Z)
{
    NB_TRY(nb__check_tensor(Z));
    if (!nb__act_valid(act))
        return NB_ERR_ARG;
    nb__act_fwd(act, Z->data, Z->rows, Z->cols);
    return NB_OK;
}

nb_status nb_act_backward(nb_act act, const nb_tensor *A, nb_tensor *G)
{
    NB_TRY(nb__check_tensor(A));
    NB_TRY(nb__check_tensor(G));
    if (!nb__act_valid(act))
        return NB_ERR_ARG;
    NB_TRY(nb__check_shape(G, A->rows, A->cols));
    if (nb__overlap(A, G))
        return NB_ERR_ALIAS;
    nb__act_bwd(act, A->data, G->data, G->rows, G->cols);
    return NB_OK;
}

const char *nb_act_name(nb_act act)
{
    static const char *const names[NB_ACT_COUNT] = {
        [NB_ACT_IDENTITY] = "identity", [NB_ACT_RELU] = "relu",
        [NB_ACT_LEAKY_RELU] = "leaky_relu", [NB_ACT_SIGMOID] = "sigmoid",
        [NB_ACT_TANH] = "tanh",         [NB_ACT_SOFTMAX] = "softmax",
    };
    return nb__act_valid(act) ? names[act] : NULL;
}
