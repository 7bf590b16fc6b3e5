/* Every error path of the derivative API: the right status, and no output written. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nablas.h"

#define SENT 12345.0f

static nb_net *net_of(size_t n, size_t m, nb_act last)
{
    nb_layer_spec s[] = {{5, NB_ACT_TANH, 0}, {m, last, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, n, s, 2, 3), NB_OK);
    return net;
}

static void fill(nb_tensor *t, float v)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        t->data[i] = v;
}

static bool untouched(const nb_tensor *t)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        if (t->data[i] != SENT)
            return false;
    return true;
}

Test(deriv_errors, create)
{
    nb_net *net = net_of(3, 2, NB_ACT_IDENTITY), *sm = net_of(3, 2, NB_ACT_SOFTMAX),
           *one = net_of(3, 1, NB_ACT_IDENTITY);
    nb_deriv_ctx *ctx = (nb_deriv_ctx *)&ctx; /* must stay as it is on failure */
    nb_deriv_ctx *const before = ctx;
    nb_deriv_opts o = nb_deriv_opts_default();
    cr_expect_eq(nb_deriv_ctx_create(NULL, net, &o, 4), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_ctx_create(&ctx, NULL, &o, 4), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_ctx_create(&ctx, net, &o, 0), NB_ERR_SHAPE);
    o.mode = NB_DERIV_MODE_COUNT;
    cr_expect_eq(nb_deriv_ctx_create(&ctx, net, &o, 4), NB_ERR_ARG);
    o.mode = (nb_deriv_mode)-1;
    cr_expect_eq(nb_deriv_ctx_create(&ctx, net, &o, 4), NB_ERR_ARG);
    o = nb_deriv_opts_default();
    o.probabilities = true;
    cr_expect_eq(nb_deriv_ctx_create(&ctx, sm, &o, 4), NB_ERR_ARG);
    cr_expect_eq(nb_deriv_ctx_create(&ctx, one, &o, 4), NB_ERR_ARG);
    float mean[4] = {0}, sd[4] = {1, 1, 1, 1};
    nb_norm *n4, *n3;
    cr_assert_eq(nb_norm_create(&n4, 4, mean, sd), NB_OK);
    cr_assert_eq(nb_norm_create(&n3, 3, mean, sd), NB_OK);
    o = nb_deriv_opts_default();
    o.norm = n4;
    cr_expect_eq(nb_deriv_ctx_create(&ctx, net, &o, 4), NB_ERR_SHAPE);
    o.norm = NULL;
    o.target_norm = n3;
    cr_expect_eq(nb_deriv_ctx_create(&ctx, net, &o, 4), NB_ERR_SHAPE);
    o.target_norm = NULL;
    cr_expect_eq(nb_deriv_ctx_create(&ctx, net, &o, SIZE_MAX / 2), NB_ERR_OVERFLOW);
    cr_expect_eq(ctx, before);
    /* NULL options are the defaults */
    cr_assert_eq(nb_deriv_ctx_create(&ctx, net, NULL, 4), NB_OK);
    nb_deriv_ctx_free(ctx);
    nb_deriv_ctx_free(NULL);
    nb_norm_free(n4);
    nb_norm_free(n3);
    nb_net_free(net);
    nb_net_free(sm);
    nb_net_free(one);
}

