/* Every error path of the network API.  After a rejected call, the caller's memory (one pool),
   the parameter and gradient buffers and every out-argument must be unchanged. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "common.h"

enum { POOL = 1024, IN = 3, OUT = 2, ROWS = 5 };
static float pool[POOL], pool_copy[POOL];
static float *params_copy, *grads_copy;
static nb_net *net; /* 3 -> 4 tanh -> 2 sigmoid */

static const nb_layer_spec layers[] = {{4, NB_ACT_TANH, 0}, {OUT, NB_ACT_SIGMOID, 0}};

static void setup(void)
{
    nb_rng r;
    nb_rng_seed(&r, 3);
    tc_fill_uniform(&r, pool, POOL, 0.05, 0.95);
    net = tc_net(IN, layers, 2, 11);
    /* non-zero gradients, so that a stray write of zeros would show */
    for (size_t i = 0; i < nb_net_num_params(net); i++)
        nb_net_grads(net)[i] = 0.5f + (float)i;
    params_copy = tc_falloc(nb_net_num_params(net));
    grads_copy = tc_falloc(nb_net_num_params(net));
}

static void teardown(void)
{
    nb_net_free(net);
    free(params_copy);
    free(grads_copy);
    tc_leak_check();
}

static void snap(void)
{
    memcpy(pool_copy, pool, sizeof pool);
    memcpy(params_copy, nb_net_params(net), nb_net_num_params(net) * sizeof(float));
    memcpy(grads_copy, nb_net_grads(net), nb_net_num_params(net) * sizeof(float));
}

static bool unchanged(void)
{
    size_t n = nb_net_num_params(net) * sizeof(float);
    return !memcmp(pool_copy, pool, sizeof pool) && !memcmp(params_copy, nb_net_params(net), n)
           && !memcmp(grads_copy, nb_net_grads(net), n);
}

