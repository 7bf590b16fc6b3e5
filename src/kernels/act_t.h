/* Template (kernels/tmpl_begin.h): the activations and their derivatives over NB_T, element by
   element through libm, as the formulas in include/nablas/kernels.h state them.  Instantiated
   for double by kernels/activations.c: they are the float64 kernels.  float32 has its own
   vectorised kernels in activations.c (vmath.h, scalar_exp.h), which stay float-only; the
   derivatives from A alone are kernels/act_bwd_a_t.h's, which both precisions share.
   Sigmoid never overflows (exp of a non-positive number only); softmax subtracts each row's
   maximum; 1 - sigmoid(v) is always sigmoid(-v), never a subtraction. */
#include "kernels/tmpl_begin.h"

static inline NB_T NB_FN(sigmoid_t)(NB_T z)
{
    NB_T e = exp(-fabs(z)); /* in [0, 1]: no overflow for any z */
    NB_T r = (NB_T)1 / ((NB_T)1 + e);
    return z >= (NB_T)0 ? r : e * r;
}

static inline NB_T NB_FN(gelu_t)(NB_T z) { return (NB_T)0.5 * z * erfc(-z * (NB_T)SQRT1_2); }

/* z sigmoid(2u) = z (1 + tanh u) / 2, without cancellation for z < 0 */
static inline NB_T NB_FN(gelu_tanh_t)(NB_T z)
{
    NB_T u = (NB_T)GELU_B * (z + (NB_T)GELU_K * z * z * z);
    return z / ((NB_T)1 + exp(-2 * u));
}

static inline NB_T NB_FN(silu_t)(NB_T z) { return z / ((NB_T)1 + exp(-z)); }

static inline NB_T NB_FN(softplus_t)(NB_T z)
{
    return z > (NB_T)SOFTPLUS_THRESHOLD ? z : log1p(exp(z));
}

static inline NB_T NB_FN(elu_t)(NB_T z) { return z > (NB_T)0 ? z : expm1(z); }

static inline NB_T NB_FN(gelu_d_t)(NB_T z)
{
    return (NB_T)0.5 * erfc(-z * (NB_T)SQRT1_2) + z * exp((NB_T)-0.5 * z * z) * (NB_T)INV_SQRT_2PI;
}

static inline NB_T NB_FN(gelu_tanh_d_t)(NB_T z)
{
    NB_T u = (NB_T)GELU_B * (z + (NB_T)GELU_K * z * z * z);
    NB_T s = (NB_T)1 / ((NB_T)1 + exp(-2 * u)), oms = (NB_T)1 / ((NB_T)1 + exp(2 * u));
    return s + 2 * z * (NB_T)GELU_B * ((NB_T)1 + 3 * (NB_T)GELU_K * z * z) * s * oms;
}

static inline NB_T NB_FN(silu_d_t)(NB_T z)
{
    NB_T s = (NB_T)1 / ((NB_T)1 + exp(-z)), oms = (NB_T)1 / ((NB_T)1 + exp(z));
    return s * ((NB_T)1 + z * oms);
}

/* from Z: sigmoid(z), 1 above the threshold (PyTorch) */
static inline NB_T NB_FN(softplus_dz_t)(NB_T z)
{
    return z > (NB_T)SOFTPLUS_THRESHOLD ? (NB_T)1 : NB_FN(sigmoid_t)(z);
}

/* from A = softplus(z): sigmoid(z) = 1 - exp(-A), and 1 where A is above softplus(20) (A alone
   cannot tell z = 20 from z slightly above it; A > 20 would take z = 20 for above) */
static inline NB_T NB_FN(softplus_da_t)(NB_T a)
{
    return a > (NB_T)SOFTPLUS_AT_THRESHOLD ? (NB_T)1 : -expm1(-a);
}

/* from Z: exp(z) where z <= 0 (A + 1 would lose exp(z)'s relative accuracy for z << 0) */
static inline NB_T NB_FN(elu_d_t)(NB_T z) { return z > (NB_T)0 ? (NB_T)1 : exp(z); }

