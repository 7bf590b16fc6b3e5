/* No heap allocation in any optimizer step, gradient clipping or schedule evaluation: after
   nb_optim_create, every variant's nb_optim_step (the first, which for SGD momentum starts the
   buffer, and the following ones) allocates nothing; nor do the training loop with each
   optimizer and a run resumed from a checkpoint. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "alloc_count.h"
#include "nablas.h"

enum { N = 4099 };

Test(alloc, optimizer_steps_clip_and_schedules)
{
    static float p[N], g[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = (float)i / N - 0.5f;
        g[i] = 0.25f - (float)(i % 7) / 13.0f;
    }
    struct {
        nb_optim_kind kind;
        double momentum;
        bool nesterov, amsgrad, centered;
    } v[] = {
        {NB_OPTIM_SGD, 0.0, false, false, false},     {NB_OPTIM_SGD, 0.9, false, false, false},
        {NB_OPTIM_SGD, 0.9, true, false, false},      {NB_OPTIM_ADAM, 0.0, false, false, false},
        {NB_OPTIM_ADAM, 0.0, false, true, false},     {NB_OPTIM_ADAMW, 0.0, false, false, false},
        {NB_OPTIM_ADAMW, 0.0, false, true, false},    {NB_OPTIM_RMSPROP, 0.0, false, false, false},
        {NB_OPTIM_RMSPROP, 0.9, false, false, true},  {NB_OPTIM_RMSPROP, 0.0, false, false, true},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        nb_optim_opts o = nb_optim_opts_default(v[i].kind);
        o.momentum = v[i].momentum;
        o.nesterov = v[i].nesterov;
        o.amsgrad = v[i].amsgrad;
        o.centered = v[i].centered;
        o.weight_decay = 1e-3;
        nb_optim *opt;
        cr_assert_eq(nb_optim_create(&opt, N, &o), NB_OK);
        alloc_count_start();
        nb_status s1 = nb_optim_step(opt, p, g), s2 = nb_optim_step(opt, p, g);
        nb_status s3 = nb_optim_set_lr(opt, 1e-4), s4 = nb_optim_step(opt, p, g);
        size_t n = alloc_count_stop();
        cr_assert(s1 == NB_OK && s2 == NB_OK && s3 == NB_OK && s4 == NB_OK);
        cr_expect_eq(n, 0, "variant %zu: %zu allocations in three steps", i, n);
        nb_optim_free(opt);
    }
    alloc_count_start();
    double total, lr = 0.0;
    nb_status st = nb_clip_grad_norm(g, N, 0.5, &total);
    for (int k = 0; k < NB_SCHED_KIND_COUNT; k++) {
        nb_schedule s = nb_schedule_default((nb_schedule_kind)k);
        s.total_steps = 100;
        for (uint64_t t = 0; t < 100; t++)
            lr += nb_schedule_lr(&s, t);
    }
    size_t n = alloc_count_stop();
    cr_assert_eq(st, NB_OK);
    cr_assert(lr > 0.0);
    cr_expect_eq(n, 0, "%zu allocations in clipping and schedules", n);
}

/* The training loop with each optimizer (and a schedule and clipping): after a first run,
   which creates the trainer's optimizer, a run with the same options allocates nothing.
   OpenBLAS's own allocations do not count: builds without the vector kernels (clang) send
   these small products to OpenBLAS, which mallocs in some of its calls (once per step here)
   even on one thread. */
Test(alloc, trainer_run_with_each_optimizer)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    enum { ROWS = 300, IN = 12, OUT = 4 };
    static float X[ROWS * IN], T[ROWS * OUT];
    for (size_t i = 0; i < ROWS * IN; i++)
        X[i] = (float)(i % 17) / 17.0f - 0.5f;
    for (size_t i = 0; i < ROWS * OUT; i++)
        T[i] = (float)(i % 5) / 5.0f;
    nb_layer_spec L[] = {{32, NB_ACT_RELU, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, L, 2, 1), NB_OK);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    for (int k = -1; k < NB_OPTIM_KIND_COUNT; k++) {
        nb_optim_opts o = nb_optim_opts_default(k < 0 ? NB_OPTIM_SGD : (nb_optim_kind)k);
        if (k == NB_OPTIM_SGD || k == NB_OPTIM_RMSPROP)
            o.momentum = 0.5;
        nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
        s.warmup_steps = 4;
        nb_train_opts to = nb_train_opts_default();
        to.batch_size = 32;
        to.epochs = 2;
        to.optim = k < 0 ? NULL : &o; /* k = -1: plain SGD, scheduled, on the fused path */
        to.schedule = &s;
        to.clip_norm = k < 0 ? 0.0 : 1.0;
        nb_status s1 = nb_trainer_run(tr, &Xt, &Tt, &to, NULL); /* creates the optimizer */
        alloc_count_start();
        nb_status s2 = nb_trainer_run(tr, &Xt, &Tt, &to, NULL);
        size_t n = alloc_count_stop(), blas = alloc_count_blas();
        cr_assert(s1 == NB_OK && s2 == NB_OK, "%s %s", nb_status_str(s1), nb_status_str(s2));
        cr_expect_eq(n - blas, 0, "optimizer %d: %zu allocations in a run of 2 epochs (and %zu "
                     "by OpenBLAS)", k, n - blas, blas);
    }
    nb_trainer_free(tr);
    nb_net_free(net);
}

/* Dropout: the masks are regenerated, not stored; its buffer is reserved before the
   first step.  Plain SGD (fused) and Adam, a trainer's second run allocates nothing. */
