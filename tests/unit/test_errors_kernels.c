/* Every error path of every kernel: each NULL, each empty tensor, each kind of shape mismatch,
   unknown enums, bad learning rates, aliasing and oversized tensors.  All tensors live in one
   pool; after every rejected call the whole pool (inputs and outputs) must be bit-identical. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "common.h"

enum { POOL = 4096 };
static float pool[POOL];
static float snapshot[POOL];

static void pool_init(void)
{
    nb_rng r;
    nb_rng_seed(&r, 1);
    tc_fill_uniform(&r, pool, POOL, 0.1, 0.9); /* valid for every loss, even BCE */
}

static nb_tensor V(size_t off, size_t rows, size_t cols)
{
    return nb_tensor_view(pool + off, rows, cols);
}

/* Far outside the pool and never dereferenced by a correct library: lets a huge tensor pass
   the overlap checks so that the size checks are reached. */
static nb_tensor far_view(int k, size_t rows, size_t cols)
{
    return nb_tensor_view((float *)(uintptr_t)((uintptr_t)k << 40), rows, cols);
}

#define REJECTS(code, call)                                                                    \
    do {                                                                                       \
        memcpy(snapshot, pool, sizeof pool);                                                   \
        nb_status got_ = (call);                                                               \
        cr_assert_eq(got_, (code), "%s: got \"%s\", expected \"%s\"", #call,                   \
                     nb_status_str(got_), nb_status_str(code));                                \
        cr_assert_eq(memcmp(snapshot, pool, sizeof pool), 0, "%s changed memory", #call);      \
    } while (0)

/* ---- dense forward: X 3x4 at 0, W 4x5 at 100, b 1x5 at 200, Z 3x5 at 300 ------------------- */

TestSuite(errors_kernels, .fini = tc_leak_check);

Test(errors_kernels, dense_forward, .init = pool_init)
{
    nb_tensor X = V(0, 3, 4), W = V(100, 4, 5), b = V(200, 1, 5), Z = V(300, 3, 5);
    nb_tensor bad;
    REJECTS(NB_ERR_NULL, nb_dense_forward(NULL, &W, &b, &Z));
    REJECTS(NB_ERR_NULL, nb_dense_forward(&X, NULL, &b, &Z));
    REJECTS(NB_ERR_NULL, nb_dense_forward(&X, &W, &b, NULL));
    bad = nb_tensor_view(NULL, 3, 4);
    REJECTS(NB_ERR_NULL, nb_dense_forward(&bad, &W, &b, &Z));
    bad = nb_tensor_view(NULL, 4, 5);
    REJECTS(NB_ERR_NULL, nb_dense_forward(&X, &bad, &b, &Z));
    bad = nb_tensor_view(NULL, 1, 5);
    REJECTS(NB_ERR_NULL, nb_dense_forward(&X, &W, &bad, &Z));
    bad = nb_tensor_view(NULL, 3, 5);
    REJECTS(NB_ERR_NULL, nb_dense_forward(&X, &W, &b, &bad));

    /* empty tensors */
    bad = V(0, 0, 4);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&bad, &W, &b, &Z));
    bad = V(0, 3, 0);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&bad, &W, &b, &Z));
    bad = V(100, 0, 5);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &bad, &b, &Z));
    bad = V(100, 4, 0);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &bad, &b, &Z));
    bad = V(200, 1, 0);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &bad, &Z));
    bad = V(300, 0, 5);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &b, &bad));

    /* inner dimensions, bias and output shapes */
    bad = V(0, 3, 3);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&bad, &W, &b, &Z));
    bad = V(100, 5, 5);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &bad, &b, &Z));
    bad = V(100, 5, 4); /* W transposed */
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &bad, &b, &Z));
    bad = V(200, 1, 4);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &bad, &Z));
    bad = V(200, 1, 6);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &bad, &Z));
    bad = V(200, 5, 1); /* a column, not a row */
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &bad, &Z));
    bad = V(200, 3, 5); /* one bias per row is not a bias */
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &bad, &Z));
    bad = V(300, 2, 5);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &b, &bad));
    bad = V(300, 3, 4);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &b, &bad));
    bad = V(300, 5, 3);
    REJECTS(NB_ERR_SHAPE, nb_dense_forward(&X, &W, &b, &bad));

    /* Z overlapping each input, wholly or in part */
    bad = V(0, 3, 5);
    REJECTS(NB_ERR_ALIAS, nb_dense_forward(&X, &W, &b, &bad));
    bad = V(11, 3, 5); /* shares X's last element */
    REJECTS(NB_ERR_ALIAS, nb_dense_forward(&X, &W, &b, &bad));
    bad = V(90, 3, 5); /* ends inside W */
    REJECTS(NB_ERR_ALIAS, nb_dense_forward(&X, &W, &b, &bad));
    bad = V(199, 3, 5);
    REJECTS(NB_ERR_ALIAS, nb_dense_forward(&X, &W, &b, &bad));
    bad = V(0, 3, 5);
    REJECTS(NB_ERR_ALIAS, nb_dense_forward(&X, &W, NULL, &bad)); /* without a bias too */

    /* sizes that overflow size_t, or the BLAS integer */
    bad = V(0, SIZE_MAX / 8, 4);
    REJECTS(NB_ERR_OVERFLOW, nb_dense_forward(&bad, &W, &b, &Z));
    nb_tensor hx = far_view(1, (size_t)1 << 31, 4), hz = far_view(2, (size_t)1 << 31, 5);
    REJECTS(NB_ERR_OVERFLOW, nb_dense_forward(&hx, &W, &b, &hz));

    /* sanity: the same arguments done right succeed and write Z */
    memcpy(snapshot, pool, sizeof pool);
    cr_assert_eq(nb_dense_forward(&X, &W, &b, &Z), NB_OK);
    cr_assert_neq(memcmp(snapshot, pool, sizeof pool), 0);
}

