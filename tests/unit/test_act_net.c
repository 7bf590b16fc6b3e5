/* The activations whose derivative needs the pre-activation Z (GELU, its tanh form, SiLU, ELU)
   and softplus inside whole networks: the network keeps Z for exactly those layers, and its
   backward equals the chain of public kernels; the batch split gives the unsplit gradient;
   prediction, inference contexts and the training forward give the same outputs; and training
   with each of them converges. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "net/network.h"
#include "optim/optim.h"
#include "train/step.h"

TestSuite(act_net, .fini = tc_leak_check);

static const nb_act NEW_ACTS[] = {NB_ACT_GELU, NB_ACT_GELU_TANH, NB_ACT_SILU, NB_ACT_SOFTPLUS,
                                  NB_ACT_ELU};
enum { N_NEW = sizeof NEW_ACTS / sizeof *NEW_ACTS };

/* Z is kept only for the layers that need it, as many floats per row as their widths. */
Test(act_net, keeps_z_only_where_needed)
{
    const nb_layer_spec l[] = {{7, NB_ACT_GELU, 0},     {5, NB_ACT_RELU, 0}, {6, NB_ACT_SILU, 0},
                               {4, NB_ACT_SOFTPLUS, 0}, {3, NB_ACT_ELU, 0},  {2, NB_ACT_TANH, 0}};
    nb_net *net = tc_net(3, l, 6, 1);
    cr_assert_eq(net->z_per_row, 7 + 6 + 3);
    cr_assert_eq(nb_net_reserve(net, 10), NB_OK);
    cr_assert_not_null(net->pre);
    cr_assert_null(nb__net_pre(net, 1));
    cr_assert_null(nb__net_pre(net, 3));
    cr_assert_eq(nb__net_pre(net, 2), net->pre + 10 * 7);
    cr_assert_eq(nb__net_pre(net, 4), net->pre + 10 * 13);
    nb_net_free(net);
    const nb_layer_spec plain[] = {{5, NB_ACT_RELU, 0}, {2, NB_ACT_SOFTPLUS, 0}};
    net = tc_net(3, plain, 2, 1);
    cr_assert_eq(nb_net_reserve(net, 10), NB_OK);
    cr_assert_eq(net->z_per_row, 0);
    cr_assert_null(net->pre); /* the other activations cost nothing more */
    nb_net_free(net);
}

/* nb_net_forward + nb_net_backward against dense and activation kernels chained by hand
   (nb_act_backward_z with the Z each dense product gave). */
