/* No heap allocation in prediction after its context exists: nb_predictor_run and
   nb_predictor_classes (and their _f64 twins) on a softmax classifier and on a regression
   model with a target standardisation, many rows in chunks. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "alloc_count.h"
#include "nablas.h"

enum { IN = 6, OUT = 3, ROWS = 100 };

static void check(nb_loss loss, bool target_norm)
{
    nb_layer_spec spec[] = {{16, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_model m = {0};
    m.loss = loss;
    cr_assert_eq(nb_net_create(&m.net, IN, spec, 2, 1), NB_OK);
    static float x[ROWS * IN], y[ROWS * OUT];
    for (size_t i = 0; i < ROWS * IN; i++)
        x[i] = (float)(i % 13) / 13.0f;
    nb_tensor X = nb_tensor_view(x, ROWS, IN), Y = nb_tensor_view(y, ROWS, OUT);
    cr_assert_eq(nb_norm_fit(&m.norm, &X), NB_OK);
    if (target_norm) {
        float mean[OUT] = {1, 2, 3}, sd[OUT] = {4, 5, 6};
        cr_assert_eq(nb_norm_create(&m.target_norm, OUT, mean, sd), NB_OK);
    }
    nb_predictor *p;
    cr_assert_eq(nb_predictor_create(&p, &m, 32), NB_OK); /* 100 rows: 4 chunks */
    size_t cls[ROWS];
    static double xd[ROWS * IN], yd[ROWS * OUT];
    for (size_t i = 0; i < ROWS * IN; i++)
        xd[i] = x[i];
    alloc_count_start();
    nb_status s1 = nb_predictor_run(p, &X, &Y);
    nb_status s2 = loss == NB_LOSS_MSE ? NB_OK : nb_predictor_classes(p, &X, cls);
    /* the double interface narrows through the predictor's own buffers */
    nb_status s3 = nb_predictor_run_f64(p, xd, ROWS, yd);
    nb_status s4 = loss == NB_LOSS_MSE ? NB_OK : nb_predictor_classes_f64(p, xd, ROWS, cls);
    size_t n = alloc_count_stop();
    cr_assert_eq(s1, NB_OK);
    cr_assert_eq(s2, NB_OK);
    cr_assert_eq(s3, NB_OK);
    cr_assert_eq(s4, NB_OK);
    cr_assert_eq(n, 0, "%zu allocations while predicting", n);
    nb_predictor_free(p);
    nb_net_free(m.net);
    nb_norm_free(m.norm);
    nb_norm_free(m.target_norm);
}

Test(alloc, predictor_softmax_classifier) { check(NB_LOSS_SOFTMAX_CE, false); }
Test(alloc, predictor_regression_with_target_standardisation) { check(NB_LOSS_MSE, true); }
