/* The public input-derivative calls (include/nablas/deriv.h): argument checks, chunks of up
   to max_batch rows, the seeds of each mode and the scaling by the standardisations. */
#include <string.h>

#include "net/deriv.h"

typedef enum op { OP_JAC, OP_JAC_T, OP_JVP, OP_VJP } op;

static nb_status check_finite(const nb_tensor *t)
{
    return nb__all_finite(t->data, t->rows * t->cols) ? NB_OK : NB_ERR_NONFINITE;
}

static nb_status check_args(const nb_deriv_ctx *ctx, op o, const nb_tensor *X,
                            const nb_tensor *V, const nb_tensor *R, const nb_tensor *Y)
{
    if (!ctx)
        return NB_ERR_NULL;
    size_t n = ctx->n_in, m = ctx->n_out;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != n)
        return NB_ERR_SHAPE;
    size_t b = X->rows;
    if (o == OP_JVP || o == OP_VJP)
        NB_TRY(nb__check_shape(V, b, o == OP_JVP ? n : m));
    size_t r_cols = o == OP_JVP ? m : o == OP_VJP ? n : n * m; /* n * m: widths fit 32 bits */
    NB_TRY(nb__check_shape(R, b, r_cols));
    if (Y)
        NB_TRY(nb__check_shape(Y, b, m));
    if (nb__overlap(X, R) || nb__overlap(V, R) || nb__overlap(Y, R) || nb__overlap(X, Y)
        || nb__overlap(V, Y))
        return NB_ERR_ALIAS;
    NB_TRY(check_finite(X));
    if (V)
        NB_TRY(check_finite(V));
    return NB_OK;
}

/* the outputs in the user's units */
static void write_y(const nb_deriv_ctx *ctx, const float *out, float *y, size_t nb)
{
    size_t m = ctx->n_out;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < m; j++)
            y[i * m + j] = ctx->sy ? out[i * m + j] * ctx->sy[j] + ctx->my[j] : out[i * m + j];
}

/* Reverse mode over one chunk of nb rows: k = outputs seeds e_i sy_i per row (Jacobian) or
   one seed u sy (VJP).  The input cotangents are each row's Jacobian (or u^T J) with respect
   to the standardised input: divided by sx they are in the user's units. */
static void chunk_reverse(nb_deriv_ctx *ctx, op o, const float *u, float *r, size_t nb)
{
    size_t n = ctx->n_in, m = ctx->n_out, k = o == OP_VJP ? 1 : m;
    float *G = ctx->t[0];
    if (o == OP_VJP) {
        for (size_t b = 0; b < nb; b++)
            for (size_t i = 0; i < m; i++)
                G[b * m + i] = ctx->sy ? u[b * m + i] * ctx->sy[i] : u[b * m + i];
    } else {
        memset(G, 0, nb * m * m * sizeof(float));
        for (size_t b = 0; b < nb; b++)
            for (size_t i = 0; i < m; i++)
                G[(b * m + i) * m + i] = ctx->sy ? ctx->sy[i] : 1.0f;
    }
    /* row b's k cotangents are the k rows of its block of J: written in place */
    nb__deriv_reverse(ctx, nb, k, r);
    if (o == OP_JAC_T) { /* the sweep is over: a tangent buffer holds the blocks to transpose */
        float *dst = ctx->t[0];
        memcpy(dst, r, nb * m * n * sizeof(float));
        for (size_t b = 0; b < nb; b++)
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    float v = dst[(b * m + i) * n + j];
                    r[(b * n + j) * m + i] = ctx->sx ? v / ctx->sx[j] : v;
                }
    } else if (ctx->sx) {
        for (size_t row = 0; row < nb * k; row++)
            for (size_t j = 0; j < n; j++)
                r[row * n + j] /= ctx->sx[j];
    }
}

/* Forward mode over one chunk: k = inputs tangents e_j / sx_j per row (Jacobian), whose first
   product diag(1/sx) W_0 is the same for every row, or one tangent v / sx (JVP). */