#define REJECTS(code, call)                                                                    \
    do {                                                                                       \
        snap();                                                                                \
        nb_status got_ = (call);                                                               \
        cr_assert_eq(got_, (code), "%s: got \"%s\", expected \"%s\"", #call,                   \
                     nb_status_str(got_), nb_status_str(code));                                \
        cr_assert(unchanged(), "%s changed memory", #call);                                    \
    } while (0)

static nb_tensor V(size_t off, size_t rows, size_t cols)
{
    return nb_tensor_view(pool + off, rows, cols);
}

/* X 5x3 at 0, T 5x2 at 100, Y 5x2 at 200 */
#define X_OK V(0, ROWS, IN)
#define T_OK V(100, ROWS, OUT)
#define Y_OK V(200, ROWS, OUT)

/* Data tensors that are wrong in one way each, for an `in` x `out` use. */
static size_t bad_tensors(nb_tensor *out, size_t off, size_t rows, size_t cols, nb_status *why)
{
    size_t n = 0;
    out[n] = nb_tensor_view(NULL, rows, cols), why[n++] = NB_ERR_NULL;
    out[n] = V(off, 0, cols), why[n++] = NB_ERR_SHAPE;
    out[n] = V(off, rows, 0), why[n++] = NB_ERR_SHAPE;
    out[n] = V(off, rows, cols + 1), why[n++] = NB_ERR_SHAPE;
    out[n] = V(off, rows, cols - 1), why[n++] = NB_ERR_SHAPE;
    out[n] = V(off, cols, rows), why[n++] = NB_ERR_SHAPE; /* transposed */
    out[n] = V(off, SIZE_MAX / 2, cols), why[n++] = NB_ERR_OVERFLOW;
    return n;
}

TestSuite(errors_net, .init = setup, .fini = teardown);

Test(errors_net, create)
{
    nb_net *sentinel = (nb_net *)(uintptr_t)0x1234, *out = sentinel;
    const nb_layer_spec zero_units[] = {{4, NB_ACT_RELU, 0}, {0, NB_ACT_RELU, 0}, {2, NB_ACT_IDENTITY, 0}};
    const nb_layer_spec bad_act[][2] = {{{4, NB_ACT_COUNT, 0}, {2, NB_ACT_IDENTITY, 0}},
                                        {{4, NB_ACT_RELU, 0}, {2, (nb_act)99, 0}},
                                        {{4, (nb_act)-1, 0}, {2, NB_ACT_IDENTITY, 0}}};
    const nb_layer_spec huge[] = {{(size_t)1 << 40, NB_ACT_RELU, 0}};
    cr_assert_eq(nb_net_create(NULL, 3, layers, 2, 1), NB_ERR_NULL);
    cr_assert_eq(nb_net_create(&out, 3, NULL, 2, 1), NB_ERR_NULL);
    cr_assert_eq(nb_net_create(&out, 0, layers, 2, 1), NB_ERR_SHAPE);
    cr_assert_eq(nb_net_create(&out, 3, layers, 0, 1), NB_ERR_SHAPE);
    cr_assert_eq(nb_net_create(&out, 3, zero_units, 3, 1), NB_ERR_SHAPE);
    for (int k = 0; k < 3; k++)
        cr_assert_eq(nb_net_create(&out, 3, bad_act[k], 2, 1), NB_ERR_ARG, "case %d", k);
    cr_assert_eq(nb_net_create(&out, 3, huge, 1, 1), NB_ERR_OVERFLOW);
    cr_assert_eq(nb_net_create(&out, (size_t)1 << 40, layers, 2, 1), NB_ERR_OVERFLOW);
    cr_assert_eq(nb_net_create(&out, SIZE_MAX, layers, 2, 1), NB_ERR_OVERFLOW);
    cr_assert_eq(out, sentinel, "*net written by a failed create");
    nb_net_free(NULL);
}

Test(errors_net, getters_and_views)
{
    cr_assert_eq(nb_net_init_params(NULL, 1), NB_ERR_NULL);
    cr_assert_eq(nb_net_inputs(NULL), 0);
    cr_assert_eq(nb_net_outputs(NULL), 0);
    cr_assert_eq(nb_net_num_layers(NULL), 0);
    cr_assert_eq(nb_net_num_params(NULL), 0);
    cr_assert_null(nb_net_params(NULL));
    cr_assert_null(nb_net_grads(NULL));

    nb_layer_spec spec, spec0;
    tc_fill_sentinel(&spec, sizeof spec);
    spec0 = spec;
    cr_assert_eq(nb_net_layer(NULL, 0, &spec), NB_ERR_NULL);
    cr_assert_eq(nb_net_layer(net, 0, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_net_layer(net, 2, &spec), NB_ERR_ARG);
    cr_assert_eq(nb_net_layer(net, SIZE_MAX, &spec), NB_ERR_ARG);
    cr_assert_eq(memcmp(&spec, &spec0, sizeof spec), 0);

    nb_tensor W, b, W0, b0;
    tc_fill_sentinel(&W, sizeof W);
    tc_fill_sentinel(&b, sizeof b);
    W0 = W;
    b0 = b;
    nb_status (*getters[2])(nb_net *, size_t, nb_tensor *, nb_tensor *) = {nb_net_layer_params,
                                                                            nb_net_layer_grads};
    for (int g = 0; g < 2; g++) {
        cr_assert_eq(getters[g](NULL, 0, &W, &b), NB_ERR_NULL);
        cr_assert_eq(getters[g](net, 0, NULL, &b), NB_ERR_NULL);
        cr_assert_eq(getters[g](net, 0, &W, NULL), NB_ERR_NULL);
        cr_assert_eq(getters[g](net, 2, &W, &b), NB_ERR_ARG);
        cr_assert_eq(memcmp(&W, &W0, sizeof W), 0);
        cr_assert_eq(memcmp(&b, &b0, sizeof b), 0);
    }
    cr_assert_eq(nb_net_reserve(NULL, 4), NB_ERR_NULL);
    cr_assert_eq(nb_net_reserve(net, 0), NB_ERR_SHAPE);
}

Test(errors_net, forward)
{
    nb_tensor X = X_OK, Y, Y0, bad[8];
    nb_status why[8];
    tc_fill_sentinel(&Y, sizeof Y);
    Y0 = Y;
    REJECTS(NB_ERR_NULL, nb_net_forward(NULL, &X, &Y));
    REJECTS(NB_ERR_NULL, nb_net_forward(net, NULL, &Y));
    size_t n = bad_tensors(bad, 0, ROWS, IN, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_forward(net, &bad[k], &Y));
    nb_tensor huge = nb_tensor_view((float *)(uintptr_t)((uintptr_t)1 << 40), (size_t)1 << 31, IN);
    REJECTS(NB_ERR_OVERFLOW, nb_net_forward(net, &huge, &Y));
    cr_assert_eq(memcmp(&Y, &Y0, sizeof Y), 0, "Y written by a failed forward");
}

Test(errors_net, backward_state)
{
    nb_tensor X = X_OK, T = T_OK, Y = Y_OK;
    float loss = 12345.0f;
    nb_eval ev;
    /* no forward yet */
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss));
    /* each call that invalidates the last forward */
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(net, NB_LOSS_MSE, &T, NULL), NB_OK);
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss)); /* a second backward */
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_sgd_step(net, 0.1f), NB_OK);
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss));
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_init_params(net, 5), NB_OK);
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss));
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_train_step(net, &X, &T, NB_LOSS_MSE, 0.1f, NULL), NB_OK);
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss));
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss));
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_MSE, &ev), NB_OK);
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss));
    nb_train_opts o = nb_train_opts_default();
    o.epochs = 1;
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    REJECTS(NB_ERR_STATE, nb_net_backward(net, NB_LOSS_MSE, &T, &loss));
    cr_assert_eq(loss, 12345.0f, "loss_out written by a failed backward");
}

