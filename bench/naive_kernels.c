/* Plain-loop kernels: see naive_kernels.h.  Row-major i-k-j loops so the compiler can vectorise
   the inner loop; float accumulation; expf/logf/tanhf from libm. */
#include <math.h>
#include <string.h>

#include "naive_kernels.h"

void naive_dense_fwd(const float *X, const float *W, const float *b, float *Z,
                     size_t batch, size_t in, size_t out)
{
    for (size_t i = 0; i < batch; i++) {
        for (size_t j = 0; j < out; j++)
            Z[i * out + j] = b[j];
        for (size_t k = 0; k < in; k++)
            for (size_t j = 0; j < out; j++)
                Z[i * out + j] += X[i * in + k] * W[k * out + j];
    }
}

void naive_dense_bwd(const float *X, const float *W, const float *G, float *dW, float *db,
                     float *dX, size_t batch, size_t in, size_t out)
{
    memset(dW, 0, in * out * sizeof(float));
    memset(db, 0, out * sizeof(float));
    for (size_t i = 0; i < batch; i++) {
        for (size_t k = 0; k < in; k++)
            for (size_t j = 0; j < out; j++)
                dW[k * out + j] += X[i * in + k] * G[i * out + j];
        for (size_t j = 0; j < out; j++)
            db[j] += G[i * out + j];
        for (size_t k = 0; k < in; k++) {
            float s = 0.0f;
            for (size_t j = 0; j < out; j++)
                s += G[i * out + j] * W[k * out + j];
            dX[i * in + k] = s;
        }
    }
}

void naive_act_fwd(nb_act act, float *Z, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (act) {
    case NB_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 0.0f ? Z[i] : 0.0f;
        break;
    case NB_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 0.0f ? Z[i] : 0.01f * Z[i];
        break;
    case NB_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            Z[i] = 1.0f / (1.0f + expf(-Z[i]));
        break;
    case NB_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            Z[i] = tanhf(Z[i]);
        break;
    case NB_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            float *z = Z + r * cols, m = z[0], s = 0.0f;
            for (size_t j = 1; j < cols; j++)
                m = fmaxf(m, z[j]);
            for (size_t j = 0; j < cols; j++)
                s += z[j] = expf(z[j] - m);
            for (size_t j = 0; j < cols; j++)
                z[j] /= s;
        }
        break;
    case NB_ACT_GELU:
        for (size_t i = 0; i < n; i++)
            Z[i] = 0.5f * Z[i] * (1.0f + erff(Z[i] * 0.70710678f));
        break;
    case NB_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++)
            Z[i] = 0.5f * Z[i] * (1.0f + tanhf(0.7978845608f * (Z[i] + 0.044715f * Z[i] * Z[i] * Z[i])));
        break;
    case NB_ACT_SILU:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] / (1.0f + expf(-Z[i]));
        break;
    case NB_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 20.0f ? Z[i] : log1pf(expf(Z[i]));
        break;
    case NB_ACT_ELU:
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 0.0f ? Z[i] : expm1f(Z[i]);
        break;
    default:
        break;
    }
}

void naive_act_bwd(nb_act act, const float *Z, const float *A, float *G, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (act) {
    case NB_ACT_GELU:
        for (size_t i = 0; i < n; i++)
            G[i] *= 0.5f * (1.0f + erff(Z[i] * 0.70710678f))
                    + Z[i] * 0.39894228f * expf(-0.5f * Z[i] * Z[i]);
        break;
    case NB_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++) {
            float z = Z[i], t = tanhf(0.7978845608f * (z + 0.044715f * z * z * z));
            G[i] *= 0.5f * (1.0f + t)
                    + 0.5f * z * (1.0f - t * t) * 0.7978845608f * (1.0f + 0.134145f * z * z);
        }
        break;
    case NB_ACT_SILU:
        for (size_t i = 0; i < n; i++) {
            float s = 1.0f / (1.0f + expf(-Z[i]));
            G[i] *= s * (1.0f + Z[i] * (1.0f - s));
        }
        break;
    case NB_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++)
            G[i] *= A[i] > 20.0f ? 1.0f : -expm1f(-A[i]);
        break;
    case NB_ACT_ELU:
        for (size_t i = 0; i < n; i++)
            G[i] *= Z[i] > 0.0f ? 1.0f : expf(Z[i]);
        break;
    case NB_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            G[i] = A[i] > 0.0f ? G[i] : 0.0f;
        break;
    case NB_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++)
            G[i] = A[i] > 0.0f ? G[i] : 0.01f * G[i];
        break;
    case NB_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            G[i] = G[i] * A[i] * (1.0f - A[i]);
        break;
    case NB_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            G[i] = G[i] * (1.0f - A[i] * A[i]);
        break;
    case NB_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            const float *a = A + r * cols;
            float *g = G + r * cols, d = 0.0f;
            for (size_t j = 0; j < cols; j++)
                d += g[j] * a[j];
            for (size_t j = 0; j < cols; j++)
                g[j] = a[j] * (g[j] - d);
        }
        break;
    default:
        break;
    }
}

float naive_loss_fwd(nb_loss kind, const float *Y, const float *T, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    float s = 0.0f;
    switch (kind) {
    case NB_LOSS_MSE:
        for (size_t i = 0; i < n; i++)
            s += (Y[i] - T[i]) * (Y[i] - T[i]);
        return s / (float)n;
    case NB_LOSS_BCE:
        for (size_t i = 0; i < n; i++)
            s -= T[i] * logf(Y[i]) + (1.0f - T[i]) * logf(1.0f - Y[i]);
        return s / (float)n;
    default:
        for (size_t r = 0; r < rows; r++) {
            const float *y = Y + r * cols, *t = T + r * cols;
            float m = y[0], e = 0.0f;
            for (size_t j = 1; j < cols; j++)
                m = fmaxf(m, y[j]);
            for (size_t j = 0; j < cols; j++)
                e += expf(y[j] - m);
            for (size_t j = 0; j < cols; j++)
                s += t[j] * (m + logf(e) - y[j]);
        }
        return s / (float)rows;
    }
}

void naive_loss_bwd(nb_loss kind, const float *Y, const float *T, float *G, size_t rows,
                    size_t cols)
{
    size_t n = rows * cols;
    switch (kind) {
    case NB_LOSS_MSE:
        for (size_t i = 0; i < n; i++)
            G[i] = 2.0f * (Y[i] - T[i]) / (float)n;
        break;
    case NB_LOSS_BCE:
        for (size_t i = 0; i < n; i++)
            G[i] = (Y[i] - T[i]) / (Y[i] * (1.0f - Y[i])) / (float)n;
        break;
    default:
        for (size_t r = 0; r < rows; r++) {
            const float *y = Y + r * cols, *t = T + r * cols;
            float m = y[0], e = 0.0f;
            for (size_t j = 1; j < cols; j++)
                m = fmaxf(m, y[j]);
            for (size_t j = 0; j < cols; j++)
                e += expf(y[j] - m);
            for (size_t j = 0; j < cols; j++)
                G[r * cols + j] = (expf(y[j] - m) / e - t[j]) / (float)rows;
        }
        break;
    }
}

void naive_sgd(float *P, const float *dP, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++)
        P[i] -= lr * dP[i];
}
