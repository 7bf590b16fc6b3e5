/* The worked examples of the tutorials nablas grew from, as tests named after what each one
   shows.  Each checks nablas against numbers derived by hand (in double, in the test). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "house_data.h"
#include "nablas.h"

static double rel(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-30); }

/* The "backward demo": one Dense(1,1) layer, x = 2, y = 4, MSE. */
Test(worked_examples, dense_1x1_backward_demo_weight_grad_is_2_err_x_and_bias_grad_2_err)
{
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 1, (nb_layer_spec[]){{1, NB_ACT_IDENTITY, 0}}, 1, 0), NB_OK);
    float *p = nb_net_params(net);
    p[0] = 3.0f; /* w */
    p[1] = 1.0f; /* b */
    float x = 2.0f, y = 4.0f, loss;
    nb_tensor X = nb_tensor_view(&x, 1, 1), T = nb_tensor_view(&y, 1, 1), Y;
    cr_assert_eq(nb_net_forward(net, &X, &Y), NB_OK);
    cr_assert_eq(nb_net_backward(net, NB_LOSS_MSE, &T, &loss), NB_OK);
    double yhat = 3.0 * 2.0 + 1.0; /* 7 */
    cr_expect_eq(Y.data[0], (float)yhat);
    cr_expect_eq(loss, (float)((yhat - y) * (yhat - y)));
    cr_expect_eq(nb_net_grads(net)[0], (float)(2.0 * (yhat - y) * x)); /* 12 */
    cr_expect_eq(nb_net_grads(net)[1], (float)(2.0 * (yhat - y)));     /* 6 */
    nb_net_free(net);
}

/* A single sigmoid neuron trained toward a target: 520 epochs at lr 0.3 reach it. */
Test(worked_examples, single_sigmoid_neuron_520_epochs_lr_0_3_converges_to_target)
{
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 1, (nb_layer_spec[]){{1, NB_ACT_SIGMOID, 0}}, 1, 7), NB_OK);
    float x = 1.5f, target = 0.8f, out;
    nb_tensor X = nb_tensor_view(&x, 1, 1), T = nb_tensor_view(&target, 1, 1);
    nb_tensor Y = nb_tensor_view(&out, 1, 1);
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    double start = fabs(out - target);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_MSE;
    o.batch_size = 1;
    o.epochs = 520;
    o.lr = 0.3f;
    o.shuffle = false;
    nb_train_report rep;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, &rep), NB_OK);
    cr_expect_eq(rep.steps, 520);
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    cr_expect(start > 0.05, "the neuron must start away from the target (%g)", start);
    cr_expect(fabs(out - target) < 1e-3, "output %g, target %g", (double)out, (double)target);
    nb_net_free(net);
}

static double sig(double z) { return 1.0 / (1.0 + exp(-z)); }

/* The 2-3-1 sigmoid network on one sample with loss 1/2 ||yhat - y||^2.  On one sample and
   one output MSE is (yhat - y)^2, so the tutorial's loss is MSE / 2 and its gradients are
   half of nablas' MSE gradients. */
Test(worked_examples, net_2_3_1_sigmoid_half_squared_error_matches_hand_gradients)
{
    static const double W1[2][3] = {{0.15, -0.25, 0.30}, {0.20, 0.35, -0.10}};
    static const double b1[3] = {0.05, -0.05, 0.10}, W2[3] = {0.40, -0.45, 0.50}, b2 = 0.60;
    static const double x[2] = {0.05, 0.10}, y = 0.01;
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 2, (nb_layer_spec[]){{3, NB_ACT_SIGMOID, 0},
                                                           {1, NB_ACT_SIGMOID, 0}}, 2, 0), NB_OK);
    float *p = nb_net_params(net); /* layout: W1 (2 x 3), b1 (3), W2 (3 x 1), b2 (1) */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            p[i * 3 + j] = (float)W1[i][j];
    for (int j = 0; j < 3; j++) {
        p[6 + j] = (float)b1[j];
        p[9 + j] = (float)W2[j];
    }
    p[12] = (float)b2;

    /* by hand, the chain rule in double (from the float32 parameters nablas holds) */
    double h[3], hand[13], z2 = (float)b2;
    for (int j = 0; j < 3; j++) {
        double z = (float)b1[j];
        for (int i = 0; i < 2; i++)
            z += (double)(float)x[i] * (float)W1[i][j];
        h[j] = sig(z);
        z2 += h[j] * (float)W2[j];
    }
    double yhat = sig(z2), d2 = (yhat - (float)y) * yhat * (1.0 - yhat); /* dL/dz2 */
    for (int j = 0; j < 3; j++) {
        double d1 = d2 * (float)W2[j] * h[j] * (1.0 - h[j]); /* dL/dz1_j */
        for (int i = 0; i < 2; i++)
            hand[i * 3 + j] = (float)x[i] * d1;
        hand[6 + j] = d1;
        hand[9 + j] = h[j] * d2;
    }
    hand[12] = d2;

    float xf[2] = {(float)x[0], (float)x[1]}, yf = (float)y, mse;
    nb_tensor X = nb_tensor_view(xf, 1, 2), T = nb_tensor_view(&yf, 1, 1);
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(net, NB_LOSS_MSE, &T, &mse), NB_OK);
    cr_expect(rel(0.5 * mse, 0.5 * (yhat - yf) * (yhat - yf)) < 1e-5);
    for (int k = 0; k < 13; k++)
        cr_expect(rel(0.5 * nb_net_grads(net)[k], hand[k]) < 1e-5,
                  "parameter %d: nablas/2 %g, by hand %g", k, 0.5 * nb_net_grads(net)[k],
                  hand[k]);
    nb_net_free(net);
}

