/* The training loop with an optimizer, a schedule and clipping (nb_train_opts.optim, .schedule,
   .clip_norm): nb_net_train gives, bit for bit, what a hand-written loop of forward, backward,
   nb_clip_grad_norm, nb_schedule_lr, nb_optim_set_lr and nb_optim_step gives; the fused plain
   SGD path follows its schedule; the trainer keeps its optimizer between runs; bad options are
   refused before anything changes; a non-finite gradient stops training with finite
   parameters. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nablas.h"

enum { ROWS = 96, IN = 5, OUT = 3, BATCH = 16, EPOCHS = 4 };

static float X[ROWS * IN], T[ROWS * OUT];
static const nb_layer_spec LAYERS[] = {{9, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};

static void data(void)
{
    nb_rng r;
    nb_rng_seed(&r, 5);
    for (size_t i = 0; i < ROWS * IN; i++)
        X[i] = (float)(2.0 * nb_rng_uniform(&r) - 1.0);
    for (size_t i = 0; i < ROWS; i++)
        for (size_t j = 0; j < OUT; j++)
            T[i * OUT + j] = 3.0f * X[i * IN + j] * X[i * IN + j + 1] + (float)j;
}

static nb_net *make_net(void)
{
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, LAYERS, 2, 11), NB_OK);
    return net;
}

static nb_train_opts base_opts(void)
{
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = BATCH;
    o.epochs = EPOCHS;
    o.shuffle = false;
    return o;
}

/* The loop by hand, sequential batches. */
static void by_hand(nb_net *net, const nb_optim_opts *oo, const nb_schedule *s, double clip)
{
    nb_optim *opt;
    cr_assert_eq(nb_optim_create(&opt, nb_net_num_params(net), oo), NB_OK);
    nb_schedule sched;
    if (s) {
        sched = *s;
        sched.base_lr = oo->lr;
        if (!sched.total_steps)
            sched.total_steps = EPOCHS * (ROWS / BATCH);
    }
    uint64_t t = 0;
    for (size_t e = 0; e < EPOCHS; e++)
        for (size_t at = 0; at < ROWS; at += BATCH, t++) {
            nb_tensor x = nb_tensor_view(X + at * IN, BATCH, IN);
            nb_tensor y = nb_tensor_view(T + at * OUT, BATCH, OUT);
            cr_assert_eq(nb_net_forward(net, &x, NULL), NB_OK);
            cr_assert_eq(nb_net_backward(net, NB_LOSS_MSE, &y, NULL), NB_OK);
            if (clip > 0)
                cr_assert_eq(nb_clip_grad_norm(nb_net_grads(net), nb_net_num_params(net), clip,
                                               NULL), NB_OK);
            cr_assert_eq(nb_optim_set_lr(opt, s ? nb_schedule_lr(&sched, t) : oo->lr), NB_OK);
            cr_assert_eq(nb_optim_step(opt, nb_net_params(net), nb_net_grads(net)), NB_OK);
        }
    nb_optim_free(opt);
}

static void same_params(nb_net *a, nb_net *b, const char *what)
{
    size_t n = nb_net_num_params(a);
    cr_expect(memcmp(nb_net_params(a), nb_net_params(b), n * sizeof(float)) == 0,
              "%s: nb_net_train differs from the loop by hand", what);
}

