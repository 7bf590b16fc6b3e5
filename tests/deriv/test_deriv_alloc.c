/* No heap allocation after a derivative context is made: Jacobians (both modes, both
   layouts, chunked), JVPs and VJPs, with standardisations and probabilities.  With one BLAS
   thread nothing allocates; with two, only OpenBLAS's threaded sgemm driver may (a job array
   per call, tests/alloc/test_alloc.c says why).  Counts are taken first and asserted after
   counting stops (Criterion's assertions allocate). */
#include <criterion/criterion.h>

#include "alloc_count.h"
#include "nablas.h"

static size_t calls(nb_deriv_ctx *ctx, const nb_tensor *X, const nb_tensor *V,
                    const nb_tensor *U, nb_tensor *J, nb_tensor *JT, nb_tensor *JV,
                    nb_tensor *UJ, nb_tensor *Y, nb_status *st, size_t *blas)
{
    alloc_count_start();
    nb_status s = nb_deriv_jacobian(ctx, X, J, Y);
    if (s == NB_OK)
        s = nb_deriv_jacobian_t(ctx, X, JT, NULL);
    if (s == NB_OK)
        s = nb_deriv_jvp(ctx, X, V, JV, Y);
    if (s == NB_OK)
        s = nb_deriv_vjp(ctx, X, U, UJ, NULL);
    size_t n = alloc_count_stop();
    *blas = alloc_count_blas();
    *st = s;
    return n;
}

static void check(size_t n, const nb_layer_spec *spec, size_t L, bool probs, size_t rows,
                  size_t max_batch)
{
    size_t m = spec[L - 1].units;
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, n, spec, L, 2), NB_OK);
    nb_tensor X, V, U, J, JT, JV, UJ, Y;
    cr_assert_eq(nb_tensor_alloc(&X, rows, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&V, rows, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&U, rows, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&J, rows, m * n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&JT, rows, m * n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&JV, rows, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&UJ, rows, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&Y, rows, m), NB_OK);
    for (size_t i = 0; i < rows * n; i++)
        X.data[i] = V.data[i] = (float)((i * 7 % 13) / 13.0 - 0.5);
    for (size_t i = 0; i < rows * m; i++)
        U.data[i] = (float)((i * 5 % 11) / 11.0);
    float mean[64] = {0}, sd[64];
    for (size_t j = 0; j < 64; j++)
        sd[j] = 1.0f + 0.1f * (float)j;
    nb_norm *norm, *tnorm = NULL;
    cr_assert_eq(nb_norm_create(&norm, n, mean, sd), NB_OK);
    if (!probs)
        cr_assert_eq(nb_norm_create(&tnorm, m, mean, sd), NB_OK);
    for (int mode = NB_DERIV_AUTO; mode < NB_DERIV_MODE_COUNT; mode++) {
        /* callers unknown (sanitizer builds): one thread only, where nothing may allocate */
        int max_threads = alloc_count_knows_callers() ? 2 : 1;
        for (int threads = 1; threads <= max_threads; threads++) {
            cr_assert_eq(nb_set_threads(threads), NB_OK);
            nb_deriv_opts o = {norm, tnorm, probs, (nb_deriv_mode)mode};
            nb_deriv_ctx *ctx;
            cr_assert_eq(nb_deriv_ctx_create(&ctx, net, &o, max_batch), NB_OK);
            nb_status st;
            size_t blas;
            calls(ctx, &X, &V, &U, &J, &JT, &JV, &UJ, &Y, &st, &blas); /* OpenBLAS's buffers */
            cr_assert_eq(st, NB_OK);
            size_t count = calls(ctx, &X, &V, &U, &J, &JT, &JV, &UJ, &Y, &st, &blas);
            cr_assert_eq(st, NB_OK);
            if (threads == 1)
                cr_expect_eq(count, 0, "mode %d: %zu allocations", mode, count);
            else
                cr_expect_eq(count - blas, 0, "mode %d, 2 threads: %zu allocations outside "
                                              "OpenBLAS", mode, count - blas);
            nb_deriv_ctx_free(ctx);
        }
    }
    nb_tensor *ts[] = {&X, &V, &U, &J, &JT, &JV, &UJ, &Y};
    for (size_t k = 0; k < sizeof ts / sizeof *ts; k++)
        nb_tensor_free(ts[k]);
    nb_norm_free(norm);
    nb_norm_free(tnorm);
    nb_net_free(net);
}

Test(deriv_alloc, surrogate_one_row)
{
    nb_layer_spec s[] = {{32, NB_ACT_TANH, 0}, {32, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    check(4, s, 3, false, 1, 1);
}

Test(deriv_alloc, classifier_chunked)
{
    nb_layer_spec s[] = {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}};
    check(64, s, 3, true, 300, 128);
}
