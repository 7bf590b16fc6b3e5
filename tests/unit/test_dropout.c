/* Dropout as a layer property: the kept fraction, a finite-difference gradient check
   with a frozen mask, evaluation and prediction untouched, exact repetition, error paths. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common.h"

/* 1000 rows x 1000 hidden units = 10^6 draws.  The hidden layer outputs 1 everywhere (zero
   weights, bias 1, identity), the output sums them with weights 1: each row's output is
   (kept units) / (1 - p), so the kept count is exact. */
static void kept_fraction(float p)
{
    enum { ROWS = 1000, H = 1000 };
    nb_layer_spec L[] = {{H, NB_ACT_IDENTITY, p}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 1, L, 2, 3), NB_OK);
    nb_tensor W, b;
    cr_assert_eq(nb_net_layer_params(net, 0, &W, &b), NB_OK);
    memset(W.data, 0, H * sizeof(float));
    for (size_t j = 0; j < H; j++)
        b.data[j] = 1.0f;
    cr_assert_eq(nb_net_layer_params(net, 1, &W, &b), NB_OK);
    for (size_t j = 0; j < H; j++)
        W.data[j] = 1.0f;
    b.data[0] = 0.0f;
    float *X = tc_falloc(ROWS);
    memset(X, 0, ROWS * sizeof(float));
    nb_tensor Xt = nb_tensor_view(X, ROWS, 1), Y;
    cr_assert_eq(nb_net_set_dropout_masks(net, true, 42), NB_OK);
    cr_assert_eq(nb_net_forward(net, &Xt, &Y), NB_OK);
    double kept = 0.0;
    for (size_t i = 0; i < ROWS; i++) {
        double k = Y.data[i] * (1.0 - (double)p);
        cr_assert(fabs(k - nearbyint(k)) < 1e-3, "row %zu: %g kept is not a count", i, k);
        kept += nearbyint(k);
    }
    double frac = kept / ((double)ROWS * H);
    /* within 0.2 percentage points (a relative 0.2% of 0.1 would be below one standard
       deviation of 10^6 draws, 3e-4) */
    cr_expect(fabs(frac - (1.0 - p)) <= 0.002, "p %g: kept %.5f, want %.5f +- 0.002",
              (double)p, frac, 1.0 - p);
    /* masks off: nothing dropped, every row H */
    cr_assert_eq(nb_net_set_dropout_masks(net, false, 0), NB_OK);
    cr_assert_eq(nb_net_forward(net, &Xt, &Y), NB_OK);
    for (size_t i = 0; i < ROWS; i++)
        cr_assert_eq(Y.data[i], (float)H);
    free(X);
    nb_net_free(net);
}

Test(dropout, kept_fraction_of_a_million_draws)
{
    kept_fraction(0.2f);
    kept_fraction(0.5f);
    kept_fraction(0.9f);
}

