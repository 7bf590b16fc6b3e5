/* Template (kernels/tmpl_begin.h): the losses and their gradients over NB_T, element by element
   through libm, with PyTorch's definitions (mean reduction).  Instantiated for double by
   kernels/losses.c: they are the float64 kernels (float32 keeps its vectorised ones there).
   Sums accumulate in double; BCE clamps its logs at -100 and is NaN for y outside [0, 1];
   softmax cross-entropy uses log-sum-exp.  BCE's element term is losses.c's bce_term and the
   elementwise gradients are kernels/loss_grad_t.h's, which the float kernels share. */
#include "kernels/tmpl_begin.h"

static NB_T NB_FN(row_max_t)(const NB_T *y, size_t cols)
{
    NB_T m = y[0];
    for (size_t j = 1; j < cols; j++)
        m = y[j] > m ? y[j] : m;
    return m;
}

/* log sum_j exp(y_j - m), m the row's maximum (no exp overflows).  The callers use
   y_j - m - this, never y_j - (m + this): m + log(s) would round at ulp(m), which for logits
   of 800 is 1e-13 and would show in a probability near 1. */
static double NB_FN(row_lse_t)(const NB_T *y, size_t cols, double m)
{
    double s = 0.0;
    for (size_t j = 0; j < cols; j++)
        s += exp((double)y[j] - m);
    return log(s);
}

double NB_FN(nb__loss_fwd)(nb_loss kind, const NB_T *Y, const NB_T *T, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    double sum = 0.0;
    switch (kind) {
    case NB_LOSS_MSE:
        for (size_t i = 0; i < n; i++) {
            double d = (double)Y[i] - T[i];
            sum += d * d;
        }
        return sum / (double)n;
    case NB_LOSS_BCE:
        for (size_t i = 0; i < n; i++)
            sum -= bce_term(Y[i], T[i]);
        return sum / (double)n;
    case NB_LOSS_SOFTMAX_CE:
        for (size_t r = 0; r < rows; r++) {
            const NB_T *y = Y + r * cols, *t = T + r * cols;
            double m = NB_FN(row_max_t)(y, cols), ls = NB_FN(row_lse_t)(y, cols, m);
            for (size_t j = 0; j < cols; j++)
                sum += t[j] * (ls - ((double)y[j] - m));
        }
        return sum / (double)rows;
    case NB_LOSS_COUNT:
        break;
    }
    return NAN;
}

/* G = dL/dY for rows of a batch of total_rows: the gradient of the whole batch's mean loss */
void NB_FN(nb__loss_bwd_n)(nb_loss kind, const NB_T *Y, const NB_T *T, NB_T *G, size_t rows,
                           size_t cols, size_t total_rows)
{
    size_t n = rows * cols;
    /* the mean's count: a slice weighs as in its batch */
    double count = (double)total_rows * (double)cols;
    switch (kind) {
    case NB_LOSS_MSE:
        NB_FN(mse_grad_t)(Y, T, G, n, count);
        break;
    case NB_LOSS_BCE:
        NB_FN(bce_grad_t)(Y, T, G, n, count);
        break;
    case NB_LOSS_SOFTMAX_CE: {
        double s = 1.0 / (double)total_rows;
        for (size_t r = 0; r < rows; r++) {
            const NB_T *y = Y + r * cols, *t = T + r * cols;
            NB_T *g = G + r * cols;
            double m = NB_FN(row_max_t)(y, cols), ls = NB_FN(row_lse_t)(y, cols, m);
            /* d/dy_j of sum_k t_k (lse - y_k) is p_j sum_k t_k - t_j */
            double tsum = 0.0;
            for (size_t j = 0; j < cols; j++)
                tsum += t[j];
            for (size_t j = 0; j < cols; j++)
                g[j] = (NB_T)((exp(((double)y[j] - m) - ls) * tsum - t[j]) * s);
        }
        break;
    }
    case NB_LOSS_COUNT:
        break;
    }
}

void NB_FN(nb__loss_bwd)(nb_loss kind, const NB_T *Y, const NB_T *T, NB_T *G, size_t rows,
                         size_t cols)
{
    NB_FN(nb__loss_bwd_n)(kind, Y, T, G, rows, cols, rows);
}

#include "kernels/tmpl_end.h"