Test(deriv_errors, calls)
{
    const size_t n = 3, m = 2, B = 5;
    nb_net *net = net_of(n, m, NB_ACT_IDENTITY);
    nb_deriv_ctx *ctx;
    cr_assert_eq(nb_deriv_ctx_create(&ctx, net, NULL, 2), NB_OK);
    nb_tensor X, V, U, J, JV, UJ, Y, bad, empty = {0};
    cr_assert_eq(nb_tensor_alloc(&X, B, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&V, B, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&U, B, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&J, B, m * n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&JV, B, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&UJ, B, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&Y, B, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&bad, B + 1, m * n), NB_OK);
    fill(&X, 0.5f);
    fill(&V, 1.0f);
    fill(&U, 1.0f);
    fill(&J, SENT);
    fill(&JV, SENT);
    fill(&UJ, SENT);
    fill(&Y, SENT);
    /* NULL */
    cr_expect_eq(nb_deriv_jacobian(NULL, &X, &J, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_jacobian(ctx, NULL, &J, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_jacobian(ctx, &X, NULL, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_jacobian_t(ctx, &X, NULL, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_jvp(ctx, &X, NULL, &JV, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_jvp(ctx, &X, &V, NULL, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_vjp(ctx, &X, NULL, &UJ, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_vjp(ctx, &X, &U, NULL, &Y), NB_ERR_NULL);
    cr_expect_eq(nb_deriv_jacobian(ctx, &empty, &J, &Y), NB_ERR_NULL);
    /* shapes */
    nb_tensor Xw = nb_tensor_view(X.data, B, n - 1);
    cr_expect_eq(nb_deriv_jacobian(ctx, &Xw, &J, &Y), NB_ERR_SHAPE);
    cr_expect_eq(nb_deriv_jacobian(ctx, &X, &bad, &Y), NB_ERR_SHAPE);
    nb_tensor Jt = nb_tensor_view(bad.data, B, m * n + 1);
    cr_expect_eq(nb_deriv_jacobian_t(ctx, &X, &Jt, &Y), NB_ERR_SHAPE);
    nb_tensor Yw = nb_tensor_view(bad.data, B, m + 1);
    cr_expect_eq(nb_deriv_jacobian(ctx, &X, &J, &Yw), NB_ERR_SHAPE);
    cr_expect_eq(nb_deriv_jvp(ctx, &X, &U, &JV, &Y), NB_ERR_SHAPE);  /* V of outputs columns */
    cr_expect_eq(nb_deriv_vjp(ctx, &X, &V, &UJ, &Y), NB_ERR_SHAPE);  /* U of inputs columns */
    cr_expect_eq(nb_deriv_jvp(ctx, &X, &V, &UJ, &Y), NB_ERR_SHAPE);
    cr_expect_eq(nb_deriv_vjp(ctx, &X, &U, &JV, &Y), NB_ERR_SHAPE);
    /* aliasing */
    nb_tensor JX = nb_tensor_view(J.data, B, n);
    cr_expect_eq(nb_deriv_vjp(ctx, &JX, &U, &UJ, NULL), NB_OK); /* sanity: a view is fine */
    fill(&UJ, SENT);
    nb_tensor Jy = nb_tensor_view(J.data + 1, B, m);
    cr_expect_eq(nb_deriv_jacobian(ctx, &X, &J, &Jy), NB_ERR_ALIAS);
    nb_tensor Xr = nb_tensor_view(X.data, B, m);
    cr_expect_eq(nb_deriv_jvp(ctx, &X, &V, &Xr, NULL), NB_ERR_ALIAS);
    nb_tensor Vr = nb_tensor_view(V.data, B, n);
    cr_expect_eq(nb_deriv_vjp(ctx, &X, &U, &UJ, &Vr), NB_ERR_SHAPE);
    nb_tensor Ur = nb_tensor_view(U.data, B, n);
    cr_expect_eq(nb_deriv_vjp(ctx, &X, &U, &Ur, NULL), NB_ERR_ALIAS);
    nb_tensor Yx = nb_tensor_view(X.data, B, m);
    cr_expect_eq(nb_deriv_jacobian(ctx, &X, &J, &Yx), NB_ERR_ALIAS);
    /* non-finite */
    X.data[4] = NAN;
    cr_expect_eq(nb_deriv_jacobian(ctx, &X, &J, &Y), NB_ERR_NONFINITE);
    X.data[4] = INFINITY;
    cr_expect_eq(nb_deriv_vjp(ctx, &X, &U, &UJ, &Y), NB_ERR_NONFINITE);
    X.data[4] = 0.5f;
    V.data[B * n - 1] = -INFINITY;
    cr_expect_eq(nb_deriv_jvp(ctx, &X, &V, &JV, &Y), NB_ERR_NONFINITE);
    U.data[0] = NAN;
    cr_expect_eq(nb_deriv_vjp(ctx, &X, &U, &UJ, &Y), NB_ERR_NONFINITE);
    cr_expect(untouched(&J) && untouched(&JV) && untouched(&UJ) && untouched(&Y));
    /* and the context still works */
    V.data[B * n - 1] = 1.0f;
    cr_expect_eq(nb_deriv_jvp(ctx, &X, &V, &JV, &Y), NB_OK);
    cr_expect(!untouched(&JV) && !untouched(&Y));
    nb_tensor_free(&X);
    nb_tensor_free(&V);
    nb_tensor_free(&U);
    nb_tensor_free(&J);
    nb_tensor_free(&JV);
    nb_tensor_free(&UJ);
    nb_tensor_free(&Y);
    nb_tensor_free(&bad);
    nb_deriv_ctx_free(ctx);
    nb_net_free(net);
}
