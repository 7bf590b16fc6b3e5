/* Activation kernels, in place over a whole batch.  Sigmoid never overflows (exp of a
   non-positive number only); softmax subtracts each row's maximum. */
#include <math.h>

#include "internal.h"
#include "vexp.h"

#define LEAKY_SLOPE 0.01f

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

static void softmax_rows(float *Z, size_t rows, size_t cols)
{
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
    case NB_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 0.0f ? Z[i] : 0.0f;
        break;
    case NB_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 0.0f ? Z[i] : LEAKY_SLOPE * Z[i];
        break;
    case NB_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            Z[i] = sigmoidf(Z[i]);
        break;
    case NB_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            Z[i] = tanh_f(Z[i]);
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
    case NB_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            G[i] = A[i] > 0.0f ? G[i] : 0.0f;
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