Test(errors_net, backward_arguments)
{
    nb_tensor X = X_OK, T = T_OK, bad[8];
    nb_status why[8];
    float loss = 12345.0f;
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
    REJECTS(NB_ERR_NULL, nb_net_backward(NULL, NB_LOSS_MSE, &T, &loss));
    REJECTS(NB_ERR_NULL, nb_net_backward(net, NB_LOSS_MSE, NULL, &loss));
    size_t n = bad_tensors(bad, 100, ROWS, OUT, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_backward(net, NB_LOSS_MSE, &bad[k], &loss));
    nb_tensor more = V(100, ROWS + 1, OUT), fewer = V(100, ROWS - 1, OUT);
    REJECTS(NB_ERR_SHAPE, nb_net_backward(net, NB_LOSS_MSE, &more, &loss));
    REJECTS(NB_ERR_SHAPE, nb_net_backward(net, NB_LOSS_MSE, &fewer, &loss));
    REJECTS(NB_ERR_ARG, nb_net_backward(net, NB_LOSS_COUNT, &T, &loss));
    REJECTS(NB_ERR_ARG, nb_net_backward(net, (nb_loss)99, &T, &loss));
    REJECTS(NB_ERR_ARG, nb_net_backward(net, (nb_loss)-1, &T, &loss));
    /* softmax-CE takes logits: the sigmoid output layer does not fit */
    REJECTS(NB_ERR_LOSS_ACT, nb_net_backward(net, NB_LOSS_SOFTMAX_CE, &T, &loss));
    cr_assert_eq(loss, 12345.0f, "loss_out written by a failed backward");
    /* the rejected calls did not use up the forward */
    cr_assert_eq(nb_net_backward(net, NB_LOSS_BCE, &T, &loss), NB_OK);
    cr_assert_neq(loss, 12345.0f);
}

