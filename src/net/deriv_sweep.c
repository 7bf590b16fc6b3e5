/* The tangent sweeps of the input derivatives: all the tangents (k per row) of a block of rows
   carried through one matrix product per layer on (rows * k) x width matrices, the
   activations' Jacobians applied between (net/deriv_act.c). */
#include <string.h>

#include "net/deriv.h"

/* the Jacobian of layer l's activation for the last forward, from row r0 */
static const float *djac_of(const nb_deriv_ctx *ctx, size_t l, size_t r0)
{
    size_t off = r0 * ctx->net->layers[l].out;
    return ctx->kind[l] == NB__DJ_SOFTMAX ? ctx->a[l] + off : ctx->d[l] + off;
}

size_t nb__deriv_block(const nb_deriv_ctx *ctx, size_t k)
{
    size_t b = ctx->t_cap / (k * ctx->net->max_width);
    return b < 1 ? 1 : b > ctx->max_batch ? ctx->max_batch : b;
}

void nb__deriv_reverse(nb_deriv_ctx *ctx, size_t r0, size_t n, size_t k, size_t top, float *dst)
{
    const nb_net *net = ctx->net;
    float *G = ctx->t[0], *Gp = ctx->t[1];
    if (ctx->probs && top == net->n_layers)
        nb__djac_apply(NB__DJ_SOFTMAX, ctx->p + r0 * ctx->n_out, G, n, k, ctx->n_out, ctx->sm);
    if (top == 0) { /* a one-layer linear network: the seeds were the answer */
        memcpy(dst, G, n * k * ctx->n_in * sizeof(float));
        return;
    }
    for (size_t l = top; l-- > 0;) {
        const nb_layer *L = &net->layers[l];
        nb__djac_apply(ctx->kind[l], djac_of(ctx, l, r0), G, n, k, L->out, ctx->sm);
        float *to = l ? Gp : dst;
        nb__dense_dx(G, net->params + L->w_off, to, n * k, L->in, L->out);
        Gp = G;
        G = to;
    }
}

float *nb__deriv_forward_sweep(nb_deriv_ctx *ctx, size_t r0, size_t n, size_t k)
{
    const nb_net *net = ctx->net;
    float *T = ctx->t[0], *Tn = ctx->t[1];
    for (size_t l = 0; l < net->n_layers; l++) {
        const nb_layer *L = &net->layers[l];
        if (l) {
            nb__dense_fwd(T, net->params + L->w_off, NULL, Tn, n * k, L->in, L->out);
            float *s = T;
            T = Tn;
            Tn = s;
        }
        nb__djac_apply(ctx->kind[l], djac_of(ctx, l, r0), T, n, k, L->out, ctx->sm);
    }
    if (ctx->probs)
        nb__djac_apply(NB__DJ_SOFTMAX, ctx->p + r0 * ctx->n_out, T, n, k, ctx->n_out, ctx->sm);
    return T;
}