/* Loss of the current parameters with the frozen mask (forward + backward, loss only kept). */
static double loss_at(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss)
{
    float v;
    cr_assert_eq(nb_net_forward(net, X, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(net, loss, T, &v), NB_OK);
    (void)v;
    /* the float loss is too coarse for differences: recompute in double from the output */
    nb_tensor Y;
    cr_assert_eq(nb_net_forward(net, X, &Y), NB_OK);
    double s = 0.0;
    if (loss == NB_LOSS_MSE) {
        for (size_t i = 0; i < Y.rows * Y.cols; i++) {
            double d = (double)Y.data[i] - (double)T->data[i];
            s += d * d;
        }
        return s / (double)(Y.rows * Y.cols);
    }
    for (size_t r = 0; r < Y.rows; r++) { /* softmax cross-entropy, mean over rows */
        const float *y = Y.data + r * Y.cols, *t = T->data + r * Y.cols;
        double m = y[0], z = 0.0;
        for (size_t c = 1; c < Y.cols; c++)
            m = y[c] > m ? y[c] : m;
        for (size_t c = 0; c < Y.cols; c++)
            z += exp((double)y[c] - m);
        for (size_t c = 0; c < Y.cols; c++)
            s -= (double)t[c] * ((double)y[c] - m - log(z));
    }
    return s / (double)Y.rows;
}

/* Central differences of the loss with the mask frozen (same mask seed in every forward)
   against nb_net_backward's gradient. */
static void gradcheck(nb_act hidden, nb_loss loss, float p, uint64_t seed)
{
    enum { IN = 5, H1 = 7, H2 = 6, OUT = 3, ROWS = 9 };
    nb_layer_spec L[] = {{H1, hidden, p}, {H2, hidden, p}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, L, 3, seed), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, seed);
    float *P = nb_net_params(net);
    size_t n = nb_net_num_params(net);
    tc_fill_uniform(&r, P, n, -0.8, 0.8); /* non-zero biases: no ReLU kinks at 0 */
    float *X = tc_falloc(ROWS * IN), *T = tc_falloc(ROWS * OUT);
    tc_fill_uniform(&r, X, ROWS * IN, -1.0, 1.0);
    tc_fill_prob_rows(&r, T, ROWS, OUT, true);
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    cr_assert_eq(nb_net_set_dropout_masks(net, true, seed + 1), NB_OK);
    cr_assert_eq(nb_net_forward(net, &Xt, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(net, loss, &Tt, NULL), NB_OK);
    float *g = tc_fdup(nb_net_grads(net), n);
    /* the reference without the mask differs: the check sees the mask */
    cr_assert_eq(nb_net_set_dropout_masks(net, false, 0), NB_OK);
    cr_assert_eq(nb_net_forward(net, &Xt, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(net, loss, &Tt, NULL), NB_OK);
    cr_assert(memcmp(g, nb_net_grads(net), n * sizeof(float)) != 0);
    cr_assert_eq(nb_net_set_dropout_masks(net, true, seed + 1), NB_OK);

    double gmax = tc_max_abs(g, n), worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float keep = P[i];
        double h = 1e-2 * fmax(1.0, fabs(keep));
        P[i] = (float)(keep + h);
        double up = loss_at(net, &Xt, &Tt, loss);
        P[i] = (float)(keep - h);
        double dn = loss_at(net, &Xt, &Tt, loss);
        P[i] = keep;
        double num = (up - dn) / (2.0 * h), ana = g[i];
        double den = fmax(fmax(fabs(num), fabs(ana)), 1e-3 * gmax);
        double e = fabs(num - ana) / den;
        worst = e > worst ? e : worst;
    }
    cr_expect(worst < 1e-2, "act %d loss %d p %g: max relative error %g", hidden, loss,
              (double)p, worst);
    free(g);
    free(X);
    free(T);
    nb_net_free(net);
}

Test(dropout, gradcheck_with_frozen_mask)
{
    gradcheck(NB_ACT_TANH, NB_LOSS_MSE, 0.3f, 11);
    gradcheck(NB_ACT_SIGMOID, NB_LOSS_SOFTMAX_CE, 0.5f, 12);
    gradcheck(NB_ACT_TANH, NB_LOSS_SOFTMAX_CE, 0.5f, 13);
    /* ReLU's kinks at 0 make central differences unreliable for a correct gradient (see
       gradcheck.h); its dropout path is the same code as above (mask on G, then act_bwd). */
}

/* A network with dropout and the same network without it predict and evaluate identically,
   before and after the masks are switched on; training with dropout repeats exactly and
   differs from training without it. */
Test(dropout, evaluation_unchanged_and_training_repeats)
{
    enum { IN = 6, OUT = 3, ROWS = 200 };
    nb_layer_spec Ld[] = {{24, NB_ACT_RELU, 0.4f}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_layer_spec L0[] = {{24, NB_ACT_RELU, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *a, *b, *c;
    cr_assert_eq(nb_net_create(&a, IN, Ld, 2, 5), NB_OK);
    cr_assert_eq(nb_net_create(&b, IN, L0, 2, 5), NB_OK);
    cr_assert_eq(nb_net_create(&c, IN, Ld, 2, 5), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, 9);
    float *X = tc_falloc(ROWS * IN), *T = tc_falloc(ROWS * OUT);
    float *Ya = tc_falloc(ROWS * OUT), *Yb = tc_falloc(ROWS * OUT);
    tc_fill_uniform(&r, X, ROWS * IN, -1.0, 1.0);
    tc_fill_prob_rows(&r, T, ROWS, OUT, true);
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    nb_tensor Yat = nb_tensor_view(Ya, ROWS, OUT), Ybt = nb_tensor_view(Yb, ROWS, OUT);
    for (int on = 0; on < 2; on++) {
        cr_assert_eq(nb_net_set_dropout_masks(a, on, 77), NB_OK);
        cr_assert_eq(nb_net_predict(a, &Xt, &Yat), NB_OK);
        cr_assert_eq(nb_net_predict(b, &Xt, &Ybt), NB_OK);
        cr_assert(memcmp(Ya, Yb, sizeof(float) * ROWS * OUT) == 0);
        nb_eval ea, eb;
        cr_assert_eq(nb_net_evaluate(a, &Xt, &Tt, NB_LOSS_SOFTMAX_CE, &ea), NB_OK);
        cr_assert_eq(nb_net_evaluate(b, &Xt, &Tt, NB_LOSS_SOFTMAX_CE, &eb), NB_OK);
        cr_assert(ea.loss == eb.loss && ea.accuracy == eb.accuracy);
    }
    cr_assert_eq(nb_net_set_dropout_masks(a, false, 0), NB_OK);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.epochs = 3;
    o.seed = 4;
    cr_assert_eq(nb_net_train(a, &Xt, &Tt, &o, NULL), NB_OK);
    cr_assert_eq(nb_net_train(c, &Xt, &Tt, &o, NULL), NB_OK);
    cr_assert_eq(nb_net_train(b, &Xt, &Tt, &o, NULL), NB_OK);
    size_t n = nb_net_num_params(a);
    cr_assert(memcmp(nb_net_params(a), nb_net_params(c), n * sizeof(float)) == 0,
              "same seed, same masks: bit-identical");
    cr_assert(memcmp(nb_net_params(a), nb_net_params(b), n * sizeof(float)) != 0,
              "dropout changed nothing");
    /* a different training seed gives other masks (and order) */
    o.seed = 5;
    nb_net *d;
    cr_assert_eq(nb_net_create(&d, IN, Ld, 2, 5), NB_OK);
    cr_assert_eq(nb_net_train(d, &Xt, &Tt, &o, NULL), NB_OK);
    cr_assert(memcmp(nb_net_params(a), nb_net_params(d), n * sizeof(float)) != 0);
    /* the layer spec reads back */
    nb_layer_spec s;
    cr_assert_eq(nb_net_layer(a, 0, &s), NB_OK);
    cr_assert_eq(s.dropout, 0.4f);
    free(X);
    free(T);
    free(Ya);
    free(Yb);
    nb_net_free(a);
    nb_net_free(b);
    nb_net_free(c);
    nb_net_free(d);
}

Test(dropout, errors)
{
    nb_net *net = NULL;
    const float bad[] = {-0.1f, 1.0f, 1.5f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nb_layer_spec L[] = {{4, NB_ACT_RELU, bad[i]}, {2, NB_ACT_IDENTITY, 0}};
        cr_expect_eq(nb_net_create(&net, 3, L, 2, 0), NB_ERR_ARG, "p %g", (double)bad[i]);
        cr_expect_null(net);
    }
    nb_layer_spec out[] = {{4, NB_ACT_RELU, 0}, {2, NB_ACT_IDENTITY, 0.5f}};
    cr_expect_eq(nb_net_create(&net, 3, out, 2, 0), NB_ERR_ARG, "dropout on the output layer");
    nb_layer_spec ok[] = {{4, NB_ACT_RELU, 0}, {2, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_net_create(&net, 3, ok, 2, 0), NB_OK);
    cr_expect_eq(nb_net_set_dropout(NULL, 0, 0.5f), NB_ERR_NULL);
    cr_expect_eq(nb_net_set_dropout(net, 2, 0.5f), NB_ERR_ARG);
    cr_expect_eq(nb_net_set_dropout(net, 1, 0.5f), NB_ERR_ARG);
    cr_expect_eq(nb_net_set_dropout(net, 0, NAN), NB_ERR_ARG);
    cr_expect_eq(nb_net_set_dropout(net, 0, 1.0f), NB_ERR_ARG);
    cr_expect_eq(nb_net_set_dropout(net, 0, 0.25f), NB_OK);
    nb_layer_spec s;
    cr_assert_eq(nb_net_layer(net, 0, &s), NB_OK);
    cr_expect_eq(s.dropout, 0.25f);
    cr_expect_eq(nb_net_set_dropout_masks(NULL, true, 0), NB_ERR_NULL);
    nb_net_free(net);
}
