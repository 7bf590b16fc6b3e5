/* Optimizer, schedule and clipping parity with PyTorch 1.13 (tests/data/optim, written by
   tools/reference_optim.py through tools/make_reference.py).

   net:      a 5-7-3 tanh network trained 50 steps by every optimizer variant (forward, backward,
             nb_optim_step) against torch in float64 from the same float32 start: parameters
             within 1e-5 relative (max norm over each W and b).  nablas computes in float32, so
             each step adds rounding differences of a few 1e-7 that the steps carry forward.
   update:   the update arithmetic alone: torch's float32 optimizer on a fixed sequence of
             gradients (magnitudes 1e-4 to 1e2) against nb_optim_step on the same floats,
             element by element within 1e-5 of the element's scale, max(|final|, |initial|,
             lr sum_t |g_t|): only roundings differ (torch's vector kernels fuse multiply-adds),
             a few 1e-8 of the distance an element travels, which shows as a larger relative
             error where a parameter ends near zero after large steps.
   schedule: every rate of the schedule within 1e-6 relative of torch.optim.lr_scheduler.
   clip:     clipped gradients and norms within 1e-6 relative of clip_grad_norm_ in float64. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"
#include "parity_util.h"

#define NET_TOL 1e-5
#define UPD_TOL 1e-5
#define SCHED_TOL 1e-6
#define CLIP_TOL 1e-6

static const char *const CASES[] = {
    "sgd", "sgd_wd", "sgd_mom", "sgd_mom_damp_wd", "sgd_nesterov", "sgd_nesterov_wd",
    "adam", "adam_wd", "adam_amsgrad", "adam_amsgrad_wd", "adam_betas",
    "adamw", "adamw_wd", "adamw_amsgrad",
    "rmsprop", "rmsprop_wd", "rmsprop_mom", "rmsprop_centered", "rmsprop_mom_centered_wd",
    "rmsprop_alpha",
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

static npy_array load(const char *prefix, const char *name, const char *suffix)
{
    char file[128];
    snprintf(file, sizeof file, "%s%s%s", prefix, name, suffix);
    return parity_load("optim", file);
}

/* <group>_<case>_opts: the nb_optim_opts fields in their declaration order */
static nb_optim_opts load_opts(const char *group, const char *name)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s_", group);
    npy_array a = load(prefix, name, "_opts");
    cr_assert_eq(a.n, 12);
    const double *d = a.data;
    nb_optim_opts o = nb_optim_opts_default((nb_optim_kind)d[0]);
    o.lr = d[1];
    o.momentum = d[2];
    o.dampening = d[3];
    o.nesterov = d[4] != 0.0;
    o.weight_decay = d[5];
    o.beta1 = d[6];
    o.beta2 = d[7];
    o.eps = d[8];
    o.amsgrad = d[9] != 0.0;
    o.alpha = d[10];
    o.centered = d[11] != 0.0;
    npy_free(&a);
    return o;
}

Test(optim_parity, net_5_7_3_every_optimizer_50_steps)
{
    npy_array meta = parity_load("optim", "net_meta"), p0 = parity_load("optim", "net_p0");
    npy_array X = parity_load("optim", "net_X"), T = parity_load("optim", "net_T");
    size_t rows = (size_t)meta.data[0], batch = (size_t)meta.data[1];
    size_t steps = (size_t)meta.data[2], in = (size_t)meta.data[3];
    nb_layer_spec specs[2] = {{(size_t)meta.data[4], NB_ACT_TANH, 0},
                              {(size_t)meta.data[5], NB_ACT_IDENTITY, 0}};
    size_t out = specs[1].units;
    float *xf = parity_floats(&X), *tf = parity_floats(&T);
    double worst = 0.0;
    char worst_where[96] = "";
    for (size_t c = 0; c < N_CASES; c++) {
        nb_net *net;
        cr_assert_eq(nb_net_create(&net, in, specs, 2, 1), NB_OK);
        size_t np = nb_net_num_params(net);
        cr_assert_eq(p0.n, np);
        float *p = nb_net_params(net);
        for (size_t i = 0; i < np; i++)
            p[i] = (float)p0.data[i];
        nb_optim_opts o = load_opts("net", CASES[c]);
        nb_optim *opt;
        cr_assert_eq(nb_optim_create(&opt, np, &o), NB_OK, "%s", CASES[c]);
        for (size_t s = 0; s < steps; s++) {
            size_t lo = (s * batch) % rows;
            nb_tensor xb = nb_tensor_view(xf + lo * in, batch, in);
            nb_tensor tb = nb_tensor_view(tf + lo * out, batch, out);
            cr_assert_eq(nb_net_forward(net, &xb, NULL), NB_OK);
            cr_assert_eq(nb_net_backward(net, NB_LOSS_MSE, &tb, NULL), NB_OK);
            cr_assert_eq(nb_optim_step(opt, nb_net_params(net), nb_net_grads(net)), NB_OK);
        }
        cr_assert_eq(nb_optim_steps(opt), steps);
        npy_array ref = load("net_", CASES[c], "_final");
        char where[48];
        double e = parity_params_err(net, ref.data, where, sizeof where);
        cr_expect(e <= NET_TOL, "%s %s: relative error %.3e > %.0e", CASES[c], where, e, NET_TOL);
        /* and the run moved the parameters by far more than the tolerance */
        double moved = 0.0;
        for (size_t i = 0; i < np; i++)
            moved = fmax(moved, fabs(ref.data[i] - p0.data[i]));
        cr_expect(moved > 1e-3, "%s: torch moved the parameters by only %g", CASES[c], moved);
        if (e >= worst) {
            worst = e;
            snprintf(worst_where, sizeof worst_where, "%s %s", CASES[c], where);
        }
        npy_free(&ref);
        nb_optim_free(opt);
        nb_net_free(net);
    }
    parity_report("optim net (50 steps)", worst_where, worst, NET_TOL);
    free(xf);
    free(tf);
    npy_free(&meta);
    npy_free(&p0);
    npy_free(&X);
    npy_free(&T);
}

