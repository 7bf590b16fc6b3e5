/* Loss kernels with PyTorch's definitions (mean reduction).  Sums accumulate in double;
   BCE clamps its logs at -100 as PyTorch does; softmax cross-entropy uses log-sum-exp. */
#include <math.h>

#include "internal.h"

#define BCE_LOG_FLOOR (-100.0)
#define BCE_EPS 1e-12

static double row_max(const float *y, size_t cols)
{
    float m = y[0];
    for (size_t j = 1; j < cols; j++)
        m = y[j] > m ? y[j] : m;
    return m;
}

/* log sum_j exp(y_j) of one row, shifted by its maximum m so that no exp overflows. */
static double row_lse(const float *y, size_t cols, double m)
{
    double s = 0.0;
    for (size_t j = 0; j < cols; j++)
        s += exp((double)y[j] - m);
    return m + log(s);
}

enum { LANES = 8 }; /* partial sums of a reduction: one AVX-512 register of doubles */

NB_CLONES
double nb__loss_fwd(nb_loss kind, const float *Y, const float *T, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    double sum = 0.0;
    switch (kind) {
    case NB_LOSS_MSE: { /* LANES interleaved double sums, so that the loop vectorises */
        double part[LANES] = {0};
        size_t i = 0;
        for (; i + LANES <= n; i += LANES)
            for (size_t l = 0; l < LANES; l++) {
                double d = (double)Y[i + l] - T[i + l];
                part[l] += d * d;
            }
        for (; i < n; i++) {
            double d = (double)Y[i] - T[i];
            part[0] += d * d;
        }
        for (size_t l = 0; l < LANES; l++)
            sum += part[l];
        return sum / (double)n;
    }
    case NB_LOSS_BCE:
        for (size_t i = 0; i < n; i++) {
            double ly = fmax(log((double)Y[i]), BCE_LOG_FLOOR);
            double l1y = fmax(log(1.0 - (double)Y[i]), BCE_LOG_FLOOR);
            sum -= T[i] * ly + (1.0 - T[i]) * l1y;
        }
        return sum / (double)n;
    case NB_LOSS_SOFTMAX_CE:
        for (size_t r = 0; r < rows; r++) {
            const float *y = Y + r * cols, *t = T + r * cols;
            double lse = row_lse(y, cols, row_max(y, cols));
            for (size_t j = 0; j < cols; j++)
                sum += t[j] * (lse - y[j]);
        }
        return sum / (double)rows;
    case NB_LOSS_COUNT:
        break;
    }
    return NAN;
}

NB_CLONES
void nb__loss_bwd(nb_loss kind, const float *restrict Y, const float *restrict T,
                  float *restrict G, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    switch (kind) {
    case NB_LOSS_MSE: {
        float s = (float)(2.0 / (double)n);
        for (size_t i = 0; i < n; i++)
            G[i] = s * (Y[i] - T[i]);
        break;
    }
    case NB_LOSS_BCE: {
        double s = 1.0 / (double)n;
        for (size_t i = 0; i < n; i++) {
            double y = Y[i];
            double d = y * (1.0 - y); /* fmax without the libm call; NaN gives the floor too */
            G[i] = (float)((y - T[i]) / (d > BCE_EPS ? d : BCE_EPS) * s);
        }
        break;
    }
    case NB_LOSS_SOFTMAX_CE: {
        double s = 1.0 / (double)rows;
        for (size_t r = 0; r < rows; r++) {
            const float *y = Y + r * cols, *t = T + r * cols;
            float *g = G + r * cols;
            double m = row_max(y, cols);
            double lse = row_lse(y, cols, m);
            /* d/dy_j of sum_k t_k (lse - y_k) is p_j sum_k t_k - t_j: targets rounded to
               float32 (or not normalised) need not sum to exactly 1 */
            double tsum = 0.0;
            for (size_t j = 0; j < cols; j++)
                tsum += t[j];
            for (size_t j = 0; j < cols; j++)
                g[j] = (float)((exp((double)y[j] - lse) * tsum - t[j]) * s);
        }
        break;
    }
    case NB_LOSS_COUNT:
        break;
    }
}

static nb_status check_loss_args(nb_loss kind, const nb_tensor *Y, const nb_tensor *T)
{
    NB_TRY(nb__check_tensor(Y));
    NB_TRY(nb__check_tensor(T));
    if (!nb__loss_valid(kind))
        return NB_ERR_ARG;
    return nb__check_shape(T, Y->rows, Y->cols);
}

nb_status nb_loss_forward(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, float *loss)
{
    if (!loss)
        return NB_ERR_NULL;
    NB_TRY(check_loss_args(kind, Y, T));
    *loss = (float)nb__loss_fwd(kind, Y->data, T->data, Y->rows, Y->cols);
    return NB_OK;
}

nb_status nb_loss_backward(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, nb_tensor *G)
{
    NB_TRY(nb__check_tensor(G));
    NB_TRY(check_loss_args(kind, Y, T));
    NB_TRY(nb__check_shape(G, Y->rows, Y->cols));
    if (nb__overlap(G, Y) || nb__overlap(G, T))
        return NB_ERR_ALIAS;
    nb__loss_bwd(kind, Y->data, T->data, G->data, Y->rows, Y->cols);
    return NB_OK;
}

const char *nb_loss_name(nb_loss kind)
{
    static const char *const names[NB_LOSS_COUNT] = {
        [NB_LOSS_MSE] = "mse", [NB_LOSS_BCE] = "bce", [NB_LOSS_SOFTMAX_CE] = "softmax_ce"};
    return nb__loss_valid(kind) ? names[kind] : NULL;
}
