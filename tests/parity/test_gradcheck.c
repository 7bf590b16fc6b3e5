/* The public gradient check: it passes for nablas' own backward pass on every loss and
   activation, finds a deliberately wrong gradient, leaves the parameters bit-identical and
   rejects bad arguments with a status. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"

#define GRADCHECK_TOL 1e-2 /* documented pass threshold for float32 (include/nablas/gradcheck.h) */

typedef struct fixture {
    nb_net *net;
    float *x, *t;
    nb_tensor X, T;
} fixture;

/* A network and a batch of data from seed: inputs N(0, 1); targets fitting the loss. */
static fixture make(size_t inputs, const nb_layer_spec *specs, size_t n_layers, size_t rows,
                    nb_loss loss, uint64_t seed)
{
    fixture f;
    cr_assert_eq(nb_net_create(&f.net, inputs, specs, n_layers, seed), NB_OK);
    size_t outs = nb_net_outputs(f.net);
    f.x = malloc(rows * inputs * sizeof *f.x);
    f.t = calloc(rows * outs, sizeof *f.t);
    cr_assert(f.x && f.t);
    nb_rng r;
    nb_rng_seed(&r, seed + 1000);
    for (size_t i = 0; i < rows * inputs; i++)
        f.x[i] = (float)nb_rng_normal(&r);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < outs; j++) {
            float *t = &f.t[i * outs + j];
            if (loss == NB_LOSS_MSE)
                *t = (float)nb_rng_normal(&r);
            else if (loss == NB_LOSS_BCE)
                *t = (float)nb_rng_uniform(&r);
            else
                *t = j == (size_t)nb_rng_below(&r, outs) ? 1.0f : 0.0f;
        }
    /* non-zero biases: with zero biases a row whose ReLUs are all off puts the next layer
       exactly on its kink at z = 0, where no finite difference matches */
    for (size_t l = 0; l < n_layers; l++) {
        nb_tensor W, b;
        cr_assert_eq(nb_net_layer_params(f.net, l, &W, &b), NB_OK);
        for (size_t j = 0; j < b.cols; j++)
            b.data[j] = (float)(0.2 * nb_rng_normal(&r));
    }
    f.X = nb_tensor_view(f.x, rows, inputs);
    f.T = nb_tensor_view(f.t, rows, outs);
    return f;
}

static void release(fixture *f)
{
    nb_net_free(f->net);
    free(f->x);
    free(f->t);
}

static void passes(const char *what, size_t inputs, const nb_layer_spec *specs, size_t n,
                   nb_loss loss, const nb_gradcheck_opts *opts)
{
    fixture f = make(inputs, specs, n, 8, loss, 3);
    size_t np = nb_net_num_params(f.net);
    float *before = malloc(np * sizeof *before);
    cr_assert(before);
    memcpy(before, nb_net_params(f.net), np * sizeof *before);
    nb_gradcheck_result r;
    cr_assert_eq(nb_net_gradcheck(f.net, &f.X, &f.T, loss, opts, &r), NB_OK);
    cr_expect_eq(r.checked, np);
    cr_expect(r.max_rel_err < GRADCHECK_TOL, "%s: max rel err %.3e at %zu (%g vs %g)", what,
              r.max_rel_err, r.worst, r.analytic, r.numeric);
    cr_expect(memcmp(before, nb_net_params(f.net), np * sizeof *before) == 0,
              "%s: parameters changed", what);
    fprintf(stderr, "gradcheck %-24s max rel err %.3e over %zu parameters\n", what,
            r.max_rel_err, r.checked);
    free(before);
    release(&f);
}