Test(optim_train, net_train_is_the_loop_by_hand, .init = data)
{
    nb_optim_kind kinds[] = {NB_OPTIM_SGD, NB_OPTIM_ADAM, NB_OPTIM_ADAMW, NB_OPTIM_RMSPROP};
    nb_schedule_kind sk[] = {NB_SCHED_COSINE, NB_SCHED_ONECYCLE, NB_SCHED_STEP, NB_SCHED_LINEAR};
    for (size_t k = 0; k < 4; k++)
        for (int variant = 0; variant < 3; variant++) {
            nb_optim_opts oo = nb_optim_opts_default(kinds[k]);
            if (kinds[k] == NB_OPTIM_SGD)
                oo.momentum = 0.9;
            nb_schedule s = nb_schedule_default(sk[k]);
            s.warmup_steps = sk[k] == NB_SCHED_ONECYCLE ? 0 : 5;
            const nb_schedule *sp = variant >= 1 ? &s : NULL;
            double clip = variant == 2 ? 0.5 : 0.0;
            nb_net *a = make_net(), *b = make_net();
            nb_train_opts o = base_opts();
            o.optim = &oo;
            o.schedule = sp;
            o.clip_norm = clip;
            nb_train_report rep;
            cr_assert_eq(nb_net_train(a, &(nb_tensor){ROWS, IN, X, NULL}, &(nb_tensor){ROWS, OUT, T, NULL},
                                      &o, &rep), NB_OK);
            cr_expect_eq(rep.steps, EPOCHS * (ROWS / BATCH));
            by_hand(b, &oo, sp, clip);
            char what[64];
            snprintf(what, sizeof what, "kind %d variant %d", (int)kinds[k], variant);
            same_params(a, b, what);
            nb_net_free(a);
            nb_net_free(b);
        }
}

/* Plain SGD with a schedule stays on the fused path: nb_net_train_step at each step's rate. */
Test(optim_train, fused_sgd_follows_the_schedule, .init = data)
{
    nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
    s.warmup_steps = 3;
    s.eta_min = 1e-3;
    nb_net *a = make_net(), *b = make_net();
    nb_train_opts o = base_opts();
    o.lr = 0.2f;
    o.schedule = &s;
    cr_assert_eq(nb_net_train(a, &(nb_tensor){ROWS, IN, X, NULL}, &(nb_tensor){ROWS, OUT, T, NULL}, &o, NULL),
                 NB_OK);
    nb_schedule full = s;
    full.base_lr = (double)0.2f;
    full.total_steps = EPOCHS * (ROWS / BATCH);
    uint64_t t = 0;
    for (size_t e = 0; e < EPOCHS; e++)
        for (size_t at = 0; at < ROWS; at += BATCH, t++) {
            nb_tensor x = nb_tensor_view(X + at * IN, BATCH, IN);
            nb_tensor y = nb_tensor_view(T + at * OUT, BATCH, OUT);
            cr_assert_eq(nb_net_train_step(b, &x, &y, NB_LOSS_MSE,
                                           (float)nb_schedule_lr(&full, t), NULL), NB_OK);
        }
    same_params(a, b, "fused SGD with a cosine schedule");
    nb_net_free(a);
    nb_net_free(b);
}

/* An optimizer that is plain SGD is the run given none, at its rate in float: the trainer
   itself takes the fused step (with and without a schedule, and with clipping through the
   gradient), needs no optimizer object, and records the same run (a resume accepts either). */
Test(optim_train, plain_sgd_optimizer_is_the_fused_step, .init = data)
{
    nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
    s.warmup_steps = 3;
    nb_optim_opts sgd = nb_optim_opts_default(NB_OPTIM_SGD);
    sgd.lr = 0.2;
    sgd.dampening = 0.5; /* acts on momentum only: still plain SGD */
    nb_tensor Xt = {ROWS, IN, X, NULL}, Tt = {ROWS, OUT, T, NULL};
    for (int variant = 0; variant < 3; variant++) {
        nb_net *a = make_net(), *b = make_net();
        nb_train_opts o = base_opts();
        o.schedule = variant == 1 ? &s : NULL;
        o.clip_norm = variant == 2 ? 0.5 : 0.0;
        o.optim = &sgd;
        cr_assert_eq(nb_net_train(a, &Xt, &Tt, &o, NULL), NB_OK);
        o.optim = NULL;
        o.lr = 0.2f;
        cr_assert_eq(nb_net_train(b, &Xt, &Tt, &o, NULL), NB_OK);
        char what[64];
        snprintf(what, sizeof what, "plain SGD optimizer, variant %d", variant);
        same_params(a, b, what);
        nb_net_free(a);
        nb_net_free(b);
    }
    nb_net *net = make_net();
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_train_opts o = base_opts();
    o.optim = &sgd;
    nb_optim *opt = NULL;
    cr_assert_eq(nb_trainer_optim(tr, &o, &opt), NB_OK);
    cr_expect_null(opt, "plain SGD needs no optimizer object");
    o.epochs = 2;
    cr_assert_eq(nb_trainer_run(tr, &Xt, &Tt, &o, NULL), NB_OK);
    nb_train_opts again = base_opts(); /* the same run given no optimizer continues it */
    again.lr = 0.2f;
    again.resume = true;
    cr_expect_eq(nb_trainer_run(tr, &Xt, &Tt, &again, NULL), NB_OK);
    sgd.momentum = 0.5; /* no longer plain: another run, refused as a resume */
    o.resume = true;
    o.epochs = EPOCHS;
    cr_expect_eq(nb_trainer_run(tr, &Xt, &Tt, &o, NULL), NB_ERR_ARG);
    sgd.momentum = 0.0;
    sgd.dampening = 2.0; /* out of range: refused, not taken for plain SGD */
    o.resume = false;
    cr_expect_eq(nb_trainer_run(tr, &Xt, &Tt, &o, NULL), NB_ERR_ARG);
    nb_trainer_free(tr);
    nb_net_free(net);
}

