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

/* Reverse mode over one chunk of nb rows, block by block: k = outputs seeds e_i sy_i per row
   (Jacobian) or one seed u sy (VJP).  The input cotangents are each row's Jacobian (or u^T J)
   with respect to the standardised input: divided by sx they are in the user's units. */
static void chunk_reverse(nb_deriv_ctx *ctx, op o, const float *u, float *r, size_t nb)
{
    const nb_net *net = ctx->net;
    const nb_layer *last = &net->layers[net->n_layers - 1];
    size_t n = ctx->n_in, m = ctx->n_out, k = o == OP_VJP ? 1 : m, w = last->in;
    size_t bs = nb__deriv_block(ctx, k);
    /* The Jacobian's seeds through a linear output layer are diag(sy) W^T, the same for every
       row: set once per block instead of a product (and the seeds' zeros). */
    bool linear_top = o != OP_VJP && !ctx->probs && last->act == NB_ACT_IDENTITY;
    size_t top = linear_top ? net->n_layers - 1 : net->n_layers;
    for (size_t r0 = 0; r0 < nb; r0 += bs) {
        size_t rows = nb - r0 < bs ? nb - r0 : bs;
        float *G = ctx->t[0], *out = r + r0 * k * n;
        if (o == OP_VJP) {
            const float *ub = u + r0 * m;
            for (size_t b = 0; b < rows; b++)
                for (size_t i = 0; i < m; i++)
                    G[b * m + i] = ctx->sy ? ub[b * m + i] * ctx->sy[i] : ub[b * m + i];
        } else if (linear_top) {
            const float *W = net->params + last->w_off; /* w x m */
            for (size_t i = 0; i < m; i++)
                for (size_t c = 0; c < w; c++)
                    G[i * w + c] = ctx->sy ? ctx->sy[i] * W[c * m + i] : W[c * m + i];
            for (size_t b = 1; b < rows; b++)
                memcpy(G + b * m * w, G, m * w * sizeof(float));
        } else {
            memset(G, 0, rows * m * m * sizeof(float));
            for (size_t b = 0; b < rows; b++)
                for (size_t i = 0; i < m; i++)
                    G[(b * m + i) * m + i] = ctx->sy ? ctx->sy[i] : 1.0f;
        }
        /* row b's k cotangents are the k rows of its block of J: written in place */
        nb__deriv_reverse(ctx, r0, rows, k, top, out);
        if (o == OP_JAC_T) { /* the sweep is over: a tangent buffer holds the blocks to transpose */
            float *tmp = ctx->t[0];
            memcpy(tmp, out, rows * m * n * sizeof(float));
            for (size_t b = 0; b < rows; b++)
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < n; j++) {
                        float v = tmp[(b * m + i) * n + j];
                        out[(b * n + j) * m + i] = ctx->sx ? v / ctx->sx[j] : v;
                    }
        } else if (ctx->sx) {
            for (size_t row = 0; row < rows * k; row++)
                for (size_t j = 0; j < n; j++)
                    out[row * n + j] /= ctx->sx[j];
        }
    }
}

/* Forward mode over one chunk, block by block: k = inputs tangents e_j / sx_j per row
   (Jacobian), whose first product diag(1/sx) W_0 is the same for every row, or one tangent
   v / sx (JVP). */
static void chunk_forward(nb_deriv_ctx *ctx, op o, const float *v, float *r, size_t nb)
{
    const nb_net *net = ctx->net;
    const nb_layer *L0 = &net->layers[0];
    const float *W0 = net->params + L0->w_off;
    size_t n = ctx->n_in, m = ctx->n_out, w = L0->out, k = o == OP_JVP ? 1 : n;
    size_t bs = nb__deriv_block(ctx, k);
    for (size_t r0 = 0; r0 < nb; r0 += bs) {
        size_t rows = nb - r0 < bs ? nb - r0 : bs;
        float *T0 = ctx->t[0], *out = r + r0 * k * m;
        if (o == OP_JVP) {
            float *S = ctx->t[1];
            const float *vb = v + r0 * n;
            for (size_t b = 0; b < rows; b++)
                for (size_t j = 0; j < n; j++)
                    S[b * n + j] = ctx->sx ? vb[b * n + j] / ctx->sx[j] : vb[b * n + j];
            nb__dense_fwd(S, W0, NULL, T0, rows, n, w);
        } else {
            for (size_t j = 0; j < n; j++)
                for (size_t c = 0; c < w; c++)
                    T0[j * w + c] = ctx->sx ? W0[j * w + c] / ctx->sx[j] : W0[j * w + c];
            for (size_t b = 1; b < rows; b++)
                memcpy(T0 + b * n * w, T0, n * w * sizeof(float));
        }
        const float *T = nb__deriv_forward_sweep(ctx, r0, rows, k);
        /* tangent b*k + j holds dy/dx_j of row b (over the outputs i) */
        for (size_t b = 0; b < rows; b++)
            for (size_t j = 0; j < k; j++)
                for (size_t i = 0; i < m; i++) {
                    float d = T[(b * k + j) * m + i];
                    d = ctx->sy ? d * ctx->sy[i] : d;
                    if (o == OP_JAC)
                        out[(b * m + i) * n + j] = d;
                    else /* JT's block (b, j, i), or JV's row b (k = 1, j = 0) */
                        out[(b * k + j) * m + i] = d;
                }
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