/* ---- dense backward: X 3x4 at 0, W 4x5 at 100, G 3x5 at 200, dW 4x5 at 300, db at 400,
        dX 3x4 at 500 ----------------------------------------------------------------------- */

Test(errors_kernels, dense_backward, .init = pool_init)
{
    nb_tensor X = V(0, 3, 4), W = V(100, 4, 5), G = V(200, 3, 5);
    nb_tensor dW = V(300, 4, 5), db = V(400, 1, 5), dX = V(500, 3, 4), bad;
    REJECTS(NB_ERR_NULL, nb_dense_backward(NULL, &W, &G, &dW, &db, &dX));
    REJECTS(NB_ERR_NULL, nb_dense_backward(&X, NULL, &G, &dW, &db, &dX));
    REJECTS(NB_ERR_NULL, nb_dense_backward(&X, &W, NULL, &dW, &db, &dX));
    REJECTS(NB_ERR_NULL, nb_dense_backward(&X, &W, &G, NULL, &db, &dX));
    nb_tensor *all[6] = {&X, &W, &G, &dW, &db, &dX};
    for (int k = 0; k < 6; k++) { /* each tensor's data NULL, then each tensor empty */
        nb_tensor saved = *all[k];
        all[k]->data = NULL;
        REJECTS(NB_ERR_NULL, nb_dense_backward(&X, &W, &G, &dW, &db, &dX));
        *all[k] = saved;
        all[k]->rows = 0;
        REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &dW, &db, &dX));
        *all[k] = saved;
        all[k]->cols = 0;
        REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &dW, &db, &dX));
        *all[k] = saved;
    }

    /* each shape that must agree */
    bad = V(100, 5, 5);
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &bad, &G, &dW, &db, &dX));
    bad = V(200, 2, 5);
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &bad, &dW, &db, &dX));
    bad = V(200, 3, 4);
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &bad, &dW, &db, &dX));
    bad = V(300, 5, 4); /* dW transposed */
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &bad, &db, &dX));
    bad = V(300, 4, 6);
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &bad, &db, &dX));
    bad = V(400, 1, 4);
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &dW, &bad, &dX));
    bad = V(400, 5, 1);
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &dW, &bad, NULL));
    bad = V(500, 4, 3); /* dX transposed */
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &dW, &db, &bad));
    bad = V(500, 3, 5);
    REJECTS(NB_ERR_SHAPE, nb_dense_backward(&X, &W, &G, &dW, NULL, &bad));

    /* each output overlapping each input, and the outputs overlapping each other */
    size_t in_off[3] = {0, 100, 200};
    for (int i = 0; i < 3; i++) {
        bad = V(in_off[i] + 2, 4, 5);
        REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &bad, &db, &dX));
        bad = V(in_off[i] + 1, 1, 5);
        REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, &bad, &dX));
        REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, &bad, NULL));
        bad = V(in_off[i] + 3, 3, 4);
        REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, &db, &bad));
        REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, NULL, &bad));
    }
    bad = V(319, 1, 5); /* db over dW's last element */
    REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, &bad, &dX));
    bad = V(310, 3, 4); /* dX inside dW */
    REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, &db, &bad));
    REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, NULL, &bad));
    bad = V(403, 3, 4); /* dX over db's tail */
    REJECTS(NB_ERR_ALIAS, nb_dense_backward(&X, &W, &G, &dW, &db, &bad));

    /* oversized */
    bad = V(0, SIZE_MAX / 8, 4);
    REJECTS(NB_ERR_OVERFLOW, nb_dense_backward(&bad, &W, &G, &dW, &db, &dX));
    nb_tensor hx = far_view(1, (size_t)1 << 31, 4), hg = far_view(2, (size_t)1 << 31, 5);
    REJECTS(NB_ERR_OVERFLOW, nb_dense_backward(&hx, &W, &hg, &dW, &db, NULL));

    memcpy(snapshot, pool, sizeof pool);
    cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, &db, &dX), NB_OK);
    cr_assert_neq(memcmp(snapshot, pool, sizeof pool), 0);
}