Test(act_net, backward_equals_kernel_chain)
{
    enum { B = 19, IN = 5, L = 3 };
    for (size_t k = 0; k < N_NEW; k++) {
        nb_act a = NEW_ACTS[k];
        const nb_layer_spec l[L] = {{9, a, 0}, {17, a, 0}, {4, NB_ACT_IDENTITY, 0}};
        nb_net *net = tc_net(IN, l, L, 3 + k);
        nb_rng r;
        nb_rng_seed(&r, 5);
        float x[B * IN], t[B * 4];
        tc_fill_uniform(&r, x, B * IN, -3, 3);
        tc_fill_uniform(&r, t, B * 4, -1, 1);
        nb_tensor X = nb_tensor_view(x, B, IN), T = nb_tensor_view(t, B, 4);
        cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
        cr_assert_eq(nb_net_backward(net, NB_LOSS_MSE, &T, NULL), NB_OK);
        /* the chain: keep Z and A per layer */
        float *Zs[L], *As[L];
        nb_tensor in = X;
        for (size_t j = 0; j < L; j++) {
            nb_tensor W, b;
            nb_net_layer_params(net, j, &W, &b);
            Zs[j] = tc_falloc(B * W.cols);
            As[j] = tc_falloc(B * W.cols);
            nb_tensor Z = nb_tensor_view(Zs[j], B, W.cols), A = nb_tensor_view(As[j], B, W.cols);
            cr_assert_eq(nb_dense_forward(&in, &W, &b, &Z), NB_OK);
            memcpy(As[j], Zs[j], B * W.cols * sizeof(float));
            cr_assert_eq(nb_act_forward(l[j].act, &A), NB_OK);
            in = A;
        }
        float *g = tc_falloc(B * 4);
        nb_tensor Y = nb_tensor_view(As[L - 1], B, 4), G = nb_tensor_view(g, B, 4);
        cr_assert_eq(nb_loss_backward(NB_LOSS_MSE, &Y, &T, &G), NB_OK);
        for (size_t j = L; j-- > 0;) {
            nb_tensor W, b, dW, db;
            nb_net_layer_params(net, j, &W, &b);
            nb_net_layer_grads(net, j, &dW, &db);
            nb_tensor Z = nb_tensor_view(Zs[j], B, W.cols), A = nb_tensor_view(As[j], B, W.cols);
            cr_assert_eq(nb_act_backward_z(l[j].act, &Z, &A, &G), NB_OK);
            float *mw = tc_falloc(W.rows * W.cols), *mb = tc_falloc(W.cols);
            float *gx = tc_falloc(B * W.rows);
            nb_tensor MW = nb_tensor_view(mw, W.rows, W.cols), MB = nb_tensor_view(mb, 1, W.cols);
            nb_tensor GX = nb_tensor_view(gx, B, W.rows);
            nb_tensor Xin = nb_tensor_view(j ? As[j - 1] : x, B, W.rows);
            cr_assert_eq(nb_dense_backward(&Xin, &W, &G, &MW, &MB, &GX), NB_OK);
            cr_assert_eq(memcmp(mw, dW.data, W.rows * W.cols * sizeof(float)), 0,
                         "%s: layer %zu dW differs from the kernel chain", nb_act_name(a), j);
            cr_assert_eq(memcmp(mb, db.data, W.cols * sizeof(float)), 0, "%s: layer %zu db",
                         nb_act_name(a), j);
            free(mw);
            free(mb);
            free(g);
            g = gx;
            G = GX;
        }
        free(g);
        for (size_t j = 0; j < L; j++) {
            free(Zs[j]);
            free(As[j]);
        }
        nb_net_free(net);
    }
}

static nb_status keep_grads(void *ctx, float *params, float *grads, size_t n, double lr)
{
    (void)params;
    (void)lr;
    memcpy(ctx, grads, n * sizeof(float));
    return NB_OK;
}

/* The batch split: each part keeps its rows' Z in its own shard workspace. */
Test(act_net, split_gradient_equals_unsplit)
{
    enum { ROWS = 45, IN = 12, OUT = 3 };
    for (size_t k = 0; k < N_NEW; k++) {
        const nb_layer_spec l[] = {{40, NEW_ACTS[k], 0.2f}, {20, NEW_ACTS[(k + 1) % N_NEW], 0},
                                   {OUT, NB_ACT_IDENTITY, 0}};
        nb_net *net = tc_net(IN, l, 3, 11);
        size_t np = nb_net_num_params(net);
        float x[ROWS * IN], t[ROWS * OUT];
        float *g[2] = {tc_falloc(np), tc_falloc(np)};
        nb_rng r;
        nb_rng_seed(&r, 4);
        tc_fill_uniform(&r, x, ROWS * IN, -2, 2);
        tc_fill_uniform(&r, t, ROWS * OUT, -1, 1);
        cr_assert_eq(nb_set_threads(3), NB_OK);
        cr_assert_eq(nb_net_set_dropout_masks(net, true, 8), NB_OK);
        double loss[2];
        for (int v = 0; v < 2; v++) {
            nb__split_policy(v == 0 ? NB_SPLIT_ALWAYS : NB_SPLIT_OFF);
            cr_assert_eq(nb__net_prepare(net, ROWS), NB_OK);
            if (v == 0)
                cr_assert_eq(nb__split_parts(net, ROWS), 3, "the split did not happen");
            nb__step_cfg cfg = {NB_LOSS_MSE, false, keep_grads, g[v], NULL};
            nb__step_at at = {0.1, {true, 8, 0}}; /* the masks of nb_net_set_dropout_masks above */
            cr_assert_eq(nb__train_step(net, &cfg, &at, x, t, ROWS, ROWS, &loss[v]), NB_OK);
        }
        nb__split_policy(NB_SPLIT_AUTO);
        double d = 0.0, m = 0.0;
        for (size_t i = 0; i < np; i++) {
            d = fmax(d, fabs((double)g[0][i] - g[1][i]));
            m = fmax(m, fabs((double)g[1][i]));
        }
        cr_assert(d <= 1e-6 * m, "%s: split gradient off by %.3g relative",
                  nb_act_name(NEW_ACTS[k]), d / m);
        cr_assert(fabs(loss[0] - loss[1]) <= 1e-6 * fabs(loss[1]));
        free(g[0]);
        free(g[1]);
        nb_net_free(net);
    }
}

