/* Rules each guarded by a case where a plausible slip would change the answer: argmax ties,
   the clipping coefficient's 1e-6 at small norms, Levenberg-Marquardt's reported gradient
   norm against a backward pass. */
#include <criterion/criterion.h>
#include <math.h>

#include "nablas.h"

Test(guards, argmax_ties_pick_the_first_maximum)
{
    float v[6] = {1, 3, 3, -1, 3, 2};
    cr_assert_eq(nb_argmax(v, 6), 1);
    float all[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    cr_assert_eq(nb_argmax(all, 4), 0);
    float two[2] = {7, 7};
    cr_assert_eq(nb_class_of(two, 2), 0);
    cr_assert_eq(nb_argmax(v + 2, 3), 0); /* 3, -1, 3 */
}

Test(guards, clipping_adds_1e6_to_the_norm)
{
    /* PyTorch: coef = max_norm / (norm + 1e-6), applied when below 1.  With a norm of 5e-6
       the 1e-6 is a sixth of the denominator. */
    float g[2] = {3e-6f, 4e-6f};
    double norm;
    cr_assert_eq(nb_clip_grad_norm(g, 2, 1e-6, &norm), NB_OK);
    cr_assert_float_eq(norm, 5e-6, 1e-12);
    double coef = 1e-6 / (5e-6 + 1e-6);
    cr_assert_float_eq(g[0], 3e-6 * coef, 3e-6 * 1e-5);
    cr_assert_float_eq(g[1], 4e-6 * coef, 4e-6 * 1e-5);
    /* max_norm equal to the norm: still clipped (5/6), since norm + 1e-6 > max_norm */
    float h[2] = {3e-6f, 4e-6f};
    cr_assert_eq(nb_clip_grad_norm(h, 2, 5e-6, NULL), NB_OK);
    cr_assert_float_eq(h[0], 3e-6 * 5.0 / 6.0, 3e-6 * 1e-5);
    cr_assert_float_eq(h[1], 4e-6 * 5.0 / 6.0, 4e-6 * 1e-5);
}

Test(guards, lm_gradient_norm_is_that_of_a_backward_pass)
{
    /* The report's grad_norm (what min_grad stops on) is ||grad MSE||_2 at the final
       parameters: the norm of nb_net_backward's MSE gradient there. */
    enum { R = 12, IN = 3, OUT = 2 };
    float x[R * IN], t[R * OUT];
    nb_rng rng;
    nb_rng_seed(&rng, 5);
    for (size_t i = 0; i < R * IN; i++)
        x[i] = (float)(2 * nb_rng_uniform(&rng) - 1);
    for (size_t i = 0; i < R * OUT; i++)
        t[i] = (float)(2 * nb_rng_uniform(&rng) - 1);
    nb_tensor X = nb_tensor_view(x, R, IN), T = nb_tensor_view(t, R, OUT);
    nb_layer_spec L[2] = {{4, NB_ACT_TANH, 0.0f}, {OUT, NB_ACT_IDENTITY, 0.0f}};
    for (size_t iters = 1; iters <= 3; iters += 2) {
        nb_net *net;
        cr_assert_eq(nb_net_create(&net, IN, L, 2, 9), NB_OK);
        nb_lm_opts o = nb_lm_opts_default();
        o.iterations = iters;
        o.min_grad = 0;
        nb_lm_report rep;
        cr_assert_eq(nb_net_train_lm(net, &X, &T, &o, &rep), NB_OK);
        cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
        cr_assert_eq(nb_net_backward(net, NB_LOSS_MSE, &T, NULL), NB_OK);
        const float *g = nb_net_grads(net);
        double s = 0;
        for (size_t i = 0; i < nb_net_num_params(net); i++)
            s += (double)g[i] * g[i];
        double want = sqrt(s);
        cr_assert_gt(want, 1e-6);
        cr_assert(fabs(rep.grad_norm - want) <= 1e-4 * want, "%zu iterations: reported %g, "
                  "backward %g", iters, rep.grad_norm, want);
        nb_net_free(net);
    }
}