/* ---- activations: A and G 3x4 at 0 and 100 ------------------------------------------------- */

Test(errors_kernels, activations, .init = pool_init)
{
    nb_tensor A = V(0, 3, 4), G = V(100, 3, 4), bad;
    for (int a = 0; a < NB_ACT_COUNT; a++) {
        nb_act act = (nb_act)a;
        REJECTS(NB_ERR_NULL, nb_act_forward(act, NULL));
        bad = nb_tensor_view(NULL, 3, 4);
        REJECTS(NB_ERR_NULL, nb_act_forward(act, &bad));
        bad = V(0, 0, 4);
        REJECTS(NB_ERR_SHAPE, nb_act_forward(act, &bad));
        bad = V(0, 3, 0);
        REJECTS(NB_ERR_SHAPE, nb_act_forward(act, &bad));

        REJECTS(NB_ERR_NULL, nb_act_backward(act, NULL, &G));
        REJECTS(NB_ERR_NULL, nb_act_backward(act, &A, NULL));
        bad = nb_tensor_view(NULL, 3, 4);
        REJECTS(NB_ERR_NULL, nb_act_backward(act, &bad, &G));
        REJECTS(NB_ERR_NULL, nb_act_backward(act, &A, &bad));
        bad = V(0, 0, 4);
        REJECTS(NB_ERR_SHAPE, nb_act_backward(act, &bad, &G));
        bad = V(100, 3, 0);
        REJECTS(NB_ERR_SHAPE, nb_act_backward(act, &A, &bad));
        bad = V(100, 2, 4);
        REJECTS(NB_ERR_SHAPE, nb_act_backward(act, &A, &bad));
        bad = V(100, 3, 5);
        REJECTS(NB_ERR_SHAPE, nb_act_backward(act, &A, &bad));
        bad = V(100, 4, 3); /* same count, other shape */
        REJECTS(NB_ERR_SHAPE, nb_act_backward(act, &A, &bad));
        bad = V(0, 3, 4);
        REJECTS(NB_ERR_ALIAS, nb_act_backward(act, &A, &bad)); /* G is A */
        bad = V(5, 3, 4);
        REJECTS(NB_ERR_ALIAS, nb_act_backward(act, &A, &bad));
    }
    const int unknown[] = {NB_ACT_COUNT, 99, -1};
    for (size_t k = 0; k < 3; k++) {
        REJECTS(NB_ERR_ARG, nb_act_forward((nb_act)unknown[k], &A));
        REJECTS(NB_ERR_ARG, nb_act_backward((nb_act)unknown[k], &A, &G));
        REJECTS(NB_ERR_ARG, nb_act_backward_z((nb_act)unknown[k], &A, &A, &G));
        cr_assert(!nb_act_needs_input((nb_act)unknown[k]));
    }
}

