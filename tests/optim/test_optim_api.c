/* The optimizer, schedule and clipping API: defaults, every error path (which must leave the
   caller's data untouched), the state accessors checkpoints use, reset, SGD momentum's first
   step, and resuming from copied state being bit-identical to an unbroken run. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nablas.h"

enum { N = 37 };

static void fill(float *v, size_t n, uint64_t seed, double scale)
{
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((nb_rng_uniform(&r) - 0.4) * scale);
}

Test(optim_api, defaults_are_pytorch_1_13)
{
    nb_optim_opts s = nb_optim_opts_default(NB_OPTIM_SGD);
    cr_expect(s.kind == NB_OPTIM_SGD && s.lr == 0.01 && s.momentum == 0.0 && s.dampening == 0.0 &&
              !s.nesterov && s.weight_decay == 0.0);
    nb_optim_opts a = nb_optim_opts_default(NB_OPTIM_ADAM);
    cr_expect(a.lr == 1e-3 && a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8 &&
              a.weight_decay == 0.0 && !a.amsgrad);
    nb_optim_opts w = nb_optim_opts_default(NB_OPTIM_ADAMW);
    cr_expect(w.kind == NB_OPTIM_ADAMW && w.lr == 1e-3 && w.weight_decay == 1e-2);
    nb_optim_opts r = nb_optim_opts_default(NB_OPTIM_RMSPROP);
    cr_expect(r.lr == 1e-2 && r.alpha == 0.99 && r.eps == 1e-8 && r.momentum == 0.0 &&
              !r.centered && r.weight_decay == 0.0);
    for (int k = 0; k < NB_OPTIM_KIND_COUNT; k++) {
        nb_optim_opts o = nb_optim_opts_default((nb_optim_kind)k);
        nb_optim *opt = NULL;
        cr_expect_eq(nb_optim_create(&opt, 1, &o), NB_OK, "kind %d", k);
        nb_optim_free(opt);
    }
}

static nb_status try_create(nb_optim_opts o)
{
    nb_optim *opt = (nb_optim *)&o; /* a sentinel: must stay as it is on failure */
    nb_status st = nb_optim_create(&opt, N, &o);
    if (st == NB_OK)
        nb_optim_free(opt);
    else
        cr_expect(opt == (nb_optim *)&o, "*opt changed on failure");
    return st;
}

