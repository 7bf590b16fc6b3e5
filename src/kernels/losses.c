/* Loss kernels with PyTorch's definitions (mean reduction): float32 here (with its vector
   paths), float64 from kernels/loss_t.h (libm).  Sums accumulate in double;
   BCE clamps its logs at -100 as PyTorch does; softmax cross-entropy uses log-sum-exp.
   Non-finite values propagate as in PyTorch (NaN in, NaN out).  BCE of a y outside [0, 1]
   (NaN, +-inf or finite), which PyTorch refuses with an error, is NaN here, loss and
   gradient alike, so that the training loop's finiteness check stops there. */
#include <math.h>

#include <string.h>

#include "kernels/kernels.h"
#include "kernels/vmath.h"

/* a * b + c as one fused multiply-add in the polynomials (ISO C mode leaves contraction off) */
#ifdef NB_GCC_VECTORS
#pragma GCC optimize("fp-contract=fast")
#endif

#define BCE_LOG_FLOOR (-100.0)
#define BCE_EPS 1e-12
/* log(x) <= -100 exactly for x <= this (e^-100 lies between the 26th and 27th subnormal) */
#define BCE_LOG_FLOOR_X 3.7e-44f

/* one element's BCE, t log y + (1 - t) log(1 - y) with each log clamped at BCE_LOG_FLOOR; the
   scalar loops of both precisions (loss_t.h too) subtract it from their double sum */
static inline double bce_term(double y, double t)
{
    /* a compare, not fmax: the log of a NaN or negative y stays NaN */
    double ly = log(y), l1y = log(1.0 - y);
    ly = ly < BCE_LOG_FLOOR ? BCE_LOG_FLOOR : ly;
    l1y = l1y < BCE_LOG_FLOOR ? BCE_LOG_FLOOR : l1y;
    return t * ly + (1.0 - t) * l1y;
}

/* the elementwise gradients, float and double alike */
#define NB_PREC 32
#include "kernels/loss_grad_t.h"
#define NB_PREC 64
#include "kernels/loss_grad_t.h"

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

#ifdef NB_HAVE_VMATH
/* BCE over whole vectors: float logs (vmath.h) clamped at the floor, the per-element terms
   summed in double; a y outside [0, 1] (NaN too) gives a NaN log.  (The NaN goes into the
   clamp's select: a separate select or mask on the term made GCC 12 split the loop into
   scalar code, 4x slower.)  log(1 - y) adds back the rounding error
   of 1 - y, which matters only for small y, where log(1 - y) ~ -y. */
NB_INLINE nb_vd bce_terms(const float *Y, const float *T, size_t n, size_t *done)
{
    const nb_vf floor = nb__vsplat((float)BCE_LOG_FLOOR), inf = nb__vsplat(__builtin_inff());
    const nb_vf nan = nb__vsplat(__builtin_nanf(""));
    nb_vd acc = {0};
    size_t i = 0;
    for (; i + NB_VW <= n; i += NB_VW) {
        nb_vf y, t;
        memcpy(&y, Y + i, sizeof y);
        memcpy(&t, T + i, sizeof t);
        nb_vf u = 1.0f - y;
        nb_vf ly = nb__vlogf_pos(y), l1y = nb__vlogf_pos(u) + ((1.0f - u) - y);
        /* the floor where 0 <= x <= e^-100, NaN where x < 0 or NaN, selected on x: a select
           on the log itself is a max, which GCC 12 splits into scalars here */
        ly = nb__vsel(y > BCE_LOG_FLOOR_X, ly, nb__vsel(y >= 0.0f, floor, nan));
        l1y = nb__vsel(u > BCE_LOG_FLOOR_X, l1y, nb__vsel(u >= 0.0f, floor, nan));
        ly = nb__vsel(y == inf, inf, ly); /* log(+inf) = +inf, as libm's */
        l1y = nb__vsel(u == inf, inf, l1y);
        acc -= __builtin_convertvector(t * ly + (1.0f - t) * l1y, nb_vd);
    }
    *done = i;
    return acc;
}

enum { CE_BLOCK = 64 }; /* rows whose logs are taken together */