Test(gradcheck, passes_on_every_loss_and_activation)
{
    passes("tanh/sigmoid bce", 5,
           (nb_layer_spec[]){{7, NB_ACT_TANH, 0}, {3, NB_ACT_SIGMOID, 0}}, 2, NB_LOSS_BCE, NULL);
    passes("tanh/identity softmax_ce", 6,
           (nb_layer_spec[]){{9, NB_ACT_TANH, 0}, {4, NB_ACT_IDENTITY, 0}}, 2, NB_LOSS_SOFTMAX_CE,
           NULL);
    passes("sigmoid/softmax mse", 3,
           (nb_layer_spec[]){{5, NB_ACT_SIGMOID, 0}, {4, NB_ACT_SOFTMAX, 0}}, 2, NB_LOSS_MSE, NULL);
    /* ReLUs: the default step (1e-2) crosses a kink here (a pre-activation of 0.0026);
       a smaller step stays clear of it, and a larger floor absorbs the extra noise */
    nb_gradcheck_opts o = nb_gradcheck_opts_default();
    o.step = 1e-3;
    o.floor = 1e-2;
    passes("relu/leaky/identity mse", 4,
           (nb_layer_spec[]){{6, NB_ACT_RELU, 0}, {5, NB_ACT_LEAKY_RELU, 0}, {2, NB_ACT_IDENTITY, 0}}, 3,
           NB_LOSS_MSE, &o);
}

Test(gradcheck, finds_a_wrong_gradient)
{
    fixture f = make(4, (nb_layer_spec[]){{6, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}}, 2, 8,
                     NB_LOSS_MSE, 5);
    size_t np = nb_net_num_params(f.net);
    cr_assert_eq(nb_net_forward(f.net, &f.X, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(f.net, NB_LOSS_MSE, &f.T, NULL), NB_OK);
    float *g = malloc(np * sizeof *g);
    cr_assert(g);
    memcpy(g, nb_net_grads(f.net), np * sizeof *g);
    nb_gradcheck_result r;
    cr_assert_eq(nb_net_gradcheck_grads(f.net, &f.X, &f.T, NB_LOSS_MSE, g, NULL, &r), NB_OK);
    cr_expect(r.max_rel_err < GRADCHECK_TOL);

    /* the classic bug: one gradient 20% off (e.g. a missing term); pick the largest one */
    size_t k = 0;
    for (size_t i = 1; i < np; i++)
        if (fabsf(g[i]) > fabsf(g[k]))
            k = i;
    g[k] *= 1.2f;
    cr_assert_eq(nb_net_gradcheck_grads(f.net, &f.X, &f.T, NB_LOSS_MSE, g, NULL, &r), NB_OK);
    cr_expect(r.max_rel_err > 0.1, "wrong gradient not found: %.3e", r.max_rel_err);
    cr_expect_eq(r.worst, k);

    /* the same for a gradient with the wrong sign, found through a random subset */
    memcpy(g, nb_net_grads(f.net), np * sizeof *g);
    for (size_t i = 0; i < np; i++)
        g[i] = -g[i];
    nb_gradcheck_opts o = nb_gradcheck_opts_default();
    o.max_params = 5;
    o.seed = 9;
    cr_assert_eq(nb_net_gradcheck_grads(f.net, &f.X, &f.T, NB_LOSS_MSE, g, &o, &r), NB_OK);
    cr_expect_eq(r.checked, 5);
    cr_expect(r.max_rel_err > 0.5);
    free(g);
    release(&f);
}

Test(gradcheck, subset_is_seeded_and_parameters_stay_bit_identical)
{
    fixture f = make(3, (nb_layer_spec[]){{4, NB_ACT_RELU, 0}, {1, NB_ACT_SIGMOID, 0}}, 2, 6,
                     NB_LOSS_BCE, 11);
    size_t np = nb_net_num_params(f.net);
    float *before = malloc(np * sizeof *before);
    cr_assert(before);
    memcpy(before, nb_net_params(f.net), np * sizeof *before);
    nb_gradcheck_opts o = nb_gradcheck_opts_default();
    o.max_params = 7;
    o.seed = 42;
    nb_gradcheck_result a, b;
    cr_assert_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_BCE, &o, &a), NB_OK);
    cr_assert_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_BCE, &o, &b), NB_OK);
    cr_expect_eq(a.checked, 7);
    cr_expect_eq(a.worst, b.worst);
    cr_expect_eq(a.max_rel_err, b.max_rel_err);
    cr_expect(memcmp(before, nb_net_params(f.net), np * sizeof *before) == 0);
    /* more than there are: all of them */
    o.max_params = np + 5;
    cr_assert_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_BCE, &o, &a), NB_OK);
    cr_expect_eq(a.checked, np);
    cr_expect(memcmp(before, nb_net_params(f.net), np * sizeof *before) == 0);
    /* the gradient buffer holds the analytic gradients afterwards; backward needs a forward */
    cr_expect_eq(nb_net_backward(f.net, NB_LOSS_BCE, &f.T, NULL), NB_ERR_STATE);
    free(before);
    release(&f);
}