#define BAD(kind, field, value)                                                                \
    do {                                                                                       \
        nb_optim_opts o_ = nb_optim_opts_default(kind);                                        \
        o_.field = value;                                                                      \
        cr_expect_eq(try_create(o_), NB_ERR_ARG, "%s = %s accepted", #field, #value);          \
    } while (0)

#define GOOD(kind, field, value)                                                               \
    do {                                                                                       \
        nb_optim_opts o_ = nb_optim_opts_default(kind);                                        \
        o_.field = value;                                                                      \
        cr_expect_eq(try_create(o_), NB_OK, "%s = %s rejected", #field, #value);               \
    } while (0)

Test(optim_api, create_rejects_bad_arguments)
{
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_ADAM);
    nb_optim *opt = NULL;
    cr_expect_eq(nb_optim_create(NULL, N, &o), NB_ERR_NULL);
    cr_expect_eq(nb_optim_create(&opt, N, NULL), NB_ERR_NULL);
    cr_expect_eq(nb_optim_create(&opt, 0, &o), NB_ERR_ARG);
    cr_expect_eq(nb_optim_create(&opt, SIZE_MAX / 2, &o), NB_ERR_OVERFLOW);
    cr_expect_null(opt);
    BAD(NB_OPTIM_SGD, kind, NB_OPTIM_KIND_COUNT);
    BAD(NB_OPTIM_SGD, kind, (nb_optim_kind)-1);
    for (int k = 0; k < NB_OPTIM_KIND_COUNT; k++) { /* ranges hold whatever the kind */
        nb_optim_kind K = (nb_optim_kind)k;
        BAD(K, lr, -1e-3);
        BAD(K, lr, NAN);
        BAD(K, lr, INFINITY);
        BAD(K, weight_decay, -0.1);
        BAD(K, weight_decay, NAN);
        BAD(K, eps, -1e-8);
        BAD(K, eps, INFINITY);
        BAD(K, beta1, 1.0);
        BAD(K, beta1, -0.1);
        BAD(K, beta1, NAN);
        BAD(K, beta2, 1.0);
        BAD(K, beta2, 1.5);
        BAD(K, momentum, -0.5);
        BAD(K, momentum, 1.0);
        BAD(K, momentum, NAN);
        BAD(K, dampening, -0.1);
        BAD(K, dampening, 1.5);
        BAD(K, alpha, -0.01);
        BAD(K, alpha, 1.01);
        BAD(K, alpha, NAN);
        GOOD(K, lr, 0.0);
        GOOD(K, eps, 0.0);
        GOOD(K, beta1, 0.0);
        GOOD(K, beta2, 0.0);
    }
    /* features the kind lacks */
    BAD(NB_OPTIM_ADAM, momentum, 0.9);
    BAD(NB_OPTIM_ADAMW, momentum, 0.9);
    BAD(NB_OPTIM_RMSPROP, dampening, 0.1);
    BAD(NB_OPTIM_ADAM, nesterov, true);
    BAD(NB_OPTIM_RMSPROP, nesterov, true);
    BAD(NB_OPTIM_SGD, amsgrad, true);
    BAD(NB_OPTIM_RMSPROP, amsgrad, true);
    BAD(NB_OPTIM_SGD, centered, true);
    BAD(NB_OPTIM_ADAMW, centered, true);
    GOOD(NB_OPTIM_RMSPROP, momentum, 0.9);
    GOOD(NB_OPTIM_ADAMW, amsgrad, true);
    GOOD(NB_OPTIM_RMSPROP, centered, true);
    /* PyTorch's Nesterov rule: momentum > 0 and no dampening */
    BAD(NB_OPTIM_SGD, nesterov, true);
    o = nb_optim_opts_default(NB_OPTIM_SGD);
    o.nesterov = true;
    o.momentum = 0.9;
    cr_expect_eq(try_create(o), NB_OK);
    o.dampening = 0.1;
    cr_expect_eq(try_create(o), NB_ERR_ARG);
}

Test(optim_api, step_errors_leave_buffers_untouched)
{
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_ADAM);
    nb_optim *opt;
    cr_assert_eq(nb_optim_create(&opt, N, &o), NB_OK);
    float p[2 * N], g[N], keep[2 * N];
    fill(p, 2 * N, 1, 1.0);
    fill(g, N, 2, 1.0);
    memcpy(keep, p, sizeof p);
    cr_expect_eq(nb_optim_step(NULL, p, g), NB_ERR_NULL);
    cr_expect_eq(nb_optim_step(opt, NULL, g), NB_ERR_NULL);
    cr_expect_eq(nb_optim_step(opt, p, NULL), NB_ERR_NULL);
    cr_expect_eq(nb_optim_step(opt, p, p), NB_ERR_ALIAS);
    cr_expect_eq(nb_optim_step(opt, p, p + N - 1), NB_ERR_ALIAS);
    cr_expect_eq(nb_optim_step(opt, p + N - 1, p), NB_ERR_ALIAS);
    cr_expect(memcmp(p, keep, sizeof p) == 0);
    cr_expect_eq(nb_optim_steps(opt), 0);
    for (size_t i = 0; i < nb_optim_state_count(opt); i++)
        for (size_t j = 0; j < N; j++)
            cr_expect_eq(nb_optim_state(opt, i)[j], 0.0f);
    cr_expect_eq(nb_optim_step(opt, p, p + N), NB_OK); /* adjacent is fine */
    cr_expect_eq(nb_optim_steps(opt), 1);
    nb_optim_free(opt);
    nb_optim_free(NULL);
}

