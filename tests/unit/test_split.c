/* The batch split of the training step (src/net/split.c, src/train/step.c): the summed
   gradient of the parts equals the unsplit gradient within 1e-6 relative (every loss, dropout,
   uneven parts, the hook's global-batch share), the rule's choices, and whole runs: two
   2-thread runs give the same bits, and 2 threads agree with 1 within a stated tolerance. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "optim/optim.h"
#include "train/step.h"

TestSuite(split, .fini = tc_leak_check);

/* The update of a step that only keeps the gradient (the parameters stay). */
typedef struct capture {
    float *grads;
} capture;

static nb_status keep_grads(void *ctx, float *params, float *grads, size_t n, double lr)
{
    (void)params, (void)lr;
    memcpy(((capture *)ctx)->grads, grads, n * sizeof(float));
    return NB_OK;
}

/* A hook that leaves this process's share as it is (one "rank" of several). */
static nb_status share_hook(void *ctx, float *grads, size_t n, size_t local, size_t global,
                            double *loss)
{
    (void)ctx, (void)grads, (void)n, (void)local, (void)global, (void)loss;
    return NB_OK;
}

static double rel_err(const float *a, const float *b, size_t n)
{
    double d = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / (m > 0.0 ? m : 1.0);
}

typedef struct step_case {
    nb_loss loss;
    nb_act out_act;
    size_t rows, global;
    int threads;
    float dropout;
    bool hook;
} step_case;

/* One step's gradient and loss with the split forced on, then off, from the same network. */
static void check_step(const step_case *c)
{
    enum { IN = 24, H1 = 48, H2 = 20, OUT = 5 };
    const nb_layer_spec layers[] = {{H1, NB_ACT_RELU, c->dropout}, {H2, NB_ACT_TANH, 0},
                                    {OUT, c->out_act, 0}};
    nb_net *net = tc_net(IN, layers, 3, 17);
    size_t np = nb_net_num_params(net);
    float *x = malloc(c->rows * IN * sizeof *x), *t = malloc(c->rows * OUT * sizeof *t);
    float *g[2] = {malloc(np * sizeof(float)), malloc(np * sizeof(float))};
    cr_assert(x && t && g[0] && g[1]);
    nb_rng r;
    nb_rng_seed(&r, 2);
    tc_fill_uniform(&r, x, c->rows * IN, -1, 1);
    for (size_t i = 0; i < c->rows * OUT; i++)
        t[i] = c->loss == NB_LOSS_SOFTMAX_CE ? (float)(i % OUT == (i / OUT) % OUT)
                                             : (float)nb_rng_uniform(&r);
    cr_assert_eq(nb_set_threads(c->threads), NB_OK);
    cr_assert_eq(nb_net_set_dropout_masks(net, c->dropout > 0.0f, 99), NB_OK);
    /* a slice of a larger batch (row 7 on): masks from the whole batch's rows */
    nb__step_at at = {0.1, {c->dropout > 0.0f, 99, 7}};
    nb__step_hooks share = {share_hook, NULL, NULL};
    double loss[2];
    for (int v = 0; v < 2; v++) {
        nb__split_policy(v == 0 ? NB_SPLIT_ALWAYS : NB_SPLIT_OFF);
        cr_assert_eq(nb__net_prepare(net, c->rows), NB_OK);
        if (v == 0)
            cr_assert_eq(nb__split_parts(net, c->rows), c->threads, "the split did not happen");
        capture cap = {g[v]};
        nb__step_cfg cfg = {c->loss, false, keep_grads, &cap, c->hook ? &share : NULL};
        cr_assert_eq(nb__train_step(net, &cfg, &at, x, t, c->rows, c->global, &loss[v]), NB_OK);
    }
    nb__split_policy(NB_SPLIT_AUTO);
    double e = rel_err(g[0], g[1], np);
    cr_assert(e <= 1e-6, "loss %d, %zu rows over %d parts: split gradient off by %.3g relative",
              (int)c->loss, c->rows, c->threads, e);
    cr_assert(fabs(loss[0] - loss[1]) <= 1e-6 * fabs(loss[1]), "loss %.9g vs %.9g", loss[0],
              loss[1]);
    free(x);
    free(t);
    free(g[0]);
    free(g[1]);
    nb_net_free(net);
}