typedef struct loss_log {
    double loss[400];
    size_t n;
} loss_log;

static int log_epoch(const nb_epoch_info *e, void *user)
{
    loss_log *l = user;
    if (l->n < sizeof l->loss / sizeof *l->loss)
        l->loss[l->n++] = e->loss;
    return 0;
}

/* The house-price network (4-8-4-1, linear, full-batch gradient descent) for 5 seeds: the
   loss falls monotonically after the first 5 epochs and ends within 10% of the closed-form
   least-squares optimum (LAPACKE_dgels), the best any linear model can do. */
Test(worked_examples, house_price_net_falls_monotonically_to_within_10pct_of_lstsq_optimum)
{
    enum { N = 1000, EPOCHS = 125, SETTLE = 5 }; /* the demo's defaults: 125 epochs, lr 0.01 */
    static float X[N * HOUSE_FEATURES], y[N];
    for (uint64_t seed = 1; seed <= 5; seed++) {
        house_generate(N, seed, X, y);
        double optimum = house_lstsq_mse(N, HOUSE_FEATURES, X, y);
        cr_assert(optimum > 0.0);
        nb_net *net;
        const nb_layer_spec layers[] = {{8, NB_ACT_IDENTITY, 0}, {4, NB_ACT_IDENTITY, 0},
                                        {1, NB_ACT_IDENTITY, 0}};
        cr_assert_eq(nb_net_create(&net, HOUSE_FEATURES, layers, 3, seed), NB_OK);
        nb_tensor Xv = nb_tensor_view(X, N, HOUSE_FEATURES), Yv = nb_tensor_view(y, N, 1);
        loss_log log = {.n = 0};
        nb_train_opts o = nb_train_opts_default();
        o.batch_size = N;
        o.epochs = EPOCHS;
        o.lr = 0.01f;
        o.shuffle = false;
        o.on_epoch = log_epoch;
        o.user = &log;
        cr_assert_eq(nb_net_train(net, &Xv, &Yv, &o, NULL), NB_OK);
        /* monotone up to float32 noise (1e-7 of the loss) once at the optimum */
        for (size_t e = SETTLE; e < log.n; e++)
            cr_expect(log.loss[e] <= log.loss[e - 1] * (1.0 + 1e-6), "seed %llu epoch %zu: %.9g > %.9g",
                      (unsigned long long)seed, e + 1, log.loss[e], log.loss[e - 1]);
        nb_eval ev;
        cr_assert_eq(nb_net_evaluate(net, &Xv, &Yv, NB_LOSS_MSE, &ev), NB_OK);
        cr_expect(ev.loss <= 1.10 * optimum, "seed %llu: MSE %.6f vs optimum %.6f",
                  (unsigned long long)seed, ev.loss, optimum);
        fprintf(stderr, "house seed %llu: first %.4f final %.6f optimum %.6f (%+.2f%%)\n",
                (unsigned long long)seed, log.loss[0], ev.loss, optimum,
                100.0 * (ev.loss / optimum - 1.0));
        nb_net_free(net);
    }
}

/* Softmax + cross-entropy: the gradient with respect to the logits is p - t (divided by the
   rows of the batch), the "special case" every tutorial derives. */
Test(worked_examples, softmax_cross_entropy_gradient_is_p_minus_t)
{
    enum { R = 3, C = 4 };
    float logits[R * C] = {1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 0.0f, 0.0f, 0.0f,
                           10.0f, -3.0f, 2.5f, 7.0f};
    float t[R * C] = {0, 1, 0, 0, 0.25f, 0.25f, 0.25f, 0.25f, 0, 0, 0, 1};
    float g[R * C];
    nb_tensor Y = nb_tensor_view(logits, R, C), T = nb_tensor_view(t, R, C);
    nb_tensor G = nb_tensor_view(g, R, C);
    cr_assert_eq(nb_loss_backward(NB_LOSS_SOFTMAX_CE, &Y, &T, &G), NB_OK);
    for (int r = 0; r < R; r++) {
        double s = 0.0;
        for (int j = 0; j < C; j++)
            s += exp(logits[r * C + j]);
        for (int j = 0; j < C; j++) {
            double p = exp(logits[r * C + j]) / s;
            double want = (p - t[r * C + j]) / R;
            cr_expect(fabs(g[r * C + j] - want) <= 1e-7 * fmax(fabs(want), 1e-3),
                      "row %d col %d: %g vs p - t = %g", r, j, (double)g[r * C + j], want);
        }
    }
}
