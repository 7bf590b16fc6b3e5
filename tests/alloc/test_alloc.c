/* No heap allocation in steady-state training and prediction: after a warm-up epoch (which
   lets nablas size its workspace and OpenBLAS create its buffers and threads), a whole epoch
   of nb_net_train_step, and whole nb_net_train calls, allocate nothing.  With one BLAS thread
   nothing at all allocates; with two, OpenBLAS's threaded sgemm driver mallocs a small job
   array per call (OpenBLAS 0.3.21, level3_thread.c), so there the test requires zero
   allocations from any caller other than OpenBLAS.  Criterion assertions allocate, so counts
   are taken first and asserted after counting stops. */
#include <criterion/criterion.h>

#include "alloc_count.h"
#include "nablas.h"

typedef struct case_def {
    const char *name;
    size_t inputs, rows, batch, n_layers;
    nb_layer_spec layers[3];
    nb_loss loss;
} case_def;

/* The workloads' shapes (W3 narrowed to keep the test quick; it still takes the BLAS path). */
static const case_def cases[] = {
    {"tiny", 4, 512, 32, 3, {{16, NB_ACT_RELU, 0}, {8, NB_ACT_RELU, 0}, {3, NB_ACT_SIGMOID, 0}}, NB_LOSS_MSE},
    {"mid", 64, 300, 64, 3, {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}},
     NB_LOSS_SOFTMAX_CE},
    {"wide", 256, 1024, 256, 3, {{512, NB_ACT_RELU, 0}, {256, NB_ACT_TANH, 0}, {10, NB_ACT_IDENTITY, 0}},
     NB_LOSS_SOFTMAX_CE},
    {"house", 4, 1000, 1000, 3, {{8, NB_ACT_IDENTITY, 0}, {4, NB_ACT_IDENTITY, 0}, {1, NB_ACT_IDENTITY, 0}},
     NB_LOSS_MSE},
    /* W2's network at batch 256, with dropout: at two threads the step splits its batch over
       nablas' thread pool (per-part workspaces and gradient buffers, made before the first
       step; the last batch of 160 rows splits too; tests/unit/test_split.c checks the rule) */
    {"mid-split", 64, 1184, 256, 3, {{128, NB_ACT_RELU, 0.2f}, {64, NB_ACT_RELU, 0},
     {10, NB_ACT_IDENTITY, 0}}, NB_LOSS_SOFTMAX_CE},
    /* activations whose pre-activations the network keeps (its pre buffer, made with the
       workspace), also split */
    {"tiny-keep-z", 4, 512, 32, 3, {{16, NB_ACT_GELU_TANH, 0}, {8, NB_ACT_ELU, 0},
     {3, NB_ACT_SOFTPLUS, 0}}, NB_LOSS_MSE},
    {"mid-split-keep-z", 64, 1184, 256, 3, {{128, NB_ACT_GELU, 0.2f}, {64, NB_ACT_SILU, 0},
     {10, NB_ACT_IDENTITY, 0}}, NB_LOSS_SOFTMAX_CE},
};

typedef struct data {
    nb_net *net;
    nb_tensor X, T;
} data;

static data make(const case_def *c)
{
    data d;
    cr_assert_eq(nb_net_create(&d.net, c->inputs, c->layers, c->n_layers, 7), NB_OK);
    size_t out = c->layers[c->n_layers - 1].units;
    cr_assert_eq(nb_tensor_alloc(&d.X, c->rows, c->inputs), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&d.T, c->rows, out), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, 3);
    for (size_t i = 0; i < c->rows * c->inputs; i++)
        d.X.data[i] = (float)nb_rng_uniform(&r);
    for (size_t i = 0; i < c->rows; i++)
        for (size_t j = 0; j < out; j++)
            d.T.data[i * out + j] = c->loss == NB_LOSS_MSE ? (float)nb_rng_uniform(&r)
                                                           : (float)(j == i % out);
    return d;
}

static void drop(data *d)
{
    nb_net_free(d->net);
    nb_tensor_free(&d->X);
    nb_tensor_free(&d->T);
}