Test(split, gradient_equals_unsplit)
{
    const step_case cases[] = {
        {NB_LOSS_MSE, NB_ACT_IDENTITY, 64, 64, 2, 0.0f, false},
        {NB_LOSS_BCE, NB_ACT_SIGMOID, 37, 37, 3, 0.0f, false}, /* uneven parts */
        {NB_LOSS_SOFTMAX_CE, NB_ACT_IDENTITY, 50, 50, 2, 0.3f, false}, /* dropout */
        {NB_LOSS_SOFTMAX_CE, NB_ACT_IDENTITY, 41, 41, 4, 0.0f, false},
        {NB_LOSS_MSE, NB_ACT_IDENTITY, 33, 100, 2, 0.25f, true}, /* one rank's share (MPI) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_step(&cases[i]);
}

Test(split, rule)
{
    const nb_layer_spec w2[] = {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0},
                                {10, NB_ACT_IDENTITY, 0}};
    const nb_layer_spec w1[] = {{16, NB_ACT_RELU, 0}, {8, NB_ACT_RELU, 0}, {3, NB_ACT_SIGMOID, 0}};
    const nb_layer_spec w3[] = {{1024, NB_ACT_RELU, 0}, {1024, NB_ACT_RELU, 0},
                                {10, NB_ACT_IDENTITY, 0}};
    nb_net *a = tc_net(64, w2, 3, 1), *b = tc_net(4, w1, 3, 1), *c = tc_net(784, w3, 3, 1);
    cr_assert_eq(nb_set_threads(2), NB_OK);
    cr_assert_eq(nb__split_parts(a, 128), 2, "W2's network at batch 128 splits");
    cr_assert_eq(nb__split_parts(a, 64), 1, "W2 at batch 64: halves too small to pay");
    cr_assert_eq(nb__split_parts(a, 1), 1);
    cr_assert_eq(nb__split_parts(b, 32), 1, "W1 is too small to pay for a second thread");
    cr_assert_eq(nb__split_parts(c, 256), 1, "W3's products take BLAS threads instead");
    nb__split_policy(NB_SPLIT_OFF);
    cr_assert_eq(nb__split_parts(a, 128), 1);
    nb__split_policy(NB_SPLIT_ALWAYS);
    cr_assert_eq(nb__split_parts(a, 64), 2);
    nb__split_policy(NB_SPLIT_AUTO);
    cr_assert_eq(nb_set_threads(1), NB_OK);
    cr_assert_eq(nb__split_parts(a, 128), 1, "one thread never splits");
    nb_net_free(a);
    nb_net_free(b);
    nb_net_free(c);
}

/* W2's network on random data at batch 128 (where the rule splits it), shuffled, dropout on
   the first layer. */
static void train_w2(float *out, int threads, size_t epochs)
{
    enum { ROWS = 640, IN = 64, OUT = 10 };
    float *x = malloc(ROWS * IN * sizeof *x), *t = malloc(ROWS * OUT * sizeof *t);
    cr_assert(x && t);
    nb_rng r;
    nb_rng_seed(&r, 21);
    tc_fill_uniform(&r, x, ROWS * IN, 0, 1);
    for (size_t i = 0; i < ROWS * OUT; i++)
        t[i] = (float)(i % OUT == (i / OUT) % OUT);
    const nb_layer_spec layers[] = {{128, NB_ACT_RELU, 0.1f}, {64, NB_ACT_RELU, 0},
                                    {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(IN, layers, 3, 8);
    cr_assert_eq(nb_set_threads(threads), NB_OK);
    cr_assert_eq(nb__split_parts(net, 128), threads, "the rule splits over %d threads", threads);
    nb_tensor X = nb_tensor_view(x, ROWS, IN), T = nb_tensor_view(t, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.batch_size = 128;
    o.epochs = epochs;
    o.lr = 0.05f;
    o.seed = 12;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    memcpy(out, nb_net_params(net), nb_net_num_params(net) * sizeof(float));
    nb_net_free(net);
    free(x);
    free(t);
}

enum { W2_PARAMS = 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10 };

Test(split, two_thread_runs_identical)
{
    static float a[W2_PARAMS], b[W2_PARAMS];
    train_w2(a, 2, 8);
    train_w2(b, 2, 8);
    cr_assert(memcmp(a, b, sizeof a) == 0, "two 2-thread runs gave different parameters");
}

/* Two threads sum each gradient in another order than one: after 8 epochs (40 steps) the
   parameters agree within 1e-5 of their largest magnitude (measured: about 1e-7). */
Test(split, two_threads_near_one)
{
    static float a[W2_PARAMS], b[W2_PARAMS];
    train_w2(a, 1, 8);
    train_w2(b, 2, 8);
    double e = rel_err(b, a, W2_PARAMS);
    cr_log_info("2 vs 1 thread after 40 steps: %.3g relative", e);
    cr_assert(e <= 1e-5, "2 vs 1 thread: %.3g relative", e);
}

/* Optimizer updates of large buffers run as ranges on the pool: element-wise, so the bits are
   those of one pass, for every kind (and the FTZ/DAZ setting reaches the workers). */
Test(split, optimizer_ranges_identical)
{
    size_t n = NB_OPTIM_SPLIT_MIN + 1000; /* not a multiple of the ranges' blocks */
    const nb_optim_kind kinds[] = {NB_OPTIM_SGD, NB_OPTIM_ADAM, NB_OPTIM_ADAMW, NB_OPTIM_RMSPROP};
    float *p[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
    float *g = malloc(n * sizeof(float));
    cr_assert(p[0] && p[1] && g);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        nb_optim_opts o = nb_optim_opts_default(kinds[i]);
        o.momentum = kinds[i] == NB_OPTIM_ADAM || kinds[i] == NB_OPTIM_ADAMW ? 0.0 : 0.9;
        o.weight_decay = 0.01;
        o.centered = kinds[i] == NB_OPTIM_RMSPROP;
        nb_optim *opt[2];
        nb_rng r;
        nb_rng_seed(&r, 31);
        tc_fill_uniform(&r, p[0], n, -1, 1);
        memcpy(p[1], p[0], n * sizeof(float));
        for (int v = 0; v < 2; v++)
            cr_assert_eq(nb_optim_create(&opt[v], n, &o), NB_OK);
        for (int step = 0; step < 3; step++) {
            tc_fill_uniform(&r, g, n, -1, 1);
            g[5] = g[n - 5] = 1e-39f; /* denormals, in both halves: flushed on every thread */
            for (int v = 0; v < 2; v++) {
                cr_assert_eq(nb_set_threads(v ? 2 : 1), NB_OK);
                cr_assert_eq(nb_optim_step(opt[v], p[v], g), NB_OK);
            }
        }
        cr_assert(memcmp(p[0], p[1], n * sizeof(float)) == 0, "optimizer %d: 2 threads differ",
                  (int)kinds[i]);
        for (size_t j = 0; j < nb_optim_state_count(opt[0]); j++) /* moments: where FTZ shows */
            cr_assert(memcmp(nb_optim_state(opt[0], j), nb_optim_state(opt[1], j),
                             n * sizeof(float)) == 0, "optimizer %d: state %zu differs",
                      (int)kinds[i], j);
        for (int v = 0; v < 2; v++)
            nb_optim_free(opt[v]);
    }
    free(p[0]);
    free(p[1]);
    free(g);
}

/* The per-layer hook (MPI's overlap of sends with backward) on a split step: every layer once,
   last first, with the summed gradients (the same floats the step hook then receives). */
typedef struct layer_log {
    size_t calls, order[8], count[8];
    const float *at[8];
    float first[8];
} layer_log;

static void log_layer(void *ctx, float *grads, size_t count, size_t local, size_t global)
{
    (void)local, (void)global;
    layer_log *lg = ctx;
    if (lg->calls < 8) {
        lg->at[lg->calls] = grads;
        lg->count[lg->calls] = count;
        lg->first[lg->calls] = grads[0];
    }
    lg->calls++;
}

static nb_status log_hook(void *ctx, float *grads, size_t n, size_t local, size_t global,
                          double *loss)
{
    (void)ctx, (void)grads, (void)n, (void)local, (void)global, (void)loss;
    return NB_OK;
}

Test(split, layer_hook_after_sum)
{
    enum { IN = 16, ROWS = 40 };
    const nb_layer_spec layers[] = {{32, NB_ACT_RELU, 0}, {12, NB_ACT_TANH, 0},
                                    {3, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(IN, layers, 3, 4);
    size_t np = nb_net_num_params(net);
    float x[ROWS * IN], t[ROWS * 3], *g = malloc(np * sizeof(float));
    cr_assert(g);
    nb_rng r;
    nb_rng_seed(&r, 8);
    tc_fill_uniform(&r, x, ROWS * IN, -1, 1);
    tc_fill_uniform(&r, t, ROWS * 3, -1, 1);
    cr_assert_eq(nb_set_threads(2), NB_OK);
    nb__split_policy(NB_SPLIT_ALWAYS);
    cr_assert_eq(nb__net_prepare(net, ROWS), NB_OK);
    layer_log lg = {0};
    capture cap = {g};
    nb__step_hooks hooks = {log_hook, log_layer, &lg};
    nb__step_cfg cfg = {NB_LOSS_MSE, false, keep_grads, &cap, &hooks};
    nb__step_at at = {0.1, {false, 0, 0}};
    double loss;
    cr_assert_eq(nb__train_step(net, &cfg, &at, x, t, ROWS, 2 * ROWS, &loss), NB_OK);
    nb__split_policy(NB_SPLIT_AUTO);
    cr_assert_eq(lg.calls, 3);
    for (size_t i = 0; i < 3; i++) {
        size_t l = 2 - i; /* last layer first */
        nb_tensor W, b;
        cr_assert_eq(nb_net_layer_grads(net, l, &W, &b), NB_OK);
        cr_assert_eq(lg.at[i], W.data, "call %zu is not layer %zu", i, l);
        cr_assert_eq(lg.count[i], W.rows * W.cols + b.cols);
        cr_assert_eq(lg.first[i], g[W.data - nb_net_grads(net)], "layer %zu: not the sum", l);
    }
    free(g);
    nb_net_free(net);
}