Test(errors_net, softmax_ce_needs_identity_output)
{
    for (int a = 0; a < NB_ACT_COUNT; a++) {
        const nb_layer_spec l[] = {{4, NB_ACT_RELU, 0}, {3, (nb_act)a, 0}};
        nb_net *n2 = tc_net(2, l, 2, 1);
        float x[4] = {1, 2, 3, 4}, t[6] = {1, 0, 0, 0, 1, 0}, loss = 0;
        nb_tensor X = nb_tensor_view(x, 2, 2), T = nb_tensor_view(t, 2, 3);
        nb_eval ev;
        nb_train_opts o = nb_train_opts_default();
        o.loss = NB_LOSS_SOFTMAX_CE;
        nb_status want = a == NB_ACT_IDENTITY ? NB_OK : NB_ERR_LOSS_ACT;
        cr_assert_eq(nb_net_forward(n2, &X, NULL), NB_OK);
        cr_assert_eq(nb_net_backward(n2, NB_LOSS_SOFTMAX_CE, &T, &loss), want, "%s", nb_act_name(a));
        cr_assert_eq(nb_net_train_step(n2, &X, &T, NB_LOSS_SOFTMAX_CE, 0.1f, &loss), want);
        cr_assert_eq(nb_net_evaluate(n2, &X, &T, NB_LOSS_SOFTMAX_CE, &ev), want);
        cr_assert_eq(nb_net_train(n2, &X, &T, &o, NULL), want);
        nb_net_free(n2);
    }
}

Test(errors_net, sgd_step)
{
    REJECTS(NB_ERR_NULL, nb_net_sgd_step(NULL, 0.1f));
    const float lrs[] = {NAN, INFINITY, -INFINITY, -1.0f, -FLT_TRUE_MIN};
    for (size_t k = 0; k < sizeof lrs / sizeof *lrs; k++)
        REJECTS(NB_ERR_ARG, nb_net_sgd_step(net, lrs[k]));
}

Test(errors_net, train_step)
{
    nb_tensor X = X_OK, T = T_OK, bad[8];
    nb_status why[8];
    float loss = 12345.0f;
    REJECTS(NB_ERR_NULL, nb_net_train_step(NULL, &X, &T, NB_LOSS_MSE, 0.1f, &loss));
    REJECTS(NB_ERR_NULL, nb_net_train_step(net, NULL, &T, NB_LOSS_MSE, 0.1f, &loss));
    REJECTS(NB_ERR_NULL, nb_net_train_step(net, &X, NULL, NB_LOSS_MSE, 0.1f, &loss));
    size_t n = bad_tensors(bad, 0, ROWS, IN, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_train_step(net, &bad[k], &T, NB_LOSS_MSE, 0.1f, &loss));
    n = bad_tensors(bad, 100, ROWS, OUT, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_train_step(net, &X, &bad[k], NB_LOSS_MSE, 0.1f, &loss));
    nb_tensor fewer = V(100, ROWS - 1, OUT);
    REJECTS(NB_ERR_SHAPE, nb_net_train_step(net, &X, &fewer, NB_LOSS_MSE, 0.1f, &loss));
    REJECTS(NB_ERR_ARG, nb_net_train_step(net, &X, &T, (nb_loss)99, 0.1f, &loss));
    REJECTS(NB_ERR_LOSS_ACT, nb_net_train_step(net, &X, &T, NB_LOSS_SOFTMAX_CE, 0.1f, &loss));
    const float lrs[] = {NAN, INFINITY, -1.0f};
    for (size_t k = 0; k < 3; k++)
        REJECTS(NB_ERR_ARG, nb_net_train_step(net, &X, &T, NB_LOSS_MSE, lrs[k], &loss));
    cr_assert_eq(loss, 12345.0f);
}

Test(errors_net, predict)
{
    nb_tensor X = X_OK, Y = Y_OK, bad[8];
    nb_status why[8];
    REJECTS(NB_ERR_NULL, nb_net_predict(NULL, &X, &Y));
    REJECTS(NB_ERR_NULL, nb_net_predict(net, NULL, &Y));
    REJECTS(NB_ERR_NULL, nb_net_predict(net, &X, NULL));
    size_t n = bad_tensors(bad, 0, ROWS, IN, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_predict(net, &bad[k], &Y));
    n = bad_tensors(bad, 200, ROWS, OUT, why);
    for (size_t k = 0; k < n; k++)
        if (why[k] != NB_ERR_OVERFLOW) /* a huge Y is just the wrong shape for a 5-row X */
            REJECTS(why[k], nb_net_predict(net, &X, &bad[k]));
    nb_tensor fewer = V(200, ROWS - 1, OUT);
    REJECTS(NB_ERR_SHAPE, nb_net_predict(net, &X, &fewer));
    nb_tensor onX = V(4, ROWS, OUT); /* Y overlapping X */
    REJECTS(NB_ERR_ALIAS, nb_net_predict(net, &X, &onX));
}