Test(optim_api, lr_steps_reset_and_accessors)
{
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_RMSPROP);
    o.momentum = 0.5;
    o.centered = true;
    nb_optim *opt;
    cr_assert_eq(nb_optim_create(&opt, N, &o), NB_OK);
    cr_expect_eq(nb_optim_num_params(opt), N);
    cr_expect_eq(nb_optim_state_count(opt), 3);
    cr_expect_not_null(nb_optim_state(opt, 2));
    cr_expect_null(nb_optim_state(opt, 3));
    cr_expect_null(nb_optim_state(NULL, 0));
    cr_expect_eq(nb_optim_state_count(NULL), 0);
    cr_expect_eq(nb_optim_num_params(NULL), 0);
    cr_expect_eq(nb_optim_steps(NULL), 0);
    cr_expect(isnan(nb_optim_lr(NULL)));
    /* buffers are distinct and aligned */
    for (size_t i = 0; i < 3; i++)
        cr_expect_eq((uintptr_t)nb_optim_state(opt, i) % 64, 0);
    cr_expect(nb_optim_state(opt, 1) >= nb_optim_state(opt, 0) + N);
    cr_expect(nb_optim_state(opt, 2) >= nb_optim_state(opt, 1) + N);

    cr_expect_eq(nb_optim_lr(opt), 0.01);
    cr_expect_eq(nb_optim_set_lr(NULL, 0.1), NB_ERR_NULL);
    cr_expect_eq(nb_optim_set_lr(opt, -0.1), NB_ERR_ARG);
    cr_expect_eq(nb_optim_set_lr(opt, NAN), NB_ERR_ARG);
    cr_expect_eq(nb_optim_set_lr(opt, INFINITY), NB_ERR_ARG);
    cr_expect_eq(nb_optim_lr(opt), 0.01);
    cr_expect_eq(nb_optim_set_lr(opt, 0.25), NB_OK);
    cr_expect_eq(nb_optim_lr(opt), 0.25);

    nb_optim_opts got;
    cr_expect_eq(nb_optim_get_opts(NULL, &got), NB_ERR_NULL);
    cr_expect_eq(nb_optim_get_opts(opt, NULL), NB_ERR_NULL);
    cr_expect_eq(nb_optim_get_opts(opt, &got), NB_OK);
    cr_expect(got.kind == NB_OPTIM_RMSPROP && got.lr == 0.25 && got.momentum == 0.5 &&
              got.centered && got.alpha == 0.99);

    float p[N], g[N];
    fill(p, N, 3, 1.0);
    fill(g, N, 4, 1.0);
    cr_assert_eq(nb_optim_step(opt, p, g), NB_OK);
    cr_assert_eq(nb_optim_step(opt, p, g), NB_OK);
    cr_expect_eq(nb_optim_steps(opt), 2);
    cr_expect_neq(nb_optim_state(opt, 0)[0], 0.0f);
    cr_expect_eq(nb_optim_set_steps(NULL, 3), NB_ERR_NULL);
    cr_expect_eq(nb_optim_set_steps(opt, UINT64_MAX), NB_ERR_ARG);
    cr_expect_eq(nb_optim_steps(opt), 2);
    cr_expect_eq(nb_optim_set_steps(opt, 7), NB_OK);
    cr_expect_eq(nb_optim_steps(opt), 7);
    cr_expect_eq(nb_optim_reset(NULL), NB_ERR_NULL);
    cr_expect_eq(nb_optim_reset(opt), NB_OK);
    cr_expect_eq(nb_optim_steps(opt), 0);
    cr_expect_eq(nb_optim_lr(opt), 0.25); /* options stay */
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < N; j++)
            cr_expect_eq(nb_optim_state(opt, i)[j], 0.0f);
    nb_optim_free(opt);
}