/* nb_act_backward_z: Z checked where the activation needs it or where it is given; the
   activations that need Z are refused by nb_act_backward (valid arguments otherwise). */
Test(errors_kernels, activations_with_z, .init = pool_init)
{
    nb_tensor Z = V(0, 3, 4), A = V(20, 3, 4), G = V(100, 3, 4), bad;
    for (int a = 0; a < NB_ACT_COUNT; a++) {
        nb_act act = (nb_act)a;
        bool needs = act == NB_ACT_GELU || act == NB_ACT_GELU_TANH || act == NB_ACT_SILU
                     || act == NB_ACT_ELU;
        cr_assert_eq(nb_act_needs_input(act), needs, "%s", nb_act_name(act));
        if (needs) {
            REJECTS(NB_ERR_ARG, nb_act_backward(act, &A, &G));
            REJECTS(NB_ERR_NULL, nb_act_backward_z(act, NULL, &A, &G));
        }
        REJECTS(NB_ERR_NULL, nb_act_backward_z(act, &Z, NULL, &G));
        REJECTS(NB_ERR_NULL, nb_act_backward_z(act, &Z, &A, NULL));
        bad = nb_tensor_view(NULL, 3, 4);
        REJECTS(NB_ERR_NULL, nb_act_backward_z(act, &bad, &A, &G));
        bad = V(0, 4, 3);
        REJECTS(NB_ERR_SHAPE, nb_act_backward_z(act, &bad, &A, &G));
        bad = V(0, 3, 5);
        REJECTS(NB_ERR_SHAPE, nb_act_backward_z(act, &bad, &A, &G));
        bad = V(100, 3, 5);
        REJECTS(NB_ERR_SHAPE, nb_act_backward_z(act, &Z, &A, &bad));
        bad = V(5, 3, 4); /* G overlaps Z */
        REJECTS(NB_ERR_ALIAS, nb_act_backward_z(act, &Z, &A, &bad));
        bad = V(25, 3, 4); /* G overlaps A */
        REJECTS(NB_ERR_ALIAS, nb_act_backward_z(act, &Z, &A, &bad));
        bad = V(100, 3, 4); /* G overlaps neither: accepted */
        cr_assert_eq(nb_act_backward_z(act, &Z, &A, &bad), NB_OK, "%s", nb_act_name(act));
        if (!needs)
            cr_assert_eq(nb_act_backward_z(act, NULL, &A, &G), NB_OK, "%s", nb_act_name(act));
    }
}

/* ---- losses: Y, T, G 3x4 at 0, 100, 200; the loss value at 300 ----------------------------- */