/* Softmax cross-entropy of rows of at most NB_VW columns, one row per vector: with m the row's
   maximum and s = sum_j exp(y_j - m), the row's loss is tsum log(s) + sum_j t_j (m - y_j), all
   terms >= 0 for proper targets.  s is summed in double and its log taken as a float log of
   s plus the rounding residual, for a whole block of rows at once. */
NB_INLINE double ce_short_rows(const float *Y, const float *T, size_t rows, size_t cols)
{
    float S[CE_BLOCK], C[CE_BLOCK];
    double TS[CE_BLOCK];
    const float *y_end = Y + rows * cols, *t_end = T + rows * cols;
    nb_vi in_row = nb__vfirst(cols);
    const nb_vf ninf = nb__vsplat(-__builtin_inff());
    nb_vd acc = {0};
    for (size_t r0 = 0; r0 < rows; r0 += CE_BLOCK) {
        size_t nr = rows - r0 < CE_BLOCK ? rows - r0 : CE_BLOCK;
        for (size_t r = 0; r < nr; r++) {
            size_t off = (r0 + r) * cols;
            nb_vf y = nb__vload(Y + off, cols, y_end), t = nb__vload(T + off, cols, t_end);
            nb_vf v = nb__vsel(in_row, y, ninf), m = nb__vhmax(v);
            double s = nb__vhsum_d(nb__vexpf(v - m)); /* -inf lanes give 0 */
            S[r] = (float)s;
            C[r] = (float)(s - S[r]);
            t = nb__vsel(in_row, t, (nb_vf){0});
            TS[r] = nb__vhsum_d(t);
            acc += __builtin_convertvector(nb__vsel(in_row, t * (m - y), (nb_vf){0}), nb_vd);
        }
        for (size_t r = nr; r < (nr + NB_VW - 1) / NB_VW * NB_VW; r++) {
            S[r] = 1.0f, C[r] = 0.0f, TS[r] = 0.0; /* padding: log 1 = 0 */
        }
        for (size_t r = 0; r < nr; r += NB_VW) {
            nb_vf sv, cv;
            nb_vd tv;
            memcpy(&sv, S + r, sizeof sv);
            memcpy(&cv, C + r, sizeof cv);
            memcpy(&tv, TS + r, sizeof tv);
            acc += tv * __builtin_convertvector(nb__vlogf(sv) + cv / sv, nb_vd);
        }
    }
    return nb__vhsum_dd(acc);
}

/* Its gradient (p_j tsum - t_j) / rows, with p_j = exp(y_j - m) / s, in double: where p_j is
   close to t_j the difference keeps few of float's digits.  Whole-vector stores run into the
   next row of G, which is written afterwards; the last rows go through a buffer. */
NB_INLINE void ce_bwd_short_rows(const float *Y, const float *T, float *G, size_t rows,
                                  size_t cols, double scale)
{
    const float *y_end = Y + rows * cols, *t_end = T + rows * cols;
    float *g_end = G + rows * cols;
    nb_vi in_row = nb__vfirst(cols);
    const nb_vf ninf = nb__vsplat(-__builtin_inff());
    for (size_t r = 0; r < rows; r++) {
        size_t off = r * cols;
        nb_vf y = nb__vload(Y + off, cols, y_end), t = nb__vload(T + off, cols, t_end);
        nb_vf v = nb__vsel(in_row, y, ninf), m = nb__vhmax(v);
        /* y - m in double: in float its rounding would show in exp */
        nb_vd e = nb__vexp_neg_d(__builtin_convertvector(v, nb_vd)
                                     - __builtin_convertvector(m, nb_vd),
                                 v - m < -708.0f);
        nb_vd td = __builtin_convertvector(nb__vsel(in_row, t, (nb_vf){0}), nb_vd);
        double f = nb__vhsum_dd(td) / nb__vhsum_dd(e);
        nb_vf g = __builtin_convertvector((e * f - td) * scale, nb_vf);
        if ((size_t)(g_end - (G + off)) >= NB_VW) {
            memcpy(G + off, &g, sizeof g);
        } else {
            float tmp[NB_VW];
            memcpy(tmp, &g, sizeof tmp);
            memcpy(G + off, tmp, cols * sizeof(float));
        }
    }
}
#endif

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
    case NB_LOSS_BCE: {
        size_t i = 0;
#ifdef NB_HAVE_VMATH
        if (nb__vrows_fast())
            sum = nb__vhsum_dd(bce_terms(Y, T, n, &i));
#endif
        for (; i < n; i++)
            sum -= bce_term(Y[i], T[i]);
        return sum / (double)n;
    }
    case NB_LOSS_SOFTMAX_CE:
#ifdef NB_HAVE_VMATH
        if (cols <= NB_VW && nb__vrows_fast())
            return ce_short_rows(Y, T, rows, cols) / (double)rows;
#endif
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
void nb__loss_bwd_n(nb_loss kind, const float *restrict Y, const float *restrict T,
                    float *restrict G, size_t rows, size_t cols, size_t total_rows)
{
    size_t n = rows * cols;
    double count = (double)total_rows * (double)cols; /* the mean's: a slice weighs as in its batch */
    switch (kind) {
    case NB_LOSS_MSE:
        mse_grad_t(Y, T, G, n, count);
        break;
    case NB_LOSS_BCE:
        bce_grad_t(Y, T, G, n, count);
        break;
    case NB_LOSS_SOFTMAX_CE: {
        double s = 1.0 / (double)total_rows;
#ifdef NB_HAVE_VMATH
        if (cols <= NB_VW && nb__vrows_fast()) {
            ce_bwd_short_rows(Y, T, G, rows, cols, s);
            break;
        }
#endif
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

void nb__loss_bwd(nb_loss kind, const float *Y, const float *T, float *G, size_t rows, size_t cols)
{
    nb__loss_bwd_n(kind, Y, T, G, rows, cols, rows);
}

/* The float64 kernels: loss_t.h through libm (the float paths above stay float-only) */
#define NB_PREC 64
#include "kernels/loss_t.h"

/* Y's element type, T and (backward) G must have it */
static nb_status check_loss_args(nb_loss kind, const nb_tensor *Y, const nb_tensor *T,
                                 const nb_tensor *G, bool backward)
{
    nb_dtype t = nb_tensor_dtype(Y);
    if (backward)
        NB_TRY(nb__check_tensor_as(G, t));
    NB_TRY(nb__check_tensor_as(Y, t));
    NB_TRY(nb__check_tensor_as(T, t));
    if (!nb__loss_valid(kind))
        return NB_ERR_ARG;
    NB_TRY(nb__check_shape_as(T, Y->rows, Y->cols, t));
    if (backward)
        NB_TRY(nb__check_shape_as(G, Y->rows, Y->cols, t));
    return NB_OK;
}

nb_status nb_loss_forward_d(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, double *loss)
{
    if (!loss)
        return NB_ERR_NULL;
    NB_TRY(check_loss_args(kind, Y, T, NULL, false));
    if (nb_tensor_dtype(Y) == NB_F64)
        *loss = nb__loss_fwd_f64(kind, Y->data64, T->data64, Y->rows, Y->cols);
    else
        *loss = nb__loss_fwd(kind, Y->data, T->data, Y->rows, Y->cols);
    return NB_OK;
}

nb_status nb_loss_forward(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, float *loss)
{
    if (!loss)
        return NB_ERR_NULL;
    double l;
    NB_TRY(nb_loss_forward_d(kind, Y, T, &l));
    *loss = (float)l;
    return NB_OK;
}

nb_status nb_loss_backward(nb_loss kind, const nb_tensor *Y, const nb_tensor *T, nb_tensor *G)
{
    NB_TRY(check_loss_args(kind, Y, T, G, true));
    if (nb__overlap(G, Y) || nb__overlap(G, T))
        return NB_ERR_ALIAS;
    if (nb_tensor_dtype(Y) == NB_F64)
        nb__loss_bwd_f64(kind, Y->data64, T->data64, G->data64, Y->rows, Y->cols);
    else
        nb__loss_bwd(kind, Y->data, T->data, G->data, Y->rows, Y->cols);
    return NB_OK;
}

const char *nb_loss_name(nb_loss kind)
{
    static const char *const names[NB_LOSS_COUNT] = {
        [NB_LOSS_MSE] = "mse", [NB_LOSS_BCE] = "bce", [NB_LOSS_SOFTMAX_CE] = "softmax_ce"};
    return nb__loss_valid(kind) ? names[kind] : NULL;
}