/* Clipping alone takes plain SGD through the gradient buffer: the same as clip + SGD step. */
Test(optim_train, clipping_plain_sgd, .init = data)
{
    nb_net *a = make_net(), *b = make_net();
    nb_train_opts o = base_opts();
    o.lr = 0.1f;
    o.clip_norm = 0.25;
    cr_assert_eq(nb_net_train(a, &(nb_tensor){ROWS, IN, X, NULL}, &(nb_tensor){ROWS, OUT, T, NULL}, &o, NULL),
                 NB_OK);
    nb_optim_opts sgd = nb_optim_opts_default(NB_OPTIM_SGD);
    sgd.lr = (double)0.1f;
    by_hand(b, &sgd, NULL, 0.25);
    same_params(a, b, "clipped plain SGD");
    nb_net_free(a);
    nb_net_free(b);
}

/* The trainer keeps its optimizer: two runs of 2 epochs are one run of 4. */
Test(optim_train, trainer_keeps_its_optimizer, .init = data)
{
    nb_optim_opts oo = nb_optim_opts_default(NB_OPTIM_ADAM);
    nb_net *a = make_net(), *b = make_net();
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, a), NB_OK);
    nb_train_opts o = base_opts();
    o.optim = &oo;
    nb_optim *opt = NULL;
    cr_assert_eq(nb_trainer_optim(tr, &o, &opt), NB_OK);
    cr_assert_not_null(opt);
    o.epochs = 2;
    nb_tensor Xt = {ROWS, IN, X, NULL}, Tt = {ROWS, OUT, T, NULL};
    cr_assert_eq(nb_trainer_run(tr, &Xt, &Tt, &o, NULL), NB_OK);
    nb_optim *again;
    cr_assert_eq(nb_trainer_optim(tr, &o, &again), NB_OK);
    cr_expect_eq(again, opt);
    cr_expect_eq(nb_optim_steps(opt), 2 * ROWS / BATCH);
    cr_assert_eq(nb_trainer_run(tr, &Xt, &Tt, &o, NULL), NB_OK);
    by_hand(b, &oo, NULL, 0.0);
    same_params(a, b, "2 + 2 epochs");
    /* other options (lr aside) make a new optimizer; plain SGD needs none */
    nb_optim_opts other = oo;
    other.lr = 0.5;
    o.optim = &other;
    cr_assert_eq(nb_trainer_optim(tr, &o, &again), NB_OK);
    cr_expect_eq(again, opt);
    cr_expect_eq(nb_optim_lr(opt), 0.5);
    other.amsgrad = true;
    cr_assert_eq(nb_trainer_optim(tr, &o, &again), NB_OK);
    cr_expect_eq(nb_optim_state_count(again), 3);
    cr_expect_eq(nb_optim_steps(again), 0);
    o.optim = NULL;
    cr_assert_eq(nb_trainer_optim(tr, &o, &again), NB_OK);
    cr_expect_null(again);
    cr_expect_eq(nb_trainer_optim(NULL, &o, &again), NB_ERR_NULL);
    cr_expect_eq(nb_trainer_optim(tr, NULL, &again), NB_ERR_NULL);
    cr_expect_eq(nb_trainer_optim(tr, &o, NULL), NB_ERR_NULL);
    nb_trainer_free(tr);
    nb_net_free(a);
    nb_net_free(b);
}