Test(gradcheck, rejects_bad_arguments_without_writing)
{
    fixture f = make(3, (nb_layer_spec[]){{4, NB_ACT_TANH, 0}, {2, NB_ACT_SIGMOID, 0}}, 2, 5,
                     NB_LOSS_MSE, 1);
    nb_gradcheck_result r, untouched;
    memset(&r, 0x5a, sizeof r);
    untouched = r;
    nb_gradcheck_opts o = nb_gradcheck_opts_default();
    float junk[64] = {0};
    nb_tensor X_bad = nb_tensor_view(f.x, 5, 2), T_bad = nb_tensor_view(f.t, 4, 2);
    nb_tensor X_null = nb_tensor_view(NULL, 5, 3), X_empty = nb_tensor_view(f.x, 0, 3);

    cr_expect_eq(nb_net_gradcheck(NULL, &f.X, &f.T, NB_LOSS_MSE, NULL, &r), NB_ERR_NULL);
    cr_expect_eq(nb_net_gradcheck(f.net, NULL, &f.T, NB_LOSS_MSE, NULL, &r), NB_ERR_NULL);
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, NULL, NB_LOSS_MSE, NULL, &r), NB_ERR_NULL);
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_MSE, NULL, NULL), NB_ERR_NULL);
    cr_expect_eq(nb_net_gradcheck(f.net, &X_null, &f.T, NB_LOSS_MSE, NULL, &r), NB_ERR_NULL);
    cr_expect_eq(nb_net_gradcheck(f.net, &X_empty, &f.T, NB_LOSS_MSE, NULL, &r), NB_ERR_SHAPE);
    cr_expect_eq(nb_net_gradcheck(f.net, &X_bad, &f.T, NB_LOSS_MSE, NULL, &r), NB_ERR_SHAPE);
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &T_bad, NB_LOSS_MSE, NULL, &r), NB_ERR_SHAPE);
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_COUNT, NULL, &r), NB_ERR_ARG);
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &f.T, (nb_loss)-1, NULL, &r), NB_ERR_ARG);
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_SOFTMAX_CE, NULL, &r),
                 NB_ERR_LOSS_ACT);
    const double bad_steps[] = {0.0, -1e-3, NAN, INFINITY};
    for (size_t i = 0; i < 4; i++) {
        o.step = bad_steps[i];
        cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_MSE, &o, &r), NB_ERR_ARG);
    }
    o = nb_gradcheck_opts_default();
    o.floor = -1.0;
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_MSE, &o, &r), NB_ERR_ARG);
    o.floor = NAN;
    cr_expect_eq(nb_net_gradcheck(f.net, &f.X, &f.T, NB_LOSS_MSE, &o, &r), NB_ERR_ARG);
    cr_expect_eq(nb_net_gradcheck_grads(f.net, &f.X, &f.T, NB_LOSS_MSE, NULL, NULL, &r),
                 NB_ERR_NULL);
    /* gradients inside the parameter buffer would move with every perturbation */
    cr_expect_eq(nb_net_gradcheck_grads(f.net, &f.X, &f.T, NB_LOSS_MSE, nb_net_params(f.net),
                                        NULL, &r), NB_ERR_ALIAS);
    cr_expect_eq(nb_net_gradcheck_grads(f.net, &f.X, &f.T, NB_LOSS_MSE, junk, NULL, NULL),
                 NB_ERR_NULL);
    cr_expect(memcmp(&r, &untouched, sizeof r) == 0, "result written on failure");
    release(&f);
}
