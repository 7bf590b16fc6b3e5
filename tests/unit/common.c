/* Shared helpers of the unit tests; the references are deliberately naive loops in double. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

/* ---- memory and data ---------------------------------------------------------------------- */

float *tc_falloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        abort();
    return p;
}

double *tc_dalloc(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        abort();
    return p;
}

float *tc_fdup(const float *a, size_t n)
{
    float *p = tc_falloc(n);
    memcpy(p, a, n * sizeof *p);
    return p;
}

void tc_fill_uniform(nb_rng *r, float *a, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(lo + (hi - lo) * nb_rng_uniform(r));
}

void tc_fill_normal(nb_rng *r, float *a, size_t n, double mean, double sd)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(mean + sd * nb_rng_normal(r));
}

void tc_fill_prob_rows(nb_rng *r, float *a, size_t rows, size_t cols, bool onehot)
{
    for (size_t i = 0; i < rows; i++) {
        float *t = a + i * cols;
        if (onehot) {
            memset(t, 0, cols * sizeof *t);
            t[nb_rng_below(r, cols)] = 1.0f;
            continue;
        }
        double s = 0.0;
        for (size_t j = 0; j < cols; j++)
            s += t[j] = (float)(0.05 + nb_rng_uniform(r));
        for (size_t j = 0; j < cols; j++)
            t[j] = (float)(t[j] / s);
    }
}

void tc_fill_sentinel(void *p, size_t bytes) { memset(p, 0xA5, bytes); }

void tc_fill_nan(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = NAN;
}

/* ---- error measures ----------------------------------------------------------------------- */

double tc_rel_err(const float *a, const double *ref, size_t n)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (!(d <= diff)) /* NaN propagates as "worse" */
            diff = isnan(d) ? INFINITY : d;
        scale = fmax(scale, fabs(ref[i]));
    }
    return diff / fmax(scale, 1e-300);
}

double tc_rel_err_ff(const float *a, const float *ref, size_t n)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (!(d <= diff))
            diff = isnan(d) ? INFINITY : d;
        scale = fmax(scale, fabs((double)ref[i]));
    }
    return diff / fmax(scale, 1e-300);
}

double tc_max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i]));
    return m;
}

double tc_norm2(const float *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * a[i];
    return sqrt(s);
}

bool tc_all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return false;
    return true;
}

/* ---- naive double-precision references ---------------------------------------------------- */

void ref_dense_fwd(const float *X, const float *W, const float *b, double *Z,
                   size_t batch, size_t in, size_t out)
{
    for (size_t i = 0; i < batch; i++) {
        double *z = Z + i * out;
        for (size_t j = 0; j < out; j++)
            z[j] = b ? b[j] : 0.0;
        for (size_t k = 0; k < in; k++) { /* i-k-j order: W is read row by row */
            double x = X[i * in + k];
            const float *w = W + k * out;
            for (size_t j = 0; j < out; j++)
                z[j] += x * w[j];
        }
    }
}

void ref_dense_bwd(const float *X, const float *W, const float *G, double *dW, double *db,
                   double *dX, size_t batch, size_t in, size_t out)
{
    memset(dW, 0, in * out * sizeof *dW);
    for (size_t i = 0; i < batch; i++)
        for (size_t k = 0; k < in; k++) {
            double x = X[i * in + k];
            const float *g = G + i * out;
            double *d = dW + k * out;
            for (size_t j = 0; j < out; j++)
                d[j] += x * g[j];
        }
    if (db)
        for (size_t j = 0; j < out; j++) {
            db[j] = 0.0;
            for (size_t i = 0; i < batch; i++)
                db[j] += G[i * out + j];
        }
    if (dX)
        for (size_t i = 0; i < batch; i++)
            for (size_t k = 0; k < in; k++) {
                double s = 0.0;
                const float *g = G + i * out, *w = W + k * out;
                for (size_t j = 0; j < out; j++)
                    s += (double)g[j] * w[j];
                dX[i * in + k] = s;
            }
}

