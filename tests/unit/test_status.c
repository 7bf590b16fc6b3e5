/* Status messages, enum names and the thread settings. */
#include <criterion/criterion.h>
#include <cblas.h> /* openblas_get_num_threads: what the thread policy set */
#include <stdlib.h>
#include <string.h>

#include "common.h"

TestSuite(status, .fini = tc_leak_check);

Test(status, every_code_has_a_distinct_message)
{
    for (int i = 0; i < NB_STATUS_COUNT; i++) {
        const char *a = nb_status_str((nb_status)i);
        cr_assert_not_null(a, "code %d", i);
        cr_assert_gt(strlen(a), 0, "code %d has an empty message", i);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(a, nb_status_str((nb_status)j), "codes %d and %d share a message",
                              i, j);
    }
}

Test(status, out_of_range_codes_have_a_message)
{
    int bad[] = {NB_STATUS_COUNT, NB_STATUS_COUNT + 1, 1000, -1, -1000};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        const char *s = nb_status_str((nb_status)bad[k]);
        cr_assert_not_null(s, "code %d", bad[k]);
        cr_assert_gt(strlen(s), 0);
        for (int j = 0; j < NB_STATUS_COUNT; j++) /* not mistaken for a real code */
            cr_assert_str_neq(s, nb_status_str((nb_status)j), "code %d", bad[k]);
    }
}

Test(status, act_and_loss_names)
{
    const char *acts[] = {"identity", "relu",      "leaky_relu", "sigmoid",  "tanh", "softmax",
                          "gelu",     "gelu_tanh", "silu",       "softplus", "elu"};
    cr_assert_eq(sizeof acts / sizeof *acts, NB_ACT_COUNT);
    for (int a = 0; a < NB_ACT_COUNT; a++)
        cr_assert_str_eq(nb_act_name((nb_act)a), acts[a]);
    cr_assert_null(nb_act_name(NB_ACT_COUNT));
    cr_assert_null(nb_act_name((nb_act)99));
    cr_assert_null(nb_act_name((nb_act)-1));

    const char *losses[] = {"mse", "bce", "softmax_ce"};
    cr_assert_eq(sizeof losses / sizeof *losses, NB_LOSS_COUNT);
    for (int l = 0; l < NB_LOSS_COUNT; l++)
        cr_assert_str_eq(nb_loss_name((nb_loss)l), losses[l]);
    cr_assert_null(nb_loss_name(NB_LOSS_COUNT));
    cr_assert_null(nb_loss_name((nb_loss)99));
    cr_assert_null(nb_loss_name((nb_loss)-1));
}

TestSuite(threads, .fini = tc_leak_check);

Test(threads, set_get_and_reject_bad_counts)
{
    int before = nb_get_threads();
    cr_assert_geq(before, 1);
    cr_assert_eq(nb_set_threads(0), NB_ERR_ARG);
    cr_assert_eq(nb_set_threads(-3), NB_ERR_ARG);
    cr_assert_eq(nb_get_threads(), before, "a rejected count changed the setting");
    cr_assert_eq(nb_set_threads(1), NB_OK);
    cr_assert_eq(nb_get_threads(), 1);
    const char *core = nb_blas_corename();
    cr_assert_not_null(core);
    cr_assert_gt(strlen(core), 0);
}

/* The thread policy (src/core/threads.h): a small product runs on one OpenBLAS thread, a large
   one on all the user allowed, and the user's setting is what nb_get_threads reports. */
static void product(size_t batch, size_t in, size_t out)
{
    float *x = calloc(batch * in, sizeof(float)), *w = calloc(in * out, sizeof(float));
    float *z = calloc(batch * out, sizeof(float));
    cr_assert(x && w && z);
    nb_tensor X = nb_tensor_view(x, batch, in), W = nb_tensor_view(w, in, out);
    nb_tensor Z = nb_tensor_view(z, batch, out);
    cr_assert_eq(nb_dense_forward(&X, &W, NULL, &Z), NB_OK);
    free(x), free(w), free(z);
}

Test(threads, small_products_use_one_thread_large_ones_all)
{
    cr_assert_eq(nb_set_threads(2), NB_OK);
    product(64, 64, 128); /* W2's layer: sgemm, far below the crossover */
    cr_assert_eq(openblas_get_num_threads(), 1);
    cr_assert_eq(nb_get_threads(), 2, "the policy changed the user's setting");
    product(1024, 512, 512); /* 268M multiply-adds: above it */
    cr_assert_eq(openblas_get_num_threads(), 2);
    cr_assert_eq(nb_set_threads(1), NB_OK);
    product(1024, 512, 512);
    cr_assert_eq(openblas_get_num_threads(), 1);
}