/* One epoch of train_step over the rows, the last batch partial when rows % batch != 0. */
static nb_status epoch(data *d, const case_def *c)
{
    for (size_t s = 0; s < c->rows; s += c->batch) {
        size_t n = c->rows - s < c->batch ? c->rows - s : c->batch;
        nb_tensor x = nb_tensor_rows(&d->X, s, n), t = nb_tensor_rows(&d->T, s, n);
        float loss;
        nb_status st = nb_net_train_step(d->net, &x, &t, c->loss, 0.01f, &loss);
        if (st != NB_OK)
            return st;
    }
    return NB_OK;
}

static void check_train_step(int threads)
{
    cr_assert_eq(nb_set_threads(threads), NB_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_def *c = &cases[i];
        data d = make(c);
        cr_assert_eq(epoch(&d, c), NB_OK); /* warm-up */
        alloc_count_start();
        nb_status st = epoch(&d, c);
        size_t n = alloc_count_stop(), blas = alloc_count_blas();
        cr_assert_eq(st, NB_OK);
        if (threads > 1)
            n -= blas;
        cr_expect_eq(n, 0, "%s, %d BLAS thread(s): %zu allocations in a steady-state epoch "
                     "(%zu more by OpenBLAS)", c->name, threads, n, blas);
        drop(&d);
    }
}

Test(alloc, train_step_one_thread) { check_train_step(1); }
Test(alloc, train_step_two_threads)
{
    if (!alloc_count_knows_callers())
        cr_skip_test("sanitizer build: OpenBLAS's own allocations cannot be told apart");
    check_train_step(2);
}

/* A trainer (nb_trainer_run), after a warm-up run of the same size, allocates nothing, with
   or without shuffling (its buffers stay with the trainer).  nb_net_train, which makes a
   trainer for the call, allocates before its first step only: nothing from the end of its
   first epoch on.  Two BLAS threads: OpenBLAS's own per-call allocations are not counted
   (see above). */
static nb_train_opts train_opts(const case_def *c, bool shuffle, size_t epochs)
{
    nb_train_opts o = nb_train_opts_default();
    o.loss = c->loss;
    o.batch_size = c->batch;
    o.lr = 0.01f;
    o.shuffle = shuffle;
    o.epochs = epochs;
    return o;
}

static size_t count_train(nb_trainer *tr, data *d, const case_def *c, bool shuffle,
                          size_t epochs, nb_status *st)
{
    nb_train_opts o = train_opts(c, shuffle, epochs);
    alloc_count_start();
    *st = nb_trainer_run(tr, &d->X, &d->T, &o, NULL);
    return alloc_count_stop() - alloc_count_blas();
}

Test(alloc, trainer_run)
{
    cr_assert_eq(nb_set_threads(alloc_count_knows_callers() ? 2 : 1), NB_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_def *c = &cases[i];
        data d = make(c);
        nb_trainer *tr;
        cr_assert_eq(nb_trainer_create(&tr, d.net), NB_OK);
        nb_status s1, s2, s3, s4;
        count_train(tr, &d, c, true, 1, &s1); /* warm-up */
        size_t plain = count_train(tr, &d, c, false, 2, &s2);
        size_t one = count_train(tr, &d, c, true, 1, &s3);
        size_t three = count_train(tr, &d, c, true, 3, &s4);
        cr_assert(s1 == NB_OK && s2 == NB_OK && s3 == NB_OK && s4 == NB_OK);
        cr_expect_eq(plain, 0, "%s: %zu allocations in nb_trainer_run without shuffling",
                     c->name, plain);
        cr_expect_eq(one + three, 0, "%s: %zu allocations in nb_trainer_run with shuffling "
                     "(1 epoch), %zu (3 epochs)", c->name, one, three);
        nb_trainer_free(tr);
        drop(&d);
    }
}

/* Counting starts when the first epoch ends: what nb_net_train allocates after that. */
static int start_counting(const nb_epoch_info *info, void *user)
{
    (void)user;
    if (info->epoch == 1)
        alloc_count_start();
    return 0;
}