Test(optim_api, state_counts_follow_pytorch)
{
    struct {
        nb_optim_kind kind;
        double momentum;
        bool amsgrad, centered;
        size_t count;
    } c[] = {
        {NB_OPTIM_SGD, 0.0, false, false, 0},     {NB_OPTIM_SGD, 0.9, false, false, 1},
        {NB_OPTIM_ADAM, 0.0, false, false, 2},    {NB_OPTIM_ADAM, 0.0, true, false, 3},
        {NB_OPTIM_ADAMW, 0.0, true, false, 3},    {NB_OPTIM_RMSPROP, 0.0, false, false, 1},
        {NB_OPTIM_RMSPROP, 0.9, false, false, 2}, {NB_OPTIM_RMSPROP, 0.0, false, true, 2},
        {NB_OPTIM_RMSPROP, 0.9, false, true, 3},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        nb_optim_opts o = nb_optim_opts_default(c[i].kind);
        o.momentum = c[i].momentum;
        o.amsgrad = c[i].amsgrad;
        o.centered = c[i].centered;
        nb_optim *opt;
        cr_assert_eq(nb_optim_create(&opt, 5, &o), NB_OK);
        cr_expect_eq(nb_optim_state_count(opt), c[i].count, "case %zu", i);
        nb_optim_free(opt);
    }
}

/* SGD momentum: the first step copies the gradient into the buffer (no dampening); the
   second decays it.  RMSprop centered: square_avg, then momentum, then grad_avg. */
Test(optim_api, sgd_first_step_and_rmsprop_state_order)
{
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_SGD);
    o.momentum = 0.9;
    o.dampening = 0.5;
    o.lr = 0.1;
    nb_optim *opt;
    cr_assert_eq(nb_optim_create(&opt, 3, &o), NB_OK);
    float p[3] = {1, 2, 3}, g[3] = {0.5f, -1.0f, 2.0f};
    cr_assert_eq(nb_optim_step(opt, p, g), NB_OK);
    const float *b = nb_optim_state(opt, 0);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(b[i], g[i]);
    cr_expect_eq(p[0], 1.0f + -0.1f * 0.5f);
    cr_assert_eq(nb_optim_step(opt, p, g), NB_OK);
    cr_expect_eq(b[1], -1.0f * 0.9f + 0.5f * -1.0f);
    nb_optim_free(opt);

    o = nb_optim_opts_default(NB_OPTIM_RMSPROP);
    o.momentum = 0.5;
    o.centered = true;
    o.alpha = 0.75;
    cr_assert_eq(nb_optim_create(&opt, 3, &o), NB_OK);
    cr_assert_eq(nb_optim_step(opt, p, g), NB_OK);
    const float *sq = nb_optim_state(opt, 0), *ga = nb_optim_state(opt, 2);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(sq[i], (0.25f * g[i]) * g[i]);
        cr_expect_eq(ga[i], 0.25f * g[i]);
        cr_expect_neq(nb_optim_state(opt, 1)[i], 0.0f);
    }
    nb_optim_free(opt);
}

/* Plain SGD through the optimizer is nb_net_sgd_step's update bit for bit. */
Test(optim_api, plain_sgd_matches_sgd_kernel)
{
    float p[N], q[N], g[N];
    fill(p, N, 5, 3.0);
    memcpy(q, p, sizeof p);
    fill(g, N, 6, 2.0);
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_SGD);
    o.lr = 0.037;
    nb_optim *opt;
    cr_assert_eq(nb_optim_create(&opt, N, &o), NB_OK);
    cr_assert_eq(nb_optim_step(opt, p, g), NB_OK);
    nb_tensor P = nb_tensor_view(q, 1, N), G = nb_tensor_view(g, 1, N);
    cr_assert_eq(nb_sgd_step(&P, &G, (float)0.037), NB_OK);
    cr_expect(memcmp(p, q, sizeof p) == 0);
    nb_optim_free(opt);
}

