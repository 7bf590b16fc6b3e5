/* The double-precision derivative calls (include/nablas/deriv.h, the _f64 functions): every
   argument checked first, then chunks of max_batch rows narrowed into the context's float
   buffers, the float call, and its results widened into the caller's arrays. */
#include <math.h>
#include <stdint.h>

#include "net/deriv.h"

typedef enum op { OP_JAC, OP_JAC_T, OP_JVP, OP_VJP } op;

/* A byte range of the caller's, for the overlap checks. */
typedef struct span {
    uintptr_t lo, hi;
} span;

static span span_of(const double *p, size_t n)
{
    span s = {(uintptr_t)p, (uintptr_t)p + (p ? n * sizeof(double) : 0)};
    return s;
}

static bool meet(span a, span b)
{
    return a.lo < a.hi && b.lo < b.hi && a.lo < b.hi && b.lo < a.hi;
}

/* True if every value narrows to a finite float: from FLT_MAX + half an ulp on, rounding to
   nearest gives infinity, which the float calls refuse. */
static bool all_narrow_finite(const double *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(p[i]) < 0x1.ffffffp127)) /* also false for NaN */
            return false;
    return true;
}

static void narrow(float *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i]; /* in range: checked first */
}

static void widen(double *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

typedef struct widths {
    size_t x, w, out, y; /* per row; w 0 without tangents */
} widths;

static widths widths_of(const nb_deriv_ctx *ctx, op o)
{
    size_t n = ctx->n_in, m = ctx->n_out;
    widths d = {n, 0, n * m, m}; /* n * m: widths fit 32 bits each */
    if (o == OP_JVP)
        d.w = n, d.out = m;
    if (o == OP_VJP)
        d.w = m, d.out = n;
    return d;
}

static nb_status check_args(const nb_deriv_ctx *ctx, op o, const double *x, const double *w,
                            size_t rows, const double *out, const double *y)
{
    if (!ctx || !x || !out || ((o == OP_JVP || o == OP_VJP) && !w))
        return NB_ERR_NULL;
    if (rows == 0)
        return NB_ERR_SHAPE;
    widths d = widths_of(ctx, o);
    size_t widest = d.out > d.x ? d.out : d.x;
    widest = widest > d.w ? widest : d.w;
    if (rows > SIZE_MAX / sizeof(double) / widest)
        return NB_ERR_OVERFLOW;
    span sx = span_of(x, rows * d.x), sw = span_of(w, rows * d.w);
    span so = span_of(out, rows * d.out), sy = span_of(y, rows * d.y);
    if (meet(so, sx) || meet(so, sw) || meet(so, sy) || meet(sy, sx) || meet(sy, sw))
        return NB_ERR_ALIAS;
    if (!all_narrow_finite(x, rows * d.x) || (w && !all_narrow_finite(w, rows * d.w)))
        return NB_ERR_NONFINITE;
    return NB_OK;
}

static nb_status run_chunk(nb_deriv_ctx *ctx, op o, nb__deriv_f64_bufs b, size_t n, bool with_y)
{
    widths d = widths_of(ctx, o);
    nb_tensor X = nb_tensor_view(b.x, n, d.x), W = nb_tensor_view(b.w, n, d.w);
    nb_tensor R = nb_tensor_view(b.out, n, d.out), Y = nb_tensor_view(b.y, n, d.y);
    nb_tensor *py = with_y ? &Y : NULL;
    switch (o) {
    case OP_JAC:
        return nb_deriv_jacobian(ctx, &X, &R, py);
    case OP_JAC_T:
        return nb_deriv_jacobian_t(ctx, &X, &R, py);
    case OP_JVP:
        return nb_deriv_jvp(ctx, &X, &W, &R, py);
    default:
        return nb_deriv_vjp(ctx, &X, &W, &R, py);
    }
}

static nb_status run_f64(nb_deriv_ctx *ctx, op o, const double *x, const double *w, size_t rows,
                         double *out, double *y)
{
    NB_TRY(check_args(ctx, o, x, w, rows, out, y));
    widths d = widths_of(ctx, o);
    nb__deriv_f64_bufs b = nb__deriv_f64_layout(ctx);
    /* chunks of max_batch rows, as the float calls make them: the same products, the same bits */
    for (size_t r0 = 0; r0 < rows; r0 += ctx->max_batch) {
        size_t n = rows - r0 < ctx->max_batch ? rows - r0 : ctx->max_batch;
        narrow(b.x, x + r0 * d.x, n * d.x);
        if (w)
            narrow(b.w, w + r0 * d.w, n * d.w);
        NB_TRY(run_chunk(ctx, o, b, n, y != NULL));
        widen(out + r0 * d.out, b.out, n * d.out);
        if (y)
            widen(y + r0 * d.y, b.y, n * d.y);
    }
    return NB_OK;
}

nb_status nb_deriv_jacobian_f64(nb_deriv_ctx *ctx, const double *x, size_t rows, double *J,
                                double *y)
{
    return run_f64(ctx, OP_JAC, x, NULL, rows, J, y);
}

nb_status nb_deriv_jacobian_t_f64(nb_deriv_ctx *ctx, const double *x, size_t rows, double *JT,
                                  double *y)
{
    return run_f64(ctx, OP_JAC_T, x, NULL, rows, JT, y);
}

nb_status nb_deriv_jvp_f64(nb_deriv_ctx *ctx, const double *x, const double *v, size_t rows,
                           double *jv, double *y)
{
    return run_f64(ctx, OP_JVP, x, v, rows, jv, y);
}

nb_status nb_deriv_vjp_f64(nb_deriv_ctx *ctx, const double *x, const double *u, size_t rows,
                           double *uj, double *y)
{
    return run_f64(ctx, OP_VJP, x, u, rows, uj, y);
}