Test(alloc, net_train)
{
    cr_assert_eq(nb_set_threads(alloc_count_knows_callers() ? 2 : 1), NB_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_def *c = &cases[i];
        data d = make(c);
        size_t counts[2];
        nb_status st[2];
        for (int shuffle = 0; shuffle < 2; shuffle++) {
            nb_train_opts o = train_opts(c, shuffle, 3);
            o.on_epoch = start_counting;
            st[shuffle] = nb_net_train(d.net, &d.X, &d.T, &o, NULL);
            counts[shuffle] = alloc_count_stop();
            counts[shuffle] -= alloc_count_blas();
        }
        cr_assert(st[0] == NB_OK && st[1] == NB_OK);
        /* the trainer's own frees come after the last epoch; frees are not counted */
        cr_expect_eq(counts[0] + counts[1], 0, "%s: nb_net_train allocated after its first "
                     "epoch: %zu (no shuffling), %zu (shuffling)", c->name, counts[0], counts[1]);
        drop(&d);
    }
}

/* nb_net_clone makes five blocks for an fp32 network (the network, its layers, the layers'
   activation offsets, parameters, gradients) and no workspace; the copy, once warmed up, trains
   a steady-state epoch without allocating, as the original does.  One BLAS thread. */
Test(alloc, net_clone)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_def *c = &cases[i];
        data d = make(c);
        nb_net *copy = NULL;
        alloc_count_start();
        nb_status st = nb_net_clone(&copy, d.net);
        size_t n = alloc_count_stop();
        cr_assert_eq(st, NB_OK);
        cr_expect_eq(n, 5, "%s: %zu allocations in nb_net_clone", c->name, n);
        nb_net *orig = d.net;
        d.net = copy;
        cr_assert_eq(epoch(&d, c), NB_OK); /* warm-up: the copy's workspace */
        alloc_count_start();
        st = epoch(&d, c);
        n = alloc_count_stop();
        cr_assert_eq(st, NB_OK);
        cr_expect_eq(n, 0, "%s: %zu allocations in a steady-state epoch of the copy", c->name, n);
        nb_net_free(orig);
        drop(&d);
    }
}

/* Prediction allocates nothing once its workspace exists: nb_infer_predict after
   nb_infer_ctx_create (inputs of any row count, processed in chunks of max_batch), and
   nb_net_predict after nb_net_reserve.  One BLAS thread: nothing of OpenBLAS's to discount. */
Test(alloc, prediction)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_def *c = &cases[i];
        data d = make(c);
        nb_tensor Y;
        cr_assert_eq(nb_tensor_alloc(&Y, c->rows, nb_net_outputs(d.net)), NB_OK);
        nb_infer_ctx *ctx;
        cr_assert_eq(nb_infer_ctx_create(&ctx, d.net, NULL, c->batch), NB_OK);
        cr_assert_eq(nb_net_reserve(d.net, c->batch), NB_OK);
        nb_tensor part = nb_tensor_rows(&d.X, 0, c->batch - 1);
        nb_tensor Yp = nb_tensor_rows(&Y, 0, c->batch - 1);
        alloc_count_start();
        nb_status s1 = nb_infer_predict(ctx, &d.X, &Y);  /* all rows, in chunks */
        nb_status s2 = nb_infer_predict(ctx, &part, &Yp); /* a short batch */
        size_t infer = alloc_count_stop();
        alloc_count_start();
        nb_status s3 = nb_net_predict(d.net, &d.X, &Y);
        size_t predict = alloc_count_stop();
        cr_assert(s1 == NB_OK && s2 == NB_OK && s3 == NB_OK);
        cr_expect_eq(infer, 0, "%s: %zu allocations in nb_infer_predict", c->name, infer);
        cr_expect_eq(predict, 0, "%s: %zu allocations in nb_net_predict", c->name, predict);
        nb_infer_ctx_free(ctx);
        nb_tensor_free(&Y);
        drop(&d);
    }
}

/* bf16 training products (nablas/precision.h): after a warm-up run (which creates oneDNN's
   primitives for both batch sizes and sizes its scratchpad, both owned by nablas), a trainer
   run allocates nothing but what oneDNN 2.6's dnnl_primitive_execute allocates itself in every
   call (its argument map, through C++'s operator new: nablas, in C, never calls it).  One
   thread; skipped where bf16 cannot run or callers are unknown (sanitizer builds). */