/* Saving the state after k steps and restoring it into a new optimizer continues exactly. */
Test(optim_api, restored_state_continues_bit_identically)
{
    const nb_optim_kind kinds[] = {NB_OPTIM_SGD, NB_OPTIM_ADAM, NB_OPTIM_ADAMW, NB_OPTIM_RMSPROP};
    enum { K = 4, M = 5, NN = 101 };
    for (size_t k = 0; k < 4; k++) {
        nb_optim_opts o = nb_optim_opts_default(kinds[k]);
        if (kinds[k] == NB_OPTIM_SGD || kinds[k] == NB_OPTIM_RMSPROP)
            o.momentum = 0.8;
        if (kinds[k] == NB_OPTIM_ADAMW)
            o.amsgrad = true;
        static float G[K + M][NN], p0[NN], a[NN], b[NN];
        for (size_t s = 0; s < K + M; s++)
            fill(G[s], NN, 100 + s, 1.0);
        fill(p0, NN, 9, 1.0);
        memcpy(a, p0, sizeof a);
        nb_optim *one, *first, *second;
        cr_assert_eq(nb_optim_create(&one, NN, &o), NB_OK);
        for (size_t s = 0; s < K + M; s++)
            cr_assert_eq(nb_optim_step(one, a, G[s]), NB_OK);

        memcpy(b, p0, sizeof b);
        cr_assert_eq(nb_optim_create(&first, NN, &o), NB_OK);
        for (size_t s = 0; s < K; s++)
            cr_assert_eq(nb_optim_step(first, b, G[s]), NB_OK);
        nb_optim_opts saved;
        cr_assert_eq(nb_optim_get_opts(first, &saved), NB_OK);
        cr_assert_eq(nb_optim_create(&second, NN, &saved), NB_OK);
        cr_assert_eq(nb_optim_state_count(second), nb_optim_state_count(first));
        for (size_t i = 0; i < nb_optim_state_count(first); i++)
            memcpy(nb_optim_state(second, i), nb_optim_state(first, i), NN * sizeof(float));
        cr_assert_eq(nb_optim_set_steps(second, nb_optim_steps(first)), NB_OK);
        nb_optim_free(first);
        for (size_t s = K; s < K + M; s++)
            cr_assert_eq(nb_optim_step(second, b, G[s]), NB_OK);
        cr_expect(memcmp(a, b, sizeof a) == 0, "kind %d", (int)kinds[k]);
        nb_optim_free(one);
        nb_optim_free(second);
    }
}

/* ---- schedules ------------------------------------------------------------------------------ */

