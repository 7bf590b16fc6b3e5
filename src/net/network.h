/* The network's private layout, shared by the net layer (structure, forward, backward,
   prediction, inference) and the training step above it. */
#ifndef NB_NET_NETWORK_H
#define NB_NET_NETWORK_H

#include "kernels/dense_bf16.h"
#include "kernels/kernels.h"

typedef struct nb_layer {
    size_t in, out;
    nb_act act;
    float dropout; /* probability of dropping an output in training; 0: none */
    size_t w_off, b_off; /* offsets into the parameter and gradient buffers */
    size_t z_off; /* where nb__act_needs_z(act): its pre-activation at pre + cap * z_off */
} nb_layer;

/* Where a forward pass writes each layer's output: with acts set, layer l goes to
   acts + cap * act_off[l] and every layer is kept (what backward needs); otherwise layers
   alternate between buf[0] and buf[1] (prediction in an inference context). */
typedef struct nb__fwd_ws {
    float *acts;
    size_t cap;
    /* With acts: the pre-activations Z of the layers whose derivative needs them
       (nb__act_needs_z), layer l's at pre + cap * z_off (the others keep only A).  NULL (and
       always without acts): none kept. */
    float *pre;
    float *buf[2];
    nb__bf16 *bf16; /* training in bf16 (net/precision.c); NULL: fp32 products */
    /* Training with dropout: layer l's dropped output goes to drop + cap * act_off[l] (its
       undropped output stays in acts, which backward needs) with the mask of
       nb__dropout_key(drop_seed, 0, l).  NULL: no dropout (prediction never drops). */
    float *drop;
    uint64_t drop_seed;
    size_t drop_row0; /* the rows' offset in their global batch (MPI slices) */
} nb__fwd_ws;

struct nb_net {
    size_t inputs, n_layers, n_params, max_width;
    nb_layer *layers;
    float *params, *grads;

    /* Workspace for up to cap_batch rows: every layer's activations (layer l at
       acts + cap_batch * act_off[l]) and two ping-pong gradient buffers. */
    size_t cap_batch;
    size_t *act_off;
    float *acts, *gbuf[2];
    /* The kept pre-activations (nb__fwd_ws.pre), z_per_row floats per row (the widths of the
       layers that need them; 0 and pre NULL when none does). */
    size_t z_per_row;
    float *pre;

    /* bf16 products in training (net/precision.c); NULL: fp32. */
    nb__bf16 *bf16;

    /* Dropout (a layer's dropout > 0): the dropped outputs, laid out as acts, for up to
       drop_cap rows; drop_on: the training forward drops, with masks from drop_seed (set per
       step by the trainer, or by nb_net_set_dropout_masks). */
    bool any_dropout, drop_on;
    uint64_t drop_seed;
    size_t drop_row0; /* offset of the step's rows in the global batch (slice of a part) */
    float *drop;
    size_t drop_cap;

    /* Batch splitting (net/split.c): n_shards copies of this description, each with its own
       workspace and gradient buffer (parts 1.. of a split step; part 0 is this network). */
    struct nb_net *shards;
    size_t n_shards;