/* Prediction (the kept-Z forward) and an inference context (in place, nothing kept) give the
   same bits. */
Test(act_net, predict_equals_inference_context)
{
    enum { ROWS = 37, IN = 6 };
    const nb_layer_spec l[] = {{16, NB_ACT_GELU, 0}, {16, NB_ACT_GELU_TANH, 0},
                               {16, NB_ACT_SILU, 0}, {16, NB_ACT_SOFTPLUS, 0},
                               {16, NB_ACT_ELU, 0},  {2, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(IN, l, 6, 9);
    float x[ROWS * IN], y1[ROWS * 2], y2[ROWS * 2];
    nb_rng r;
    nb_rng_seed(&r, 6);
    tc_fill_uniform(&r, x, ROWS * IN, -4, 4);
    nb_tensor X = nb_tensor_view(x, ROWS, IN), Y1 = nb_tensor_view(y1, ROWS, 2),
              Y2 = nb_tensor_view(y2, ROWS, 2), F;
    cr_assert_eq(nb_net_predict(net, &X, &Y1), NB_OK);
    nb_infer_ctx *ctx;
    /* all rows in one call, as nb_net_predict makes it: what is compared is the kept-Z forward
       against the in-place one, not products of other row counts (BLAS may round those
       differently) */
    cr_assert_eq(nb_infer_ctx_create(&ctx, net, NULL, 64), NB_OK);
    cr_assert_eq(nb_infer_predict(ctx, &X, &Y2), NB_OK);
    cr_assert_eq(memcmp(y1, y2, sizeof y1), 0, "inference context differs from prediction");
    cr_assert_eq(nb_net_forward(net, &X, &F), NB_OK);
    cr_assert_eq(memcmp(y1, F.data, sizeof y1), 0, "training forward differs from prediction");
    nb_infer_ctx_free(ctx);
    nb_net_free(net);
}

/* Training with each activation in both hidden layers fits y = sin(2 x0) + x1 x2: the training
   loss falls below a fifth of the first epoch's (softplus, the slowest, reaches 0.09; the
   others 0.02 or less). */
typedef struct losses {
    double first, last;
} losses;

static int on_epoch(const nb_epoch_info *info, void *user)
{
    losses *l = user;
    if (info->epoch == 1)
        l->first = info->loss;
    l->last = info->loss;
    return 0;
}

Test(act_net, training_converges)
{
    enum { N = 512, IN = 3 };
    float x[N * IN], t[N];
    nb_rng r;
    nb_rng_seed(&r, 12);
    tc_fill_uniform(&r, x, N * IN, -1.5, 1.5);
    for (size_t i = 0; i < N; i++)
        t[i] = sinf(2.0f * x[i * IN]) + x[i * IN + 1] * x[i * IN + 2];
    for (size_t k = 0; k < N_NEW; k++) {
        const nb_layer_spec l[] = {{32, NEW_ACTS[k], 0}, {16, NEW_ACTS[k], 0},
                                   {1, NB_ACT_IDENTITY, 0}};
        nb_net *net = tc_net(IN, l, 3, 21);
        nb_tensor X = nb_tensor_view(x, N, IN), T = nb_tensor_view(t, N, 1);
        nb_train_opts o = nb_train_opts_default();
        o.loss = NB_LOSS_MSE;
        o.epochs = 150;
        o.batch_size = 32;
        o.lr = 0.05f;
        o.seed = 2;
        losses ls = {0, 0};
        o.on_epoch = on_epoch;
        o.user = &ls;
        cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
        nb_eval ev;
        cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_MSE, &ev), NB_OK);
        fprintf(stderr, "%-9s first-epoch loss %.4f, final %.4f, evaluated %.4f\n",
                nb_act_name(NEW_ACTS[k]), ls.first, ls.last, ev.loss);
        cr_assert(isfinite(ev.loss) && ev.loss < 0.2 * ls.first, "%s: loss %g from %g",
                  nb_act_name(NEW_ACTS[k]), ev.loss, ls.first);
        nb_net_free(net);
    }
}
