/* The network's private layout, shared by net.c (structure, forward, backward) and train.c
   (training loop, evaluation, prediction). */
#ifndef NB_NET_NETWORK_H
#define NB_NET_NETWORK_H

#include "kernels/dense_bf16.h"
#include "kernels/kernels.h"

typedef struct nb_layer {
    size_t in, out;
    nb_act act;
    size_t w_off, b_off; /* offsets into the parameter and gradient buffers */
} nb_layer;

struct nb_net {
    size_t inputs, n_layers, n_params, max_width;
    nb_layer *layers;
    float *params, *grads;

    /* Workspace for up to cap_batch rows: every layer's activations (layer l at
       acts + cap_batch * act_off[l]) and two ping-pong gradient buffers. */
    size_t cap_batch;
    size_t *act_off;
    float *acts, *gbuf[2];

    /* nb_net_train's shuffling buffers, kept across calls so that a repeated call allocates
       nothing: the permutation (perm_cap rows) and one gathered batch (shuf_batch rows). */
    size_t *perm;
    size_t perm_cap, shuf_batch;
    float *xb, *tb;

    /* bf16 products in training (net/precision.c); NULL: fp32. */
    nb__bf16 *bf16;

    /* What the last forward left for backward. */
    const float *x_last;
    size_t batch_last;
    bool ready; /* a forward ran on the current parameters and activations */
};

/* Grows the workspace to hold `batch` rows (no-op if it already does). */
nb_status nb__net_reserve(nb_net *net, size_t batch);
/* nb__net_reserve, and what the network's precision needs for training batches of `batch`
   rows (net/precision.c), so that the steps allocate nothing and cannot fail. */
nb_status nb__net_prepare(nb_net *net, size_t batch);
/* Output activations of layer l for the current workspace. */
static inline float *nb__net_act(const nb_net *net, size_t l)
{
    return net->acts + net->cap_batch * net->act_off[l];
}
/* Unchecked forward / backward / step on `batch` rows (workspace already large enough). */
void nb__net_forward(nb_net *net, const float *X, size_t batch);
double nb__net_train_step(nb_net *net, const float *X, const float *T, size_t batch,
                          nb_loss loss, float lr);
/* Checks that loss fits the output activation. */
nb_status nb__net_check_loss(const nb_net *net, nb_loss loss);

#endif