Test(errors_kernels, losses, .init = pool_init)
{
    nb_tensor Y = V(0, 3, 4), T = V(100, 3, 4), G = V(200, 3, 4), bad;
    float *loss = pool + 300;
    for (int k = 0; k < NB_LOSS_COUNT; k++) {
        nb_loss l = (nb_loss)k;
        REJECTS(NB_ERR_NULL, nb_loss_forward(l, NULL, &T, loss));
        REJECTS(NB_ERR_NULL, nb_loss_forward(l, &Y, NULL, loss));
        REJECTS(NB_ERR_NULL, nb_loss_forward(l, &Y, &T, NULL));
        REJECTS(NB_ERR_NULL, nb_loss_backward(l, NULL, &T, &G));
        REJECTS(NB_ERR_NULL, nb_loss_backward(l, &Y, NULL, &G));
        REJECTS(NB_ERR_NULL, nb_loss_backward(l, &Y, &T, NULL));
        bad = nb_tensor_view(NULL, 3, 4);
        REJECTS(NB_ERR_NULL, nb_loss_forward(l, &bad, &T, loss));
        REJECTS(NB_ERR_NULL, nb_loss_forward(l, &Y, &bad, loss));
        REJECTS(NB_ERR_NULL, nb_loss_backward(l, &bad, &T, &G));
        REJECTS(NB_ERR_NULL, nb_loss_backward(l, &Y, &bad, &G));
        REJECTS(NB_ERR_NULL, nb_loss_backward(l, &Y, &T, &bad));

        bad = V(0, 0, 4);
        REJECTS(NB_ERR_SHAPE, nb_loss_forward(l, &bad, &T, loss));
        REJECTS(NB_ERR_SHAPE, nb_loss_backward(l, &bad, &T, &G));
        bad = V(100, 3, 0);
        REJECTS(NB_ERR_SHAPE, nb_loss_forward(l, &Y, &bad, loss));
        REJECTS(NB_ERR_SHAPE, nb_loss_backward(l, &Y, &bad, &G));
        bad = V(200, 0, 0);
        REJECTS(NB_ERR_SHAPE, nb_loss_backward(l, &Y, &T, &bad));

        const size_t wrong[][2] = {{2, 4}, {3, 5}, {4, 3}, {1, 12}};
        for (size_t w = 0; w < 4; w++) {
            bad = V(100, wrong[w][0], wrong[w][1]);
            REJECTS(NB_ERR_SHAPE, nb_loss_forward(l, &Y, &bad, loss));
            REJECTS(NB_ERR_SHAPE, nb_loss_backward(l, &Y, &bad, &G));
            bad = V(200, wrong[w][0], wrong[w][1]);
            REJECTS(NB_ERR_SHAPE, nb_loss_backward(l, &Y, &T, &bad));
        }
        bad = V(0, 3, 4);
        REJECTS(NB_ERR_ALIAS, nb_loss_backward(l, &Y, &T, &bad)); /* G is Y */
        bad = V(96, 3, 4);
        REJECTS(NB_ERR_ALIAS, nb_loss_backward(l, &Y, &T, &bad)); /* G straddles T */
    }
    const int unknown[] = {NB_LOSS_COUNT, 99, -1};
    for (size_t k = 0; k < 3; k++) {
        REJECTS(NB_ERR_ARG, nb_loss_forward((nb_loss)unknown[k], &Y, &T, loss));
        REJECTS(NB_ERR_ARG, nb_loss_backward((nb_loss)unknown[k], &Y, &T, &G));
    }
}

/* ---- SGD: P and dP 3x4 at 0 and 100 --------------------------------------------------------- */

Test(errors_kernels, sgd, .init = pool_init)
{
    nb_tensor P = V(0, 3, 4), D = V(100, 3, 4), bad;
    REJECTS(NB_ERR_NULL, nb_sgd_step(NULL, &D, 0.1f));
    REJECTS(NB_ERR_NULL, nb_sgd_step(&P, NULL, 0.1f));
    bad = nb_tensor_view(NULL, 3, 4);
    REJECTS(NB_ERR_NULL, nb_sgd_step(&bad, &D, 0.1f));
    REJECTS(NB_ERR_NULL, nb_sgd_step(&P, &bad, 0.1f));
    bad = V(0, 0, 4);
    REJECTS(NB_ERR_SHAPE, nb_sgd_step(&bad, &D, 0.1f));
    bad = V(100, 3, 0);
    REJECTS(NB_ERR_SHAPE, nb_sgd_step(&P, &bad, 0.1f));
    const size_t wrong[][2] = {{2, 4}, {3, 5}, {4, 3}, {12, 1}};
    for (size_t w = 0; w < 4; w++) {
        bad = V(100, wrong[w][0], wrong[w][1]);
        REJECTS(NB_ERR_SHAPE, nb_sgd_step(&P, &bad, 0.1f));
    }
    const float lrs[] = {NAN, -NAN, INFINITY, -INFINITY, -1.0f, -FLT_MIN, -FLT_TRUE_MIN};
    for (size_t k = 0; k < sizeof lrs / sizeof *lrs; k++)
        REJECTS(NB_ERR_ARG, nb_sgd_step(&P, &D, lrs[k]));
    bad = V(0, 3, 4);
    REJECTS(NB_ERR_ALIAS, nb_sgd_step(&P, &bad, 0.1f)); /* dP is P */
    bad = V(11, 3, 4);
    REJECTS(NB_ERR_ALIAS, nb_sgd_step(&P, &bad, 0.1f));
    bad = V(0, SIZE_MAX / 8, 4);
    REJECTS(NB_ERR_OVERFLOW, nb_sgd_step(&bad, &D, 0.1f));

    memcpy(snapshot, pool, sizeof pool);
    cr_assert_eq(nb_sgd_step(&P, &D, 0.1f), NB_OK);
    cr_assert_neq(memcmp(snapshot, pool, sizeof pool), 0);
}
