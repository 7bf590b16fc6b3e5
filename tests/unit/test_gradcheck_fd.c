/* Finite-difference checks of whole networks: nb_net_backward's gradient of every parameter
   against central differences of nb_net_evaluate's (double) loss, for every activation in the
   hidden layers and every loss with the output layers that suit it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "common.h"

enum { IN = 4, H1 = 5, H2 = 6, OUT = 3, BATCH = 6 };

/* float32 forward: the loss carries ~1e-7 relative noise, so a step of 1e-3 keeps the
   difference quotient's noise near 1e-4 while the truncation error (step^2) stays below it */
#define STEP 1e-3f
#define TOL 2e-3 /* norm-wise: max |fd - g| / max |g| */

static void make_targets(nb_loss loss, nb_rng *r, float *t)
{
    if (loss == NB_LOSS_SOFTMAX_CE)
        tc_fill_prob_rows(r, t, BATCH, OUT, false);
    else
        tc_fill_uniform(r, t, BATCH * OUT, 0.05, 0.95);
}

/* Returns the norm-wise relative error; fails the test if the gradient is trivially small. */
static double check(nb_act hidden, nb_act out_act, nb_loss loss, uint64_t seed)
{
    const nb_layer_spec l[] = {{H1, hidden, 0}, {H2, hidden, 0}, {OUT, out_act, 0}};
    nb_net *net = tc_net(IN, l, 3, seed);
    nb_rng r;
    nb_rng_seed(&r, seed);
    float x[BATCH * IN], t[BATCH * OUT];
    tc_fill_uniform(&r, x, BATCH * IN, -1.5, 1.5);
    make_targets(loss, &r, t);
    /* non-zero biases, so that every parameter matters and no unit sits exactly at a kink */
    for (size_t k = 0; k < 3; k++) {
        nb_tensor W, b;
        nb_net_layer_params(net, k, &W, &b);
        tc_fill_uniform(&r, b.data, b.cols, -0.3, 0.3);
    }
    nb_tensor X = nb_tensor_view(x, BATCH, IN), T = nb_tensor_view(t, BATCH, OUT);
    size_t n = nb_net_num_params(net);
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(net, loss, &T, NULL), NB_OK);
    float *g = tc_fdup(nb_net_grads(net), n);
    double *fd = tc_dalloc(n);

    float *P = nb_net_params(net);
    for (size_t i = 0; i < n; i++) {
        float p = P[i];
        nb_eval plus, minus;
        float pp = p + STEP, pm = p - STEP;
        P[i] = pp;
        cr_assert_eq(nb_net_evaluate(net, &X, &T, loss, &plus), NB_OK);
        P[i] = pm;
        cr_assert_eq(nb_net_evaluate(net, &X, &T, loss, &minus), NB_OK);
        P[i] = p;
        fd[i] = (plus.loss - minus.loss) / ((double)pp - pm); /* the step the floats really took */
    }
    double norm = tc_norm2(g, n);
    cr_assert_gt(norm, 1e-2, "%s hidden, %s output, %s: gradient norm %g is trivially small",
                 nb_act_name(hidden), nb_act_name(out_act), nb_loss_name(loss), norm);
    double e = tc_rel_err(g, fd, n);
    cr_assert_leq(e, TOL, "%s hidden, %s output, %s: relative error %g", nb_act_name(hidden),
                  nb_act_name(out_act), nb_loss_name(loss), e);
    free(g);
    free(fd);
    nb_net_free(net);
    return e;
}

TestSuite(gradcheck_fd, .fini = tc_leak_check);

/* seeds checked by hand clear of the output kink (offset 2000 is not: gelu_tanh into relu) */
#define KINK_FREE_OFFSET 1000

Test(gradcheck_fd, mse_with_every_output_activation)
{
    double worst = 0;
    for (int h = 0; h < NB_ACT_COUNT; h++)
        for (int o = 0; o < NB_ACT_COUNT; o++) {
            /* a newer (smooth) output activation (GELU onwards) takes the seed of the identity
               output: the same data and hidden layers, which that case shows clear of ReLU
               kinks (a hidden unit within the step of its kink spoils the difference
               quotient, not the gradient) */
            uint64_t seed = 100 + 10 * (uint64_t)h + (o < NB_ACT_GELU ? (uint64_t)o : 0);
            /* a newer hidden activation before a ReLU-family output: seeds whose output units
               stay clear of the kink */
            if (h >= NB_ACT_GELU && (o == NB_ACT_RELU || o == NB_ACT_LEAKY_RELU))
                seed += KINK_FREE_OFFSET;
            double e = check((nb_act)h, (nb_act)o, NB_LOSS_MSE, seed);
            worst = e > worst ? e : worst;
        }
    fprintf(stderr, "worst relative error, finite differences, MSE: %.3g\n", worst);
}

Test(gradcheck_fd, bce_with_sigmoid_and_softmax_outputs)
{
    double worst = 0;
    for (int h = 0; h < NB_ACT_COUNT; h++) {
        double e = check((nb_act)h, NB_ACT_SIGMOID, NB_LOSS_BCE, 200 + (uint64_t)h);
        double e2 = check((nb_act)h, NB_ACT_SOFTMAX, NB_LOSS_BCE, 300 + (uint64_t)h);
        worst = fmax(worst, fmax(e, e2));
    }
    fprintf(stderr, "worst relative error, finite differences, BCE: %.3g\n", worst);
}

Test(gradcheck_fd, softmax_ce_with_identity_output)
{
    double worst = 0;
    for (int h = 0; h < NB_ACT_COUNT; h++) {
        double e = check((nb_act)h, NB_ACT_IDENTITY, NB_LOSS_SOFTMAX_CE, 400 + (uint64_t)h);
        worst = e > worst ? e : worst;
    }
    fprintf(stderr, "worst relative error, finite differences, softmax-CE: %.3g\n", worst);
}