Test(alloc, trainer_run_with_dropout)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    enum { ROWS = 300, IN = 12, OUT = 4 };
    static float X[ROWS * IN], T[ROWS * OUT];
    for (size_t i = 0; i < ROWS * IN; i++)
        X[i] = (float)(i % 13) / 13.0f - 0.5f;
    for (size_t i = 0; i < ROWS * OUT; i++)
        T[i] = (float)(i % 3) / 3.0f;
    nb_layer_spec L[] = {{32, NB_ACT_RELU, 0.3f}, {16, NB_ACT_TANH, 0.1f}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, L, 3, 1), NB_OK);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    nb_optim_opts adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    for (int k = 0; k < 2; k++) {
        nb_train_opts to = nb_train_opts_default();
        to.epochs = 2;
        to.optim = k ? &adam : NULL;
        nb_status s1 = nb_trainer_run(tr, &Xt, &Tt, &to, NULL);
        alloc_count_start();
        nb_status s2 = nb_trainer_run(tr, &Xt, &Tt, &to, NULL);
        size_t n = alloc_count_stop(), blas = alloc_count_blas();
        cr_assert(s1 == NB_OK && s2 == NB_OK, "%s %s", nb_status_str(s1), nb_status_str(s2));
        cr_expect_eq(n - blas, 0, "%s with dropout: %zu allocations (and %zu by OpenBLAS)",
                     k ? "Adam" : "SGD", n - blas, blas);
    }
    nb_trainer_free(tr);
    nb_net_free(net);
}

/* Checkpoints: a run resumed from a checkpoint, in a trainer the loader made,
   allocates nothing after its first epoch (which sizes the loop's buffers), with each
   optimizer, dropout, a schedule, clipping and restore_best on validation rows. */
typedef struct resume_ctx {
    nb_trainer *tr;
    nb_model *m;
    void *buf;
    size_t size;
    bool counting;
} resume_ctx;

static int save_and_stop(const nb_epoch_info *info, void *user)
{
    resume_ctx *c = user;
    (void)info;
    return nb_checkpoint_save_mem(&c->buf, &c->size, c->tr, c->m, "alloc") == NB_OK ? 1 : 2;
}

static int count_from_here(const nb_epoch_info *info, void *user)
{
    resume_ctx *c = user;
    (void)info;
    if (!c->counting) {
        c->counting = true;
        alloc_count_start();
    }
    return 0;
}

Test(alloc, resumed_run_from_a_checkpoint)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    enum { ROWS = 300, VAL = 40, IN = 12, OUT = 4 };
    static float X[ROWS * IN], T[ROWS * OUT];
    for (size_t i = 0; i < ROWS * IN; i++)
        X[i] = (float)(i % 11) / 11.0f - 0.5f;
    for (size_t i = 0; i < ROWS * OUT; i++)
        T[i] = (float)(i % 7) / 7.0f;
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    nb_tensor Xv = nb_tensor_view(X, VAL, IN), Tv = nb_tensor_view(T, VAL, OUT);
    nb_layer_spec L[] = {{32, NB_ACT_RELU, 0.2f}, {OUT, NB_ACT_IDENTITY, 0}};
    for (int k = -1; k < NB_OPTIM_KIND_COUNT; k++) {
        nb_optim_opts o = nb_optim_opts_default(k < 0 ? NB_OPTIM_SGD : (nb_optim_kind)k);
        if (k == NB_OPTIM_SGD || k == NB_OPTIM_RMSPROP)
            o.momentum = 0.5;
        nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
        s.warmup_steps = 4;
        nb_train_opts to = nb_train_opts_default();
        to.batch_size = 32; /* 300 rows: a last partial batch */
        to.epochs = 4;
        to.optim = k < 0 ? NULL : &o; /* k = -1: plain SGD on the fused path */
        to.schedule = &s;
        to.clip_norm = k < 0 ? 0.0 : 1.0;
        to.X_val = &Xv;
        to.T_val = &Tv;
        to.patience = 10;
        to.restore_best = true;
        nb_net *net;
        cr_assert_eq(nb_net_create(&net, IN, L, 2, 1), NB_OK);
        nb_trainer *tr;
        cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
        nb_model m = {.net = net, .loss = to.loss};
        resume_ctx c = {tr, &m, NULL, 0, false};
        to.on_epoch = save_and_stop;
        to.user = &c;
        cr_assert_eq(nb_trainer_run(tr, &Xt, &Tt, &to, NULL), NB_OK);
        cr_assert_not_null(c.buf);
        nb_trainer_free(tr);
        nb_net_free(net);
        nb_model mc;
        nb_trainer *tc;
        cr_assert_eq(nb_checkpoint_load_mem(&mc, &tc, NULL, c.buf, c.size), NB_OK);
        to.resume = true;
        to.on_epoch = count_from_here;
        nb_train_report rep;
        nb_status st = nb_trainer_run(tc, &Xt, &Tt, &to, &rep);
        size_t n = c.counting ? alloc_count_stop() : 0, blas = alloc_count_blas();
        cr_assert_eq(st, NB_OK, "%s", nb_status_str(st));
        cr_assert(c.counting && rep.epochs_run == 4);
        cr_expect_eq(n - blas, 0, "optimizer %d: %zu allocations in the resumed epochs 3-4 (and "
                     "%zu by OpenBLAS)", k, n - blas, blas);
        free(c.buf);
        nb_trainer_free(tc);
        nb_model_free(&mc);
    }
}
