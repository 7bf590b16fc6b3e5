/* No heap allocation in any optimizer step, gradient clipping or schedule evaluation: after
   nb_optim_create, every variant's nb_optim_step (the first, which for SGD momentum starts the
   buffer, and the following ones) allocates nothing. */
#include <criterion/criterion.h>

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