Test(errors_net, evaluate)
{
    nb_tensor X = X_OK, T = T_OK, bad[8];
    nb_status why[8];
    nb_eval ev, ev0;
    tc_fill_sentinel(&ev, sizeof ev);
    ev0 = ev;
    REJECTS(NB_ERR_NULL, nb_net_evaluate(NULL, &X, &T, NB_LOSS_MSE, &ev));
    REJECTS(NB_ERR_NULL, nb_net_evaluate(net, NULL, &T, NB_LOSS_MSE, &ev));
    REJECTS(NB_ERR_NULL, nb_net_evaluate(net, &X, NULL, NB_LOSS_MSE, &ev));
    REJECTS(NB_ERR_NULL, nb_net_evaluate(net, &X, &T, NB_LOSS_MSE, NULL));
    size_t n = bad_tensors(bad, 0, ROWS, IN, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_evaluate(net, &bad[k], &T, NB_LOSS_MSE, &ev));
    n = bad_tensors(bad, 100, ROWS, OUT, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_evaluate(net, &X, &bad[k], NB_LOSS_MSE, &ev));
    REJECTS(NB_ERR_ARG, nb_net_evaluate(net, &X, &T, (nb_loss)99, &ev));
    REJECTS(NB_ERR_LOSS_ACT, nb_net_evaluate(net, &X, &T, NB_LOSS_SOFTMAX_CE, &ev));
    cr_assert_eq(memcmp(&ev, &ev0, sizeof ev), 0, "result written by a failed evaluate");
}

static int count_calls(const nb_epoch_info *info, void *user)
{
    (void)info;
    ++*(int *)user;
    return 0;
}

Test(errors_net, train)
{
    nb_tensor X = X_OK, T = T_OK, bad[8];
    nb_status why[8];
    nb_train_report rep, rep0;
    tc_fill_sentinel(&rep, sizeof rep);
    rep0 = rep;
    int calls = 0;
    nb_train_opts o = nb_train_opts_default();
    o.on_epoch = count_calls;
    o.user = &calls;
    REJECTS(NB_ERR_NULL, nb_net_train(NULL, &X, &T, &o, &rep));
    REJECTS(NB_ERR_NULL, nb_net_train(net, NULL, &T, &o, &rep));
    REJECTS(NB_ERR_NULL, nb_net_train(net, &X, NULL, &o, &rep));
    REJECTS(NB_ERR_NULL, nb_net_train(net, &X, &T, NULL, &rep));
    size_t n = bad_tensors(bad, 0, ROWS, IN, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_train(net, &bad[k], &T, &o, &rep));
    n = bad_tensors(bad, 100, ROWS, OUT, why);
    for (size_t k = 0; k < n; k++)
        REJECTS(why[k], nb_net_train(net, &X, &bad[k], &o, &rep));

    nb_train_opts b = o;
    b.batch_size = 0;
    REJECTS(NB_ERR_ARG, nb_net_train(net, &X, &T, &b, &rep));
    b = o;
    b.epochs = 0;
    REJECTS(NB_ERR_ARG, nb_net_train(net, &X, &T, &b, &rep));
    const float lrs[] = {NAN, INFINITY, -INFINITY, -0.5f};
    for (size_t k = 0; k < 4; k++) {
        b = o;
        b.lr = lrs[k];
        REJECTS(NB_ERR_ARG, nb_net_train(net, &X, &T, &b, &rep));
    }
    b = o;
    b.loss = (nb_loss)99;
    REJECTS(NB_ERR_ARG, nb_net_train(net, &X, &T, &b, &rep));
    b.loss = NB_LOSS_SOFTMAX_CE;
    REJECTS(NB_ERR_LOSS_ACT, nb_net_train(net, &X, &T, &b, &rep));
    cr_assert_eq(memcmp(&rep, &rep0, sizeof rep), 0, "report written by a failed train");
    cr_assert_eq(calls, 0, "callback called by a failed train");
}