#define SBAD(kind, field, value)                                                               \
    do {                                                                                       \
        nb_schedule s_ = nb_schedule_default(kind);                                            \
        s_.total_steps = 100;                                                                  \
        s_.field = value;                                                                      \
        cr_expect_eq(nb_schedule_check(&s_), NB_ERR_ARG, "%s = %s accepted", #field, #value);  \
        cr_expect(isnan(nb_schedule_lr(&s_, 3)));                                              \
    } while (0)

Test(optim_api, schedule_check_rejects_bad_fields)
{
    cr_expect_eq(nb_schedule_check(NULL), NB_ERR_NULL);
    cr_expect(isnan(nb_schedule_lr(NULL, 0)));
    for (int k = 0; k < NB_SCHED_KIND_COUNT; k++) {
        nb_schedule s = nb_schedule_default((nb_schedule_kind)k);
        s.total_steps = 100;
        cr_expect_eq(nb_schedule_check(&s), NB_OK, "kind %d", k);
        SBAD((nb_schedule_kind)k, base_lr, -0.1);
        SBAD((nb_schedule_kind)k, base_lr, NAN);
        SBAD((nb_schedule_kind)k, warmup_start_factor, 0.0);
        SBAD((nb_schedule_kind)k, warmup_start_factor, 1.5);
        SBAD((nb_schedule_kind)k, warmup_start_factor, NAN);
        SBAD((nb_schedule_kind)k, anneal, NB_ANNEAL_COUNT);
        SBAD((nb_schedule_kind)k, kind, NB_SCHED_KIND_COUNT);
    }
    SBAD(NB_SCHED_STEP, step_size, 0);
    SBAD(NB_SCHED_STEP, gamma, -0.5);
    SBAD(NB_SCHED_STEP, gamma, INFINITY);
    SBAD(NB_SCHED_COSINE, eta_min, -1e-3);
    SBAD(NB_SCHED_COSINE, eta_min, NAN);
    SBAD(NB_SCHED_COSINE, total_steps, 0);
    SBAD(NB_SCHED_COSINE, warmup_steps, 100); /* nothing left after the warm-up */
    SBAD(NB_SCHED_LINEAR, total_steps, 0);
    SBAD(NB_SCHED_LINEAR, start_factor, 0.0);
    SBAD(NB_SCHED_LINEAR, start_factor, 1.5);
    SBAD(NB_SCHED_LINEAR, end_factor, -0.1);
    SBAD(NB_SCHED_LINEAR, end_factor, 1.1);
    SBAD(NB_SCHED_ONECYCLE, total_steps, 0);
    SBAD(NB_SCHED_ONECYCLE, total_steps, 3); /* 0.3 * 3 - 1 < 0: an empty rise */
    SBAD(NB_SCHED_ONECYCLE, warmup_steps, 10);
    SBAD(NB_SCHED_ONECYCLE, pct_start, 0.0);
    SBAD(NB_SCHED_ONECYCLE, pct_start, 1.0);
    SBAD(NB_SCHED_ONECYCLE, pct_start, NAN);
    SBAD(NB_SCHED_ONECYCLE, div_factor, 0.0);
    SBAD(NB_SCHED_ONECYCLE, final_div_factor, -1.0);
    SBAD(NB_SCHED_ONECYCLE, final_div_factor, INFINITY);
    /* constant and step need no total */
    nb_schedule s = nb_schedule_default(NB_SCHED_STEP);
    cr_expect_eq(nb_schedule_check(&s), NB_OK);
    cr_expect_eq(nb_schedule_lr(&s, 0), 0.01);
    s.warmup_steps = 4;
    cr_expect_eq(nb_schedule_check(&s), NB_OK);
    cr_expect_eq(nb_schedule_lr(&s, 4), 0.01);
    cr_expect_eq(nb_schedule_lr(&s, 0), 0.01 * 0.01);
}

Test(optim_api, schedule_shapes)
{
    nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
    s.base_lr = 1.0;
    s.total_steps = 110;
    s.warmup_steps = 10;
    s.eta_min = 0.1;
    cr_expect_float_eq(nb_schedule_lr(&s, 10), 1.0, 1e-15);
    cr_expect_float_eq(nb_schedule_lr(&s, 60), 0.55, 1e-12);
    cr_expect_float_eq(nb_schedule_lr(&s, 110), 0.1, 1e-12);
    for (uint64_t t = 1; t <= 10; t++) /* the warm-up rises */
        cr_expect_gt(nb_schedule_lr(&s, t), nb_schedule_lr(&s, t - 1));
    s = nb_schedule_default(NB_SCHED_ONECYCLE);
    s.base_lr = 2.0;
    s.total_steps = 100;
    double peak = 0.0;
    for (uint64_t t = 0; t <= 120; t++)
        peak = fmax(peak, nb_schedule_lr(&s, t));
    cr_expect_float_eq(peak, 2.0, 1e-12);
    cr_expect_float_eq(nb_schedule_lr(&s, 0), 2.0 / 25.0, 1e-15);
    cr_expect_eq(nb_schedule_lr(&s, 100), nb_schedule_lr(&s, 1000)); /* held past the end */
    s = nb_schedule_default(NB_SCHED_LINEAR);
    s.total_steps = 10;
    cr_expect_float_eq(nb_schedule_lr(&s, 10), 0.01, 1e-15);
    cr_expect_eq(nb_schedule_lr(&s, 10), nb_schedule_lr(&s, 99));
}

/* ---- clipping ------------------------------------------------------------------------------- */

Test(optim_api, clip_errors_and_nonfinite)
{
    float g[N], keep[N];
    fill(g, N, 11, 10.0);
    memcpy(keep, g, sizeof g);
    double total = -1.0;
    cr_expect_eq(nb_clip_grad_norm(NULL, N, 1.0, &total), NB_ERR_NULL);
    cr_expect_eq(nb_clip_grad_norm(g, 0, 1.0, &total), NB_ERR_ARG);
    cr_expect_eq(nb_clip_grad_norm(g, N, 0.0, &total), NB_ERR_ARG);
    cr_expect_eq(nb_clip_grad_norm(g, N, -1.0, &total), NB_ERR_ARG);
    cr_expect_eq(nb_clip_grad_norm(g, N, NAN, &total), NB_ERR_ARG);
    cr_expect_eq(nb_clip_grad_norm(g, N, INFINITY, &total), NB_ERR_ARG);
    cr_expect_eq(total, -1.0);
    cr_expect(memcmp(g, keep, sizeof g) == 0);
    g[N - 1] = NAN;
    memcpy(keep, g, sizeof g);
    cr_expect_eq(nb_clip_grad_norm(g, N, 1.0, &total), NB_ERR_NONFINITE);
    cr_expect(isnan(total));
    cr_expect(memcmp(g, keep, sizeof g) == 0);
    g[N - 1] = -INFINITY;
    memcpy(keep, g, sizeof g);
    cr_expect_eq(nb_clip_grad_norm(g, N, 1.0, NULL), NB_ERR_NONFINITE);
    cr_expect(memcmp(g, keep, sizeof g) == 0);
    /* finite floats whose squares overflow float: the double sum keeps them */
    for (size_t i = 0; i < N; i++)
        g[i] = 1e30f;
    cr_expect_eq(nb_clip_grad_norm(g, N, 1.0, &total), NB_OK);
    cr_expect(fabs(total / ((double)1e30f * sqrt((double)N)) - 1.0) < 1e-12, "%g", total);
    double t2;
    cr_expect_eq(nb_clip_grad_norm(g, N, 1e9, &t2), NB_OK);
    cr_expect_float_eq(t2, 1.0, 1e-6);
}

#if defined(__SSE2__) || defined(__x86_64__)
#include <xmmintrin.h>
/* Steps flush denormal moments to zero (x86: FTZ and DAZ during the update) and leave the
   caller's floating-point mode as it was. */
Test(optim_api, denormal_moments_flush_and_mxcsr_is_restored)
{
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_SGD);
    o.momentum = 0.5;
    o.lr = 0.0;
    nb_optim *opt;
    cr_assert_eq(nb_optim_create(&opt, 1, &o), NB_OK);
    float p = 1.0f, g = 2e-38f, zero = 0.0f;
    unsigned before = _mm_getcsr();
    cr_assert_eq(nb_optim_step(opt, &p, &g), NB_OK);
    cr_expect_eq(nb_optim_state(opt, 0)[0], 2e-38f); /* a normal float */
    cr_assert_eq(nb_optim_step(opt, &p, &zero), NB_OK);
    cr_expect_eq(nb_optim_state(opt, 0)[0], 0.0f); /* 1e-38 would be denormal */
    cr_expect_eq(_mm_getcsr(), before);
    volatile float tiny = 1e-38f, half = 0.5f;
    cr_expect_neq(tiny * half, 0.0f, "the caller still computes denormals");
    nb_optim_free(opt);
}
#endif
