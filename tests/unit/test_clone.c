/* nb_net_clone and nb_version: the copy predicts as the original, shares no buffer with it
   (training, changing or freeing one leaves the other as it was), keeps the layers' dropout
   rates, the precision and the dropout-mask setting; NULL arguments are refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum { ROWS = 40, IN = 5, OUT = 3 };

static const nb_layer_spec layers[] = {
    {12, NB_ACT_TANH, 0.25f}, {7, NB_ACT_RELU, 0.0f}, {OUT, NB_ACT_IDENTITY, 0.0f}};

typedef struct fixture {
    nb_net *net;
    float x[ROWS * IN], t[ROWS * OUT];
    nb_tensor X, T;
} fixture;

static void setup(fixture *f)
{
    nb_rng r;
    nb_rng_seed(&r, 11);
    tc_fill_uniform(&r, f->x, ROWS * IN, -1.0, 1.0);
    tc_fill_uniform(&r, f->t, ROWS * OUT, -1.0, 1.0);
    f->X = nb_tensor_view(f->x, ROWS, IN);
    f->T = nb_tensor_view(f->t, ROWS, OUT);
    cr_assert_eq(nb_net_create(&f->net, IN, layers, 3, 5), NB_OK);
    cr_assert_eq(nb_net_set_dropout_masks(f->net, true, 99), NB_OK);
    /* a few steps first, so that parameters and gradients are not those of nb_net_create */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(nb_net_train_step(f->net, &f->X, &f->T, NB_LOSS_MSE, 0.05f, NULL), NB_OK);
}

static void predict(nb_net *net, const nb_tensor *X, float *y)
{
    nb_tensor Y = nb_tensor_view(y, X->rows, OUT);
    cr_assert_eq(nb_net_predict(net, X, &Y), NB_OK);
}

Test(clone, same_structure_parameters_and_predictions)
{
    fixture f;
    setup(&f);
    nb_net *c = NULL;
    cr_assert_eq(nb_net_clone(&c, f.net), NB_OK);
    cr_assert_neq(c, NULL);
    cr_expect_eq(nb_net_inputs(c), IN);
    cr_expect_eq(nb_net_outputs(c), OUT);
    cr_assert_eq(nb_net_num_layers(c), 3);
    cr_assert_eq(nb_net_num_params(c), nb_net_num_params(f.net));
    for (size_t l = 0; l < 3; l++) {
        nb_layer_spec a, b;
        cr_assert_eq(nb_net_layer(f.net, l, &a), NB_OK);
        cr_assert_eq(nb_net_layer(c, l, &b), NB_OK);
        cr_expect_eq(a.units, b.units);
        cr_expect_eq(a.act, b.act);
        cr_expect_eq(a.dropout, b.dropout, "layer %zu dropout", l);
    }
    size_t n = nb_net_num_params(c);
    cr_expect_neq(nb_net_params(c), nb_net_params(f.net), "a buffer of its own");
    cr_expect_neq(nb_net_grads(c), nb_net_grads(f.net));
    cr_expect_eq(memcmp(nb_net_params(c), nb_net_params(f.net), n * sizeof(float)), 0);
    cr_expect_eq(memcmp(nb_net_grads(c), nb_net_grads(f.net), n * sizeof(float)), 0);
    cr_expect_eq(nb_net_precision(c), nb_net_precision(f.net));

    float ya[ROWS * OUT], yb[ROWS * OUT];
    predict(f.net, &f.X, ya);
    predict(c, &f.X, yb);
    cr_expect_eq(memcmp(ya, yb, sizeof ya), 0, "same predictions, bit for bit");
    nb_net_free(c);
    nb_net_free(f.net);
}

/* The same training steps (dropout masks included) on the original and on the copy give the
   same parameters; training only the copy leaves the original as it was. */
Test(clone, independent_after_training)
{
    fixture f;
    setup(&f);
    size_t n = nb_net_num_params(f.net);
    float *before = tc_fdup(nb_net_params(f.net), n);
    nb_net *c = NULL;
    cr_assert_eq(nb_net_clone(&c, f.net), NB_OK);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(nb_net_train_step(c, &f.X, &f.T, NB_LOSS_MSE, 0.05f, NULL), NB_OK);
    cr_expect_eq(memcmp(nb_net_params(f.net), before, n * sizeof(float)), 0,
                 "training the copy changed the original");
    cr_expect_neq(memcmp(nb_net_params(c), before, n * sizeof(float)), 0, "the copy trained");
    for (int i = 0; i < 5; i++)
        cr_assert_eq(nb_net_train_step(f.net, &f.X, &f.T, NB_LOSS_MSE, 0.05f, NULL), NB_OK);
    cr_expect_eq(memcmp(nb_net_params(f.net), nb_net_params(c), n * sizeof(float)), 0,
                 "the same steps give the same parameters (same dropout masks)");

    /* changing the original's structure-level settings leaves the copy's */
    cr_assert_eq(nb_net_set_dropout(f.net, 0, 0.5f), NB_OK);
    nb_layer_spec s;
    cr_assert_eq(nb_net_layer(c, 0, &s), NB_OK);
    cr_expect_eq(s.dropout, 0.25f);

    /* the copy outlives the original */
    float y[ROWS * OUT];
    nb_net_free(f.net);
    predict(c, &f.X, y);
    cr_expect(tc_all_finite(y, ROWS * OUT));
    nb_net_free(c);
    free(before);
}

Test(clone, copy_of_a_copy_and_bf16)
{
    fixture f;
    setup(&f);
    nb_net *a = NULL, *b = NULL;
    cr_assert_eq(nb_net_clone(&a, f.net), NB_OK);
    cr_assert_eq(nb_net_clone(&b, a), NB_OK);
    float ya[ROWS * OUT], yb[ROWS * OUT];
    predict(f.net, &f.X, ya);
    predict(b, &f.X, yb);
    cr_expect_eq(memcmp(ya, yb, sizeof ya), 0);
    if (nb_precision_available(NB_PRECISION_BF16) == NB_OK) {
        cr_assert_eq(nb_net_set_precision(f.net, NB_PRECISION_BF16), NB_OK);
        nb_net *c = NULL;
        cr_assert_eq(nb_net_clone(&c, f.net), NB_OK);
        cr_expect_eq(nb_net_precision(c), NB_PRECISION_BF16);
        cr_assert_eq(nb_net_train_step(c, &f.X, &f.T, NB_LOSS_MSE, 0.05f, NULL), NB_OK);
        nb_net_free(c);
    }
    nb_net_free(a);
    nb_net_free(b);
    nb_net_free(f.net);
}

Test(clone, null_arguments)
{
    fixture f;
    setup(&f);
    nb_net *c = (nb_net *)&f; /* a sentinel: must stay as it was */
    cr_expect_eq(nb_net_clone(NULL, f.net), NB_ERR_NULL);
    cr_expect_eq(nb_net_clone(&c, NULL), NB_ERR_NULL);
    cr_expect_eq(c, (nb_net *)&f);
    nb_net_free(f.net);
}

Test(version, runtime_matches_macros)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", NB_VERSION_MAJOR, NB_VERSION_MINOR, NB_VERSION_PATCH);
    cr_assert_not_null(nb_version());
    cr_expect_str_eq(nb_version(), want);
    cr_expect_str_eq(NB_VERSION_STRING, want);
    cr_expect_eq(NB_VERSION_NUMBER, NB_VERSION_MAJOR * 10000 + NB_VERSION_MINOR * 100 + NB_VERSION_PATCH);
}