static void chunk_forward(nb_deriv_ctx *ctx, op o, const float *v, float *r, size_t nb)
{
    const nb_net *net = ctx->net;
    const nb_layer *L0 = &net->layers[0];
    const float *W0 = net->params + L0->w_off;
    size_t n = ctx->n_in, m = ctx->n_out, w = L0->out, k = o == OP_JVP ? 1 : n;
    float *T0 = ctx->t[0];
    if (o == OP_JVP) {
        float *S = ctx->t[1];
        for (size_t b = 0; b < nb; b++)
            for (size_t j = 0; j < n; j++)
                S[b * n + j] = ctx->sx ? v[b * n + j] / ctx->sx[j] : v[b * n + j];
        nb__dense_fwd(S, W0, NULL, T0, nb, n, w);
    } else {
        for (size_t j = 0; j < n; j++)
            for (size_t c = 0; c < w; c++)
                T0[j * w + c] = ctx->sx ? W0[j * w + c] / ctx->sx[j] : W0[j * w + c];
        for (size_t b = 1; b < nb; b++)
            memcpy(T0 + b * n * w, T0, n * w * sizeof(float));
    }
    const float *T = nb__deriv_forward_sweep(ctx, nb, k);
    /* tangent b*k + j holds dy/dx_j of row b (over the outputs i) */
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < k; j++)
            for (size_t i = 0; i < m; i++) {
                float d = T[(b * k + j) * m + i];
                d = ctx->sy ? d * ctx->sy[i] : d;
                if (o == OP_JAC)
                    r[(b * m + i) * n + j] = d;
                else /* JT's block (b, j, i), or JV's row b (k = 1, j = 0) */
                    r[(b * k + j) * m + i] = d;
            }
}

static nb_status run(nb_deriv_ctx *ctx, op o, const nb_tensor *X, const nb_tensor *V,
                     nb_tensor *R, nb_tensor *Y)
{
    NB_TRY(check_args(ctx, o, X, V, R, Y));
    size_t n = ctx->n_in, m = ctx->n_out, r_cols = R->cols;
    bool fwd = o == OP_JVP || ((o == OP_JAC || o == OP_JAC_T) && ctx->jac_fwd);
    for (size_t s = 0; s < X->rows; s += ctx->max_batch) {
        size_t nb = X->rows - s < ctx->max_batch ? X->rows - s : ctx->max_batch;
        const float *out = nb__deriv_forward(ctx, X->data + s * n, nb);
        if (Y)
            write_y(ctx, out, Y->data + s * m, nb);
        const float *v = V ? V->data + s * V->cols : NULL;
        float *r = R->data + s * r_cols;
        if (fwd)
            chunk_forward(ctx, o, v, r, nb);
        else
            chunk_reverse(ctx, o, v, r, nb);
    }
    return NB_OK;
}

nb_status nb_deriv_jacobian(nb_deriv_ctx *ctx, const nb_tensor *X, nb_tensor *J, nb_tensor *Y)
{
    return run(ctx, OP_JAC, X, NULL, J, Y);
}

nb_status nb_deriv_jacobian_t(nb_deriv_ctx *ctx, const nb_tensor *X, nb_tensor *JT,
                              nb_tensor *Y)
{
    return run(ctx, OP_JAC_T, X, NULL, JT, Y);
}

nb_status nb_deriv_jvp(nb_deriv_ctx *ctx, const nb_tensor *X, const nb_tensor *V, nb_tensor *JV,
                       nb_tensor *Y)
{
    if (!V)
        return NB_ERR_NULL;
    return run(ctx, OP_JVP, X, V, JV, Y);
}

nb_status nb_deriv_vjp(nb_deriv_ctx *ctx, const nb_tensor *X, const nb_tensor *U, nb_tensor *UJ,
                       nb_tensor *Y)
{
    if (!U)
        return NB_ERR_NULL;
    return run(ctx, OP_VJP, X, U, UJ, Y);
}
