/* The tangent sweeps of the input derivatives: all rows' tangents (k per row) carried through
   one matrix product per layer on (rows * k) x width blocks, the activations' Jacobians
   applied between (net/deriv_act.c). */
#include "net/deriv.h"

/* Jacobian of the activation of layer l for the last forward */
static const float *djac_of(const nb_deriv_ctx *ctx, size_t l)
{
    return ctx->kind[l] == NB__DJ_SOFTMAX ? ctx->a[l] : ctx->zd[l];
}

void nb__deriv_reverse(nb_deriv_ctx *ctx, size_t n, size_t k, float *dst)
{
    const nb_net *net = ctx->net;
    float *G = ctx->t[0], *Gp = ctx->t[1];
    if (ctx->probs)
        nb__djac_apply(NB__DJ_SOFTMAX, ctx->p, G, n, k, ctx->n_out);
    for (size_t l = net->n_layers; l-- > 0;) {
        const nb_layer *L = &net->layers[l];
        nb__djac_apply(ctx->kind[l], djac_of(ctx, l), G, n, k, L->out);
        float *to = l ? Gp : dst;
        nb__dense_dx(G, net->params + L->w_off, to, n * k, L->in, L->out);
        Gp = G;
        G = to;
    }
}

float *nb__deriv_forward_sweep(nb_deriv_ctx *ctx, size_t n, size_t k)
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
        nb__djac_apply(ctx->kind[l], djac_of(ctx, l), T, n, k, L->out);
    }
    if (ctx->probs)
        nb__djac_apply(NB__DJ_SOFTMAX, ctx->p, T, n, k, ctx->n_out);
    return T;
}