Test(alloc, trainer_run_bf16)
{
    if (nb_precision_available(NB_PRECISION_BF16) != NB_OK)
        cr_skip_test("bf16 not available here");
    if (!alloc_count_knows_callers())
        cr_skip_test("sanitizer build: oneDNN's own allocations cannot be told apart");
    cr_assert_eq(nb_set_threads(1), NB_OK);
    for (size_t i = 1; i < 3; i++) { /* mid and wide */
        const case_def *c = &cases[i];
        data d = make(c);
        cr_assert_eq(nb_net_set_precision(d.net, NB_PRECISION_BF16), NB_OK);
        nb_trainer *tr;
        cr_assert_eq(nb_trainer_create(&tr, d.net), NB_OK);
        nb_status s1, s2;
        count_train(tr, &d, c, true, 1, &s1); /* warm-up */
        size_t n = count_train(tr, &d, c, true, 2, &s2);
        size_t cxx = alloc_count_from("libstdc++") + alloc_count_from("libdnnl");
        cr_assert(s1 == NB_OK && s2 == NB_OK);
        cr_log_info("%s: %zu allocations in a bf16 trainer run, %zu of them oneDNN's", c->name,
                    n, cxx);
        cr_expect_eq(n - cxx, 0, "%s: %zu allocations in a bf16 nb_trainer_run besides oneDNN's",
                     c->name, n - cxx);
        nb_trainer_free(tr);
        drop(&d);
    }
}

/* The stages a host code calls (nb_trainer_begin / _step / _end_epoch / _end) on batches it
   gives: nothing allocates after the first step, with plain SGD and with an optimizer, a
   schedule, clipping and validation rows (whose evaluation workspace begin reserves). */
static size_t count_stages(data *d, const case_def *c, bool with_optim)
{
    nb_optim_opts adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    nb_schedule cos = nb_schedule_default(NB_SCHED_COSINE);
    nb_train_opts o = train_opts(c, false, 2);
    nb_tensor Xv = nb_tensor_rows(&d->X, 0, c->rows / 4), Tv = nb_tensor_rows(&d->T, 0, c->rows / 4);
    if (with_optim) {
        o.optim = &adam;
        o.schedule = &cos;
        o.clip_norm = 1.0;
        o.X_val = &Xv;
        o.T_val = &Tv;
    }
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, d->net), NB_OK);
    cr_assert_eq(nb_trainer_begin(tr, c->rows, &o), NB_OK);
    size_t count = 0;
    nb_status st = NB_OK;
    for (size_t e = 0; e < o.epochs && st == NB_OK; e++) {
        for (size_t s = 0; s < c->rows && st == NB_OK; s += c->batch) {
            size_t n = c->rows - s < c->batch ? c->rows - s : c->batch;
            nb_tensor x = nb_tensor_rows(&d->X, s, n), t = nb_tensor_rows(&d->T, s, n);
            st = nb_trainer_step(tr, &x, &t, NULL);
            if (e == 0 && s == 0)
                alloc_count_start(); /* from the end of the first step on */
        }
        nb_epoch_info info;
        if (st == NB_OK)
            st = nb_trainer_end_epoch(tr, &info, NULL);
    }
    nb_train_report rep;
    nb_status end = nb_trainer_end(tr, &rep);
    count = alloc_count_stop() - alloc_count_blas();
    cr_assert_eq(st, NB_OK, "%s: %s", c->name, nb_status_str(st));
    cr_assert_eq(end, NB_OK);
    nb_trainer_free(tr);
    return count;
}

Test(alloc, trainer_stages)
{
    cr_assert_eq(nb_set_threads(alloc_count_knows_callers() ? 2 : 1), NB_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_def *c = &cases[i];
        data d = make(c);
        size_t plain = count_stages(&d, c, false), optim = count_stages(&d, c, true);
        cr_expect_eq(plain, 0, "%s: %zu allocations in the stages after the first step",
                     c->name, plain);
        cr_expect_eq(optim, 0, "%s: %zu allocations in the stages with an optimizer, a "
                     "schedule, clipping and validation", c->name, optim);
        drop(&d);
    }
}