Test(optim_train, bad_options_change_nothing, .init = data)
{
    nb_net *net = make_net();
    size_t n = nb_net_num_params(net);
    float keep[512];
    cr_assert(n <= 512);
    memcpy(keep, nb_net_params(net), n * sizeof(float));
    nb_tensor Xt = {ROWS, IN, X, NULL}, Tt = {ROWS, OUT, T, NULL};
    nb_optim_opts bad = nb_optim_opts_default(NB_OPTIM_ADAM);
    bad.beta1 = 1.0;
    nb_train_opts o = base_opts();
    o.optim = &bad;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_ARG);
    o = base_opts();
    o.clip_norm = -1.0;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_ARG);
    o.clip_norm = NAN;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_ARG);
    o = base_opts();
    nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
    s.warmup_steps = EPOCHS * (ROWS / BATCH); /* nothing left after the warm-up */
    o.schedule = &s;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_ARG);
    s = nb_schedule_default(NB_SCHED_STEP);
    s.step_size = 0;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_ARG);
    cr_expect(memcmp(keep, nb_net_params(net), n * sizeof(float)) == 0);
    nb_net_free(net);
}

/* Adam on targets that overflow: training stops with NB_ERR_NONFINITE, parameters finite. */
Test(optim_train, nonfinite_stops_with_finite_params, .init = data)
{
    nb_net *net = make_net();
    static float Tbad[ROWS * OUT];
    memcpy(Tbad, T, sizeof Tbad);
    Tbad[(ROWS / 2) * OUT] = INFINITY;
    nb_optim_opts oo = nb_optim_opts_default(NB_OPTIM_ADAM);
    nb_train_opts o = base_opts();
    o.optim = &oo;
    o.clip_norm = 1.0;
    nb_train_report rep;
    cr_expect_eq(nb_net_train(net, &(nb_tensor){ROWS, IN, X, NULL}, &(nb_tensor){ROWS, OUT, Tbad, NULL}, &o,
                              &rep), NB_ERR_NONFINITE);
    cr_expect_eq(rep.steps, ROWS / 2 / BATCH);
    const float *p = nb_net_params(net);
    for (size_t i = 0; i < nb_net_num_params(net); i++)
        cr_assert(isfinite(p[i]));
    nb_net_free(net);
}

/* Adam trains an unscaled regression on which plain SGD at the same rate diverges. */
Test(optim_train, adam_trains_where_sgd_diverges, .init = data)
{
    static float Tbig[ROWS];
    for (size_t i = 0; i < ROWS; i++)
        Tbig[i] = 500.0f * X[i * IN] - 300.0f * X[i * IN + 1] + 800.0f;
    nb_layer_spec L[] = {{16, NB_ACT_IDENTITY, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *a, *b;
    cr_assert_eq(nb_net_create(&a, IN, L, 2, 3), NB_OK);
    cr_assert_eq(nb_net_create(&b, IN, L, 2, 3), NB_OK);
    nb_tensor Xt = {ROWS, IN, X, NULL}, Tt = {ROWS, 1, Tbig, NULL};
    nb_train_opts o = base_opts();
    o.epochs = 500;
    o.lr = 0.1f;
    nb_train_report ra, rb;
    nb_status sa = nb_net_train(a, &Xt, &Tt, &o, &ra);
    nb_optim_opts adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    adam.lr = 0.1;
    o.optim = &adam;
    cr_assert_eq(nb_net_train(b, &Xt, &Tt, &o, &rb), NB_OK);
    cr_expect(sa == NB_ERR_NONFINITE || !(ra.last_loss < 1e4), "plain SGD: %s, loss %g",
              nb_status_str(sa), ra.last_loss);
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(b, &Xt, &Tt, NB_LOSS_MSE, &ev), NB_OK);
    cr_expect_lt(ev.loss, 1.0, "Adam: loss %g (target variance about 1e5)", ev.loss);
    nb_net_free(a);
    nb_net_free(b);
}