double ref_act_scalar(nb_act act, double z)
{
    switch (act) {
    case NB_ACT_IDENTITY:
        return z;
    case NB_ACT_RELU:
        return z > 0.0 ? z : 0.0;
    case NB_ACT_LEAKY_RELU:
        return z > 0.0 ? z : 0.01 * z;
    case NB_ACT_SIGMOID:
        return z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
    case NB_ACT_TANH:
        return tanh(z);
    case NB_ACT_GELU:
        return 0.5 * z * erfc(-z / sqrt(2.0));
    case NB_ACT_GELU_TANH:
        return 0.5 * z * (1.0 + tanh(0.79788456080286535588 * (z + 0.044715 * z * z * z)));
    case NB_ACT_SILU:
        return z / (1.0 + exp(-z));
    case NB_ACT_SOFTPLUS:
        return z > 20.0 ? z : log1p(exp(z));
    case NB_ACT_ELU:
        return z > 0.0 ? z : expm1(z);
    default:
        return NAN;
    }
}

double ref_act_deriv(nb_act act, double z)
{
    double s = 1.0 / (1.0 + exp(-z)), u, t;
    switch (act) {
    case NB_ACT_GELU:
        return 0.5 * erfc(-z / sqrt(2.0)) + z * exp(-0.5 * z * z) / 2.50662827463100050242;
    case NB_ACT_GELU_TANH:
        u = 0.79788456080286535588 * (z + 0.044715 * z * z * z);
        t = tanh(u);
        return 0.5 * (1.0 + t)
               + 0.5 * z * (1.0 - t * t) * 0.79788456080286535588 * (1.0 + 3.0 * 0.044715 * z * z);
    case NB_ACT_SILU:
        return s * (1.0 + z * (1.0 - s));
    case NB_ACT_SOFTPLUS:
        return z > 20.0 ? 1.0 : s;
    case NB_ACT_ELU:
        return z > 0.0 ? 1.0 : exp(z);
    default:
        return NAN;
    }
}

void ref_act_fwd(nb_act act, const float *Z, double *A, size_t rows, size_t cols)
{
    if (act != NB_ACT_SOFTMAX) {
        for (size_t i = 0; i < rows * cols; i++)
            A[i] = ref_act_scalar(act, Z[i]);
        return;
    }
    for (size_t i = 0; i < rows; i++) {
        const float *z = Z + i * cols;
        double m = z[0], s = 0.0;
        for (size_t j = 1; j < cols; j++)
            m = fmax(m, z[j]);
        for (size_t j = 0; j < cols; j++)
            s += exp(z[j] - m);
        for (size_t j = 0; j < cols; j++)
            A[i * cols + j] = exp(z[j] - m) / s;
    }
}

void ref_act_bwd(nb_act act, const float *Z, const float *A, const float *G, double *out,
                 size_t rows, size_t cols)
{
    if (act >= NB_ACT_GELU) { /* the newer ones: from Z */
        for (size_t i = 0; i < rows * cols; i++)
            out[i] = G[i] * ref_act_deriv(act, Z[i]);
        return;
    }
    for (size_t i = 0; i < rows; i++) {
        const float *a = A + i * cols, *g = G + i * cols;
        double *o = out + i * cols, dot = 0.0;
        for (size_t j = 0; j < cols; j++)
            dot += (double)a[j] * g[j];
        for (size_t j = 0; j < cols; j++) {
            double aj = a[j], gj = g[j];
            switch (act) {
            case NB_ACT_IDENTITY: o[j] = gj; break;
            case NB_ACT_RELU: o[j] = aj > 0.0 ? gj : 0.0; break;
            case NB_ACT_LEAKY_RELU: o[j] = aj > 0.0 ? gj : 0.01 * gj; break;
            case NB_ACT_SIGMOID: o[j] = gj * aj * (1.0 - aj); break;
            case NB_ACT_TANH: o[j] = gj * (1.0 - aj * aj); break;
            case NB_ACT_SOFTMAX: o[j] = aj * (gj - dot); break;
            default: o[j] = NAN; break;
            }
        }
    }
}

