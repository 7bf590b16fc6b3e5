/* Training converges: XOR, the house-price network against its least-squares optimum, the
   tutorial's 4-16-8-3 network (workload W1) and a 3-class Gaussian-blobs problem. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "common.h"
#include "house_data.h"

static void xor_case(nb_loss loss, uint64_t seed)
{
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, t[] = {0, 1, 1, 0}, y[4];
    const nb_layer_spec l[] = {{4, NB_ACT_TANH, 0}, {1, NB_ACT_SIGMOID, 0}};
    nb_net *net = tc_net(2, l, 2, seed);
    nb_tensor X = nb_tensor_view(x, 4, 2), T = nb_tensor_view(t, 4, 1), Y = nb_tensor_view(y, 4, 1);
    nb_train_opts o = nb_train_opts_default();
    o.loss = loss;
    o.epochs = 2000;
    o.batch_size = 4;
    o.lr = loss == NB_LOSS_BCE ? 0.5f : 1.0f;
    o.seed = seed;
    nb_eval ev;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    cr_assert_eq(nb_net_evaluate(net, &X, &T, loss, &ev), NB_OK);
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    cr_assert_eq(ev.accuracy, 1.0, "%s seed %llu: accuracy %g, outputs %.3f %.3f %.3f %.3f",
                 nb_loss_name(loss), (unsigned long long)seed, ev.accuracy, y[0], y[1], y[2], y[3]);
    for (int i = 0; i < 4; i++) /* confidently right, not just on the right side of 0.5 */
        cr_assert_lt(fabsf(y[i] - t[i]), 0.25f, "%s seed %llu: output %d = %.3f",
                     nb_loss_name(loss), (unsigned long long)seed, i, y[i]);
    nb_net_free(net);
}

TestSuite(convergence, .fini = tc_leak_check);

Test(convergence, xor_bce)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        xor_case(NB_LOSS_BCE, seed);
}

Test(convergence, xor_mse)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        xor_case(NB_LOSS_MSE, seed);
}

/* W4: 1000 houses, 4-8-4-1 linear, MSE, full-batch gradient descent at lr 0.01, 125 epochs. */
Test(convergence, house_prices_reach_least_squares)
{
    enum { N = 1000 };
    const uint64_t seeds[] = {42, 7};
    for (size_t s = 0; s < 2; s++) {
        float *x = tc_falloc(N * HOUSE_FEATURES), *y = tc_falloc(N);
        house_generate(N, seeds[s], x, y);
        double best = house_lstsq_mse(N, HOUSE_FEATURES, x, y);
        cr_assert_gt(best, 0.0, "least squares failed");
        const nb_layer_spec l[] = {{8, NB_ACT_IDENTITY, 0}, {4, NB_ACT_IDENTITY, 0}, {1, NB_ACT_IDENTITY, 0}};
        nb_net *net = tc_net(HOUSE_FEATURES, l, 3, seeds[s]);
        nb_tensor X = nb_tensor_view(x, N, HOUSE_FEATURES), Y = nb_tensor_view(y, N, 1);
        nb_eval before, after;
        cr_assert_eq(nb_net_evaluate(net, &X, &Y, NB_LOSS_MSE, &before), NB_OK);
        nb_train_opts o = nb_train_opts_default();
        o.batch_size = N;
        o.epochs = 125;
        o.lr = 0.01f;
        o.seed = seeds[s];
        nb_train_report rep;
        cr_assert_eq(nb_net_train(net, &X, &Y, &o, &rep), NB_OK);
        cr_assert_eq(nb_net_evaluate(net, &X, &Y, NB_LOSS_MSE, &after), NB_OK);
        fprintf(stderr, "house seed %llu: loss %.6f -> %.6f, least squares %.6f (%+.2f%%)\n",
                (unsigned long long)seeds[s], before.loss, after.loss, best,
                100 * (after.loss / best - 1));
        cr_assert_leq(after.loss, 1.10 * best, "seed %llu: %.6f is not within 10%% of %.6f",
                      (unsigned long long)seeds[s], after.loss, best);
        cr_assert_gt(before.loss, 2 * best, "the start was already at the optimum");
        free(x);
        free(y);
        nb_net_free(net);
    }
}

