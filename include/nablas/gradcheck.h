/* nablas: a gradient check for your own networks.  Compares the gradients nb_net_backward
   computes with central finite differences of the loss, over all parameters or a seeded
   random subset, and reports the largest relative error and where it is.

       nb_gradcheck_result r;
       nb_status s = nb_net_gradcheck(net, &X, &T, NB_LOSS_MSE, NULL, &r);
       // s == NB_OK && r.max_rel_err < 1e-2: the backward pass agrees with the loss

   What to expect in float32.  The loss is summed in double, but the forward pass runs in
   float32, so each loss value carries rounding noise of about 1e-7 of its size; divided by
   the finite-difference step this dominates the comparison (hence the fairly large default
   step: the truncation error of a central difference only overtakes the noise above
   about 3e-2).  With the defaults a correct backward pass typically gives max_rel_err
   around 1e-3 (5e-4 to 5e-3 in nablas' own tests); use 1e-2 as the pass threshold.  A wrong
   gradient (a missing factor, a wrong sign, a wrong slope) gives 1e-1 or more.  A step that
   straddles a kink gives a large error for a correct gradient: ReLU and leaky ReLU at
   z = 0 (e.g. a row whose earlier ReLUs are all off, meeting a zero bias: give biases
   non-zero values before checking) and the BCE clamp at y = 0 or 1.

   Cost: two forward passes over X per checked parameter. */
#ifndef NABLAS_GRADCHECK_H
#define NABLAS_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_gradcheck_opts {
    double step;       /* finite-difference step h = step * max(1, |p|); finite, > 0
                          (default 1e-2) */
    size_t max_params; /* check this many parameters, drawn without repetition from `seed`;
                          0 or >= the number of parameters: all of them (default 0) */
    uint64_t seed;     /* picks the subset (default 0) */
    double floor;      /* relative errors are taken against max(|analytic|, |numeric|,
                          floor * max |analytic gradient|): gradients far below the
                          gradient's scale are compared absolutely; finite, >= 0
                          (default 1e-3) */
} nb_gradcheck_opts;

typedef struct nb_gradcheck_result {
    double max_rel_err; /* largest relative error over the checked parameters */
    size_t worst;       /* its index in the parameter buffer (nb_net_params) */
    double analytic;    /* the gradient nb_net_backward gave there */
    double numeric;     /* the central difference there */
    size_t checked;     /* number of parameters checked */
} nb_gradcheck_result;

nb_gradcheck_opts nb_gradcheck_opts_default(void);

/* Runs forward and backward on X (rows x inputs) and T (rows x outputs) for `loss`, then
   compares every checked gradient with (L(p + h) - L(p - h)) / (2h), L in double as
   nb_net_evaluate computes it.  opts may be NULL (defaults).  *out is written only on
   success.  Afterwards the parameters are bit-identical to before, the gradient buffer holds
   the analytic gradients for X and T, and a new forward is needed before nb_net_backward.
   Returns NB_ERR_NULL, NB_ERR_SHAPE, NB_ERR_ARG (bad option or loss), NB_ERR_LOSS_ACT,
   NB_ERR_NOMEM or NB_ERR_OVERFLOW as the network's functions do.  Never prints. */
nb_status nb_net_gradcheck(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                           const nb_gradcheck_opts *opts, nb_gradcheck_result *out);

/* The same comparison for gradients you supply (nb_net_num_params floats in the parameter
   buffer's layout), e.g. from your own backward pass or a modified copy of nablas'.
   NB_ERR_ALIAS if grads lies inside the parameter buffer. */
nb_status nb_net_gradcheck_grads(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                                 nb_loss loss, const float *grads,
                                 const nb_gradcheck_opts *opts, nb_gradcheck_result *out);

#ifdef __cplusplus
}
#endif
#endif
