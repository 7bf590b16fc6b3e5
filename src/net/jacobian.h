/* The network internals the full-batch trainers (src/train/lm.c, lbfgs.c) use: Jacobian rows
   and chunked sums of squared errors (src/net/jacobian.c). */
#ifndef NB_NET_JACOBIAN_H
#define NB_NET_JACOBIAN_H

#include "net/network.h"

/* The widest layer (inputs included): the gradient buffers hold n x max_width floats. */
size_t nb__net_max_width(const nb_net *net);

/* Forward pass on n rows of X (the workspace must hold n rows); returns the output activations
   (n x outputs), valid until the next pass. */
const float *nb__net_forward_rows(nb_net *net, const float *X, size_t n);

/* After nb__net_forward_rows on the n rows of X: J (n x P doubles, row-major, P = n_params) gets
   row i = d y_ik / d params for output k, from one batched backward pass seeded with e_k.
   G and G_prev: n x max_width floats of scratch.  The activations stay as the forward left
   them (call again for another k). */
void nb__net_jacobian_rows(nb_net *net, const float *X, size_t n, size_t k, double *J, float *G,
                           float *G_prev);

/* Marks the activations stale, so that nb_net_backward refuses to run on rows of a trainer's
   chunks (which the caller may free). */
void nb__net_invalidate(nb_net *net);

/* Sum over rows and outputs of (t - y)^2, in double, forward passes of `chunk` rows (the
   workspace must hold chunk rows). */
double nb__net_sse(nb_net *net, const float *X, const float *T, size_t rows, size_t chunk);

#endif