/* W1: 4096 rows, 4 inputs and 3 targets U[0,1), 4-16-8-3 relu/relu/sigmoid, MSE, SGD lr 0.1,
   batch 32, no shuffle.  The targets are noise, so the floor is their variance, 1/12: the
   loss must fall clearly toward it. */
Test(convergence, tutorial_4_16_8_3_lowers_its_loss)
{
    enum { N = 4096 };
    float *x = tc_falloc(N * 4), *t = tc_falloc(N * 3);
    nb_rng r;
    nb_rng_seed(&r, 1);
    tc_fill_uniform(&r, x, N * 4, 0, 1);
    tc_fill_uniform(&r, t, N * 3, 0, 1);
    const nb_layer_spec l[] = {{16, NB_ACT_RELU, 0}, {8, NB_ACT_RELU, 0}, {3, NB_ACT_SIGMOID, 0}};
    nb_net *net = tc_net(4, l, 3, 1);
    nb_tensor X = nb_tensor_view(x, N, 4), T = nb_tensor_view(t, N, 3);
    nb_eval before, after;
    cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_MSE, &before), NB_OK);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 32;
    o.epochs = 10;
    o.lr = 0.1f;
    o.shuffle = false;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_MSE, &after), NB_OK);
    fprintf(stderr, "W1: loss %.5f -> %.5f (noise floor %.5f)\n", before.loss, after.loss, 1.0 / 12);
    double gap0 = before.loss - 1.0 / 12, gap1 = after.loss - 1.0 / 12;
    cr_assert_lt(after.loss, 0.8 * before.loss, "loss %.5f -> %.5f", before.loss, after.loss);
    cr_assert_lt(gap1, 0.1 * gap0, "excess over the floor %.5f -> %.5f", gap0, gap1);
    free(x);
    free(t);
    nb_net_free(net);
}

/* Three Gaussian blobs in 2-D, softmax cross-entropy; judged on fresh points. */
static void blobs(nb_rng *r, float *x, float *t, size_t n)
{
    const double cx[3] = {0, 4, 2}, cy[3] = {0, 0, 3.5};
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)nb_rng_below(r, 3);
        x[2 * i] = (float)(cx[c] + 0.8 * nb_rng_normal(r));
        x[2 * i + 1] = (float)(cy[c] + 0.8 * nb_rng_normal(r));
        for (size_t j = 0; j < 3; j++)
            t[3 * i + j] = j == c;
    }
}

Test(convergence, gaussian_blobs_softmax_ce)
{
    enum { N = 600 };
    float x[N * 2], t[N * 3], xv[N * 2], tv[N * 3];
    nb_rng r;
    nb_rng_seed(&r, 3);
    blobs(&r, x, t, N);
    blobs(&r, xv, tv, N);
    const nb_layer_spec l[] = {{16, NB_ACT_RELU, 0}, {3, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(2, l, 2, 3);
    nb_tensor X = nb_tensor_view(x, N, 2), T = nb_tensor_view(t, N, 3);
    nb_tensor XV = nb_tensor_view(xv, N, 2), TV = nb_tensor_view(tv, N, 3);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.batch_size = 32;
    o.epochs = 30;
    o.lr = 0.1f;
    o.seed = 3;
    nb_eval before, train, held;
    cr_assert_eq(nb_net_evaluate(net, &XV, &TV, NB_LOSS_SOFTMAX_CE, &before), NB_OK);
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_SOFTMAX_CE, &train), NB_OK);
    cr_assert_eq(nb_net_evaluate(net, &XV, &TV, NB_LOSS_SOFTMAX_CE, &held), NB_OK);
    fprintf(stderr, "blobs: accuracy %.3f -> train %.3f, held-out %.3f; loss %.4f -> %.4f\n",
            before.accuracy, train.accuracy, held.accuracy, before.loss, held.loss);
    cr_assert_gt(train.accuracy, 0.95, "training accuracy %g", train.accuracy);
    cr_assert_gt(held.accuracy, 0.95, "held-out accuracy %g", held.accuracy);
    cr_assert_lt(held.loss, 0.5 * before.loss);
    nb_net_free(net);
}