static double row_lse(const float *y, size_t cols)
{
    double m = y[0], s = 0.0;
    for (size_t j = 1; j < cols; j++)
        m = fmax(m, y[j]);
    for (size_t j = 0; j < cols; j++)
        s += exp(y[j] - m);
    return m + log(s);
}

double ref_loss_fwd(nb_loss kind, const float *Y, const float *T, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    double s = 0.0;
    switch (kind) {
    case NB_LOSS_MSE:
        for (size_t i = 0; i < n; i++)
            s += ((double)Y[i] - T[i]) * ((double)Y[i] - T[i]);
        return s / (double)n;
    case NB_LOSS_BCE: /* PyTorch: each log clamped at -100 */
        for (size_t i = 0; i < n; i++)
            s -= T[i] * fmax(log(Y[i]), -100.0) + (1.0 - T[i]) * fmax(log(1.0 - Y[i]), -100.0);
        return s / (double)n;
    case NB_LOSS_SOFTMAX_CE:
        for (size_t i = 0; i < rows; i++) {
            double lse = row_lse(Y + i * cols, cols);
            for (size_t j = 0; j < cols; j++)
                s -= T[i * cols + j] * (Y[i * cols + j] - lse);
        }
        return s / (double)rows;
    default:
        return NAN;
    }
}

void ref_loss_bwd(nb_loss kind, const float *Y, const float *T, double *G, size_t rows,
                  size_t cols)
{
    size_t n = rows * cols;
    switch (kind) {
    case NB_LOSS_MSE:
        for (size_t i = 0; i < n; i++)
            G[i] = 2.0 * ((double)Y[i] - T[i]) / (double)n;
        break;
    case NB_LOSS_BCE:
        for (size_t i = 0; i < n; i++) {
            double y = Y[i];
            G[i] = (y - T[i]) / fmax(y * (1.0 - y), 1e-12) / (double)n;
        }
        break;
    case NB_LOSS_SOFTMAX_CE:
        for (size_t i = 0; i < rows; i++) { /* d/dy_j sum_k t_k (lse - y_k) = p_j sum(t) - t_j */
            double lse = row_lse(Y + i * cols, cols), tsum = 0.0;
            for (size_t j = 0; j < cols; j++)
                tsum += T[i * cols + j];
            for (size_t j = 0; j < cols; j++)
                G[i * cols + j] = (exp(Y[i * cols + j] - lse) * tsum - T[i * cols + j]) / (double)rows;
        }
        break;
    default:
        for (size_t i = 0; i < n; i++)
            G[i] = NAN;
        break;
    }
}

void ref_sgd(const float *P, const float *dP, double *out, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (double)P[i] - (double)lr * dP[i];
}

/* ---- sanitizers -------------------------------------------------------------------------- */

void tc_leak_check(void)
{
#if defined(__SANITIZE_ADDRESS__)
    /* a failed assertion in .fini does not fail the test: crash the worker instead */
    if (__lsan_do_recoverable_leak_check()) {
        fputs("memory leaked: see the LeakSanitizer report above\n", stderr);
        abort();
    }
#endif
}

/* ---- networks ----------------------------------------------------------------------------- */

nb_net *tc_net(size_t inputs, const nb_layer_spec *layers, size_t n_layers, uint64_t seed)
{
    nb_net *net = NULL;
    nb_status s = nb_net_create(&net, inputs, layers, n_layers, seed);
    cr_assert_eq(s, NB_OK, "nb_net_create: %s", nb_status_str(s));
    cr_assert_not_null(net);
    return net;
}