/* each row: exp(z - max) / sum, the sum in NB_T (double for float64) */
static void NB_FN(softmax_rows_t)(NB_T *Z, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i++) {
        NB_T *z = Z + i * cols;
        NB_T m = z[0];
        for (size_t j = 1; j < cols; j++)
            m = z[j] > m ? z[j] : m;
        double s = 0.0;
        for (size_t j = 0; j < cols; j++) {
            z[j] = exp(z[j] - m);
            s += z[j];
        }
        for (size_t j = 0; j < cols; j++)
            z[j] = (NB_T)(z[j] / s);
    }
}

/* A = f(Z); A may be Z */
void NB_FN(nb__act_fwd_to)(nb_act act, const NB_T *Z, NB_T *A, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (act) {
    case NB_ACT_IDENTITY:
        if (A != Z)
            memcpy(A, Z, n * sizeof(NB_T));
        break;
    case NB_ACT_RELU: /* as PyTorch: NaN stays NaN, -0 stays -0 */
        for (size_t i = 0; i < n; i++)
            A[i] = Z[i] < (NB_T)0 ? (NB_T)0 : Z[i];
        break;
    case NB_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            A[i] = Z[i] > (NB_T)0 ? Z[i] : (NB_T)LEAKY_SLOPE_D * Z[i];
        break;
    case NB_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            A[i] = NB_FN(sigmoid_t)(Z[i]);
        break;
    case NB_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            A[i] = tanh(Z[i]);
        break;
    case NB_ACT_SOFTMAX:
        if (A != Z)
            memcpy(A, Z, n * sizeof(NB_T));
        NB_FN(softmax_rows_t)(A, rows, cols);
        break;
    case NB_ACT_GELU:
        for (size_t i = 0; i < n; i++)
            A[i] = NB_FN(gelu_t)(Z[i]);
        break;
    case NB_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++)
            A[i] = NB_FN(gelu_tanh_t)(Z[i]);
        break;
    case NB_ACT_SILU:
        for (size_t i = 0; i < n; i++)
            A[i] = NB_FN(silu_t)(Z[i]);
        break;
    case NB_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++)
            A[i] = NB_FN(softplus_t)(Z[i]);
        break;
    case NB_ACT_ELU:
        for (size_t i = 0; i < n; i++)
            A[i] = NB_FN(elu_t)(Z[i]);
        break;
    case NB_ACT_COUNT:
        break;
    }
}

void NB_FN(nb__act_fwd)(nb_act act, NB_T *Z, size_t rows, size_t cols)
{
    NB_FN(nb__act_fwd_to)(act, Z, Z, rows, cols);
}

/* G <- f'(Z) G (softmax: each row of G times its Jacobian).  Z is read where
   nb__act_needs_z(act), and for softplus where given (its derivative from Z is exact at the
   threshold); otherwise A. */
void NB_FN(nb__act_bwd)(nb_act act, const NB_T *Z, const NB_T *A, NB_T *G, size_t rows,
                        size_t cols)
{
    size_t n = rows * cols;
    switch (act) {
    case NB_ACT_SOFTMAX:
        NB_FN(softmax_bwd_rows_t)(A, G, rows, cols);
        break;
    case NB_ACT_GELU:
        for (size_t i = 0; i < n; i++)
            G[i] *= NB_FN(gelu_d_t)(Z[i]);
        break;
    case NB_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++)
            G[i] *= NB_FN(gelu_tanh_d_t)(Z[i]);
        break;
    case NB_ACT_SILU:
        for (size_t i = 0; i < n; i++)
            G[i] *= NB_FN(silu_d_t)(Z[i]);
        break;
    case NB_ACT_SOFTPLUS:
        if (Z)
            for (size_t i = 0; i < n; i++)
                G[i] *= NB_FN(softplus_dz_t)(Z[i]);
        else
            for (size_t i = 0; i < n; i++)
                G[i] *= NB_FN(softplus_da_t)(A[i]);
        break;
    case NB_ACT_ELU:
        for (size_t i = 0; i < n; i++)
            G[i] *= NB_FN(elu_d_t)(Z[i]);
        break;
    default: /* identity, ReLU, leaky ReLU, sigmoid, tanh: from A alone */
        NB_FN(act_bwd_from_a_t)(act, A, G, n);
        break;
    }
}

#include "kernels/tmpl_end.h"
