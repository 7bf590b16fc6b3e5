/* What the full-batch trainers need from the network's internals: per-row Jacobian rows from a
   batched backward pass, and the sum of squared errors over many rows in chunks.  The only
   file of src/train/lm.c's that touches struct nb_net. */
#include <string.h>

#include "net/jacobian.h"

size_t nb__net_max_width(const nb_net *net) { return net->max_width; }

const float *nb__net_forward_rows(nb_net *net, const float *X, size_t n)
{
    nb__net_forward(net, X, n);
    return nb__net_act(net, net->n_layers - 1);
}

void nb__net_jacobian_rows(nb_net *net, const float *X, size_t n, size_t k, double *J, float *G,
                           float *G_prev)
{
    size_t P = net->n_params, last = net->n_layers - 1, m = net->layers[last].out;
    /* Seed dy_k/dy = e_k in every row: a backward pass then leaves dy_k/dZ_l per row. */
    memset(G, 0, n * m * sizeof *G);
    for (size_t i = 0; i < n; i++)
        G[i * m + k] = 1.0f;
    for (size_t l = net->n_layers; l-- > 0;) {
        const nb_layer *L = &net->layers[l];
        const float *A_prev = l ? nb__net_act(net, l - 1) : X;
        nb__act_bwd(L->act, nb__net_pre(net, l), nb__net_act(net, l), G, n, L->out);
        /* A batched backward would sum A_prev^T G over the rows; the Jacobian keeps each row's
           term apart: row i's dW is the outer product a_prev_i g_i^T, its db is g_i. */
        for (size_t i = 0; i < n; i++) {
            double *Ji = J + i * P;
            const float *a = A_prev + i * L->in, *g = G + i * L->out;
            for (size_t p = 0; p < L->in; p++) {
                double ap = a[p];
                double *dst = Ji + L->w_off + p * L->out;
                for (size_t q = 0; q < L->out; q++)
                    dst[q] = ap * (double)g[q];
            }
            for (size_t q = 0; q < L->out; q++)
                Ji[L->b_off + q] = g[q];
        }
        if (l) {
            nb__dense_dx(G, net->params + L->w_off, G_prev, n, L->in, L->out);
            float *t = G;
            G = G_prev;
            G_prev = t;
        }
    }
}

void nb__net_invalidate(nb_net *net) { net->ready = false; }

double nb__net_sse(nb_net *net, const float *X, const float *T, size_t rows, size_t chunk)
{
    size_t in = net->inputs, last = net->n_layers - 1, m = net->layers[last].out;
    double sse = 0.0;
    for (size_t s = 0; s < rows; s += chunk) {
        size_t n = rows - s < chunk ? rows - s : chunk;
        nb__net_forward(net, X + s * in, n);
        const float *Y = nb__net_act(net, last), *Tc = T + s * m;
        for (size_t i = 0; i < n * m; i++) {
            double e = (double)Tc[i] - (double)Y[i];
            sse += e * e;
        }
    }
    net->ready = false; /* chunked: no single batch is left for nb_net_backward */
    return sse;
}