    /* What the last forward left for backward. */
    const float *x_last;
    size_t batch_last;
    bool dropped_last; /* that forward dropped (with drop_seed) */
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
/* Pre-activation of layer l for the current workspace if the network keeps it (its
   activation needs it: nb__act_needs_z), else NULL; what nb__act_bwd takes as Z. */
static inline const float *nb__net_pre(const nb_net *net, size_t l)
{
    return nb__act_needs_z(net->layers[l].act) ? net->pre + net->cap_batch * net->layers[l].z_off
                                              : NULL;
}
/* The input of layer l in the last training forward: the previous layer's (dropped) output,
   or X. */
const float *nb__net_layer_input(const nb_net *net, size_t l);
/* The one forward loop: n rows of X through every layer into ws; returns the output
   (n x outputs).  Only reads the network. */
const float *nb__forward(const nb_net *net, const nb__fwd_ws *ws, const float *X, size_t n);
/* Unchecked forward into the network's own workspace (large enough), kept for backward. */
void nb__net_forward(nb_net *net, const float *X, size_t batch);
/* The same for training: the products in the network's precision (prediction stays fp32). */
void nb__net_forward_train(nb_net *net, const float *X, size_t batch);
/* After nb__net_forward: the loss against T (returned) and its gradient with respect to the
   output, which backward starts from.  Wanted loss false: 0 is returned. */
double nb__net_loss_grad(nb_net *net, nb_loss loss, const float *T, bool want_loss);
/* The gradient of the output left by nb__net_loss_grad (batch_last x outputs); backward
   starts from it, so a caller may rescale it first. */
float *nb__net_out_grad(const nb_net *net);
/* The one backward loop, from the output gradient nb__net_loss_grad left.  grads set: the
   gradient buffer of that layout is written and the parameters stay.  grads NULL: the fused
   SGD step, each layer updated with rate lr as soon as its input gradient has been taken with
   the old weights (the weight gradient is never written). */
void nb__net_backward(nb_net *net, float *grads, float lr);
/* As nb__net_backward with grads set, calling done(ctx, l) as soon as layer l's weight and
   bias gradients are written, from the last layer to the first (MPI starts sending them while
   the earlier layers' backward runs), and done(ctx, NB__NET_BETWEEN) after each later input-
   gradient product (a point where MPI can progress the sums already started: on one host
   without a spare core nothing else does).  The products are the same ones in the same
   order as without done, so the gradients are the same bits.  done NULL: nb__net_backward. */
#define NB__NET_BETWEEN ((size_t)-1)
void nb__net_backward_each(nb_net *net, float *grads, void (*done)(void *ctx, size_t layer),
                           void *ctx);
/* After nb__net_forward on rows of a batch of total_rows: their loss (their mean) and its
   gradient, scaled as the whole batch's mean loss (nb__loss_bwd_n). */
double nb__net_loss_grad_n(nb_net *net, nb_loss loss, const float *T, bool want_loss,
                           size_t total_rows);

/* Batch splitting (net/split.c).  A step of rows rows splits over the thread pool when the
   threads allowed (nb_get_threads) are 2 or more, no product of the step is large enough for
   BLAS threads (core/threads.h), the step's forward makes at least NB_SPLIT_MIN_MAC
   multiply-adds and each part gets at least NB_SPLIT_MIN_ROWS rows (measured with
   nablas-bench-train --split-sweep, docs/performance.md); not with bf16 products.
   200k, not the 50k the sweep alone suggests: in the quiet run of 2026-12-02, W4 (1000 rows,
   68k multiply-adds, one step per epoch) split in training was 0.84x its unsplit epoch while
   the sweep's steps near that size gained at most 1.16x. */
#define NB_SPLIT_MIN_MAC 200000.0
#define NB_SPLIT_MIN_ROWS 64
enum { NB_SPLIT_AUTO, NB_SPLIT_OFF, NB_SPLIT_ALWAYS };
/* The rule above (AUTO), never, or whenever threads and rows allow (benchmarks and tests). */
void nb__split_policy(int mode);
/* The parts a training step on rows rows splits into (1: it does not split). */
int nb__split_parts(const nb_net *net, size_t rows);
/* Makes the shards and pool workers that steps of up to rows rows need (nb__net_prepare). */
nb_status nb__split_reserve(nb_net *net, size_t rows);
/* Shard k (1 <= k < parts) set up for a part of `rows` rows at offset row0 of the step's
   rows (its dropout masks follow); NULL if it was not reserved for that. */
nb_net *nb__split_shard(nb_net *net, int k, size_t rows, size_t row0);
void nb__split_free(nb_net *net);

/* Checks that loss fits the output activation. */
nb_status nb__net_check_loss(const nb_net *net, nb_loss loss);
/* Checks targets T (rows x outputs) and the loss for this network. */
nb_status nb__net_check_targets(const nb_net *net, nb_loss loss, const nb_tensor *T, size_t rows);

#endif