Test(optim_parity, update_arithmetic_float32_50_steps)
{
    npy_array p0 = parity_load("optim", "upd_p0"), G = parity_load("optim", "upd_grads");
    size_t n = p0.n, steps = G.shape[0];
    cr_assert_eq(G.shape[1], n);
    float *g = parity_floats(&G);
    double worst = 0.0;
    const char *worst_case = "";
    for (size_t c = 0; c < N_CASES; c++) {
        float *p = parity_floats(&p0);
        nb_optim_opts o = load_opts("upd", CASES[c]);
        nb_optim *opt;
        cr_assert_eq(nb_optim_create(&opt, n, &o), NB_OK, "%s", CASES[c]);
        for (size_t s = 0; s < steps; s++)
            cr_assert_eq(nb_optim_step(opt, p, g + s * n), NB_OK);
        npy_array ref = load("upd_", CASES[c], "_final");
        double e = 0.0;
        for (size_t i = 0; i < n; i++) {
            double travel = 0.0;
            for (size_t s = 0; s < steps; s++)
                travel += fabs((double)g[s * n + i]);
            double scale = fmax(fmax(fabs(ref.data[i]), fabs(p0.data[i])), o.lr * travel);
            e = fmax(e, fabs((double)p[i] - ref.data[i]) / scale);
            if (isnan(p[i]))
                e = INFINITY;
        }
        cr_expect(e <= UPD_TOL, "%s: relative error %.3e > %.0e", CASES[c], e, UPD_TOL);
        if (e >= worst) {
            worst = e;
            worst_case = CASES[c];
        }
        npy_free(&ref);
        nb_optim_free(opt);
        free(p);
    }
    parity_report("optim update (float32)", worst_case, worst, UPD_TOL);
    free(g);
    npy_free(&p0);
    npy_free(&G);
}

static const char *const SCHEDULES[] = {
    "constant", "constant_warmup", "step", "step_warmup", "cosine", "cosine_floor_warmup",
    "linear", "linear_default", "linear_warmup", "onecycle", "onecycle_linear_3phase",
};

Test(optim_parity, schedules_every_step)
{
    double worst = 0.0;
    char worst_where[64] = "";
    for (size_t c = 0; c < sizeof SCHEDULES / sizeof SCHEDULES[0]; c++) {
        npy_array m = load("sched_", SCHEDULES[c], "_meta");
        npy_array lr = load("sched_", SCHEDULES[c], "_lr");
        cr_assert_eq(m.n, 15);
        const double *d = m.data;
        nb_schedule s = nb_schedule_default((nb_schedule_kind)d[0]);
        s.base_lr = d[1];
        s.total_steps = (uint64_t)d[2];
        s.warmup_steps = (uint64_t)d[3];
        s.warmup_start_factor = d[4];
        s.step_size = (uint64_t)d[5];
        s.gamma = d[6];
        s.eta_min = d[7];
        s.start_factor = d[8];
        s.end_factor = d[9];
        s.pct_start = d[10];
        s.div_factor = d[11];
        s.final_div_factor = d[12];
        s.anneal = (nb_anneal)d[13];
        s.three_phase = d[14] != 0.0;
        cr_assert_eq(nb_schedule_check(&s), NB_OK, "%s", SCHEDULES[c]);
        for (size_t t = 0; t < lr.n; t++) {
            double r = lr.data[t], v = nb_schedule_lr(&s, t);
            double e = fabs(v - r) / fmax(fabs(r), 1e-300);
            if (r == 0.0)
                e = fabs(v) <= 1e-15 ? 0.0 : INFINITY;
            cr_expect(e <= SCHED_TOL, "%s step %zu: %.17g vs torch %.17g", SCHEDULES[c], t, v, r);
            if (e >= worst) {
                worst = e;
                snprintf(worst_where, sizeof worst_where, "%s step %zu", SCHEDULES[c], t);
            }
        }
        npy_free(&m);
        npy_free(&lr);
    }
    parity_report("optim schedules", worst_where, worst, SCHED_TOL);
}

static const char *const CLIPS[] = {"clipped", "unclipped", "single", "huge", "tiny"};

Test(optim_parity, clip_grad_norm)
{
    double worst = 0.0;
    const char *worst_case = "";
    for (size_t c = 0; c < sizeof CLIPS / sizeof CLIPS[0]; c++) {
        npy_array g = load("clip_", CLIPS[c], "_g"), m = load("clip_", CLIPS[c], "_meta");
        npy_array out = load("clip_", CLIPS[c], "_out");
        float *f = parity_floats(&g);
        double total = NAN;
        cr_assert_eq(nb_clip_grad_norm(f, g.n, m.data[0], &total), NB_OK, "%s", CLIPS[c]);
        double e = fmax(parity_elem_err(f, out.data, g.n),
                        fabs(total - m.data[1]) / m.data[1]);
        cr_expect(e <= CLIP_TOL, "%s: relative error %.3e", CLIPS[c], e);
        if (e >= worst) {
            worst = e;
            worst_case = CLIPS[c];
        }
        free(f);
        npy_free(&g);
        npy_free(&m);
        npy_free(&out);
    }
    parity_report("optim clip_grad_norm", worst_case, worst, CLIP_TOL);
}
