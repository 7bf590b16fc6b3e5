/* Full-batch L-BFGS: the loss after each of 20 iterations against torch.optim.LBFGS (float32,
   PyTorch 1.13, tools/reference_lbfgs.py) with and without the strong-Wolfe line search; stop
   reasons; bad arguments; a non-finite loss. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fb_common.h"
#include "npy_read.h"

static npy_array load(const char *name)
{
    const char *dir = getenv("NABLAS_PARITY_DATA");
    cr_assert(dir != NULL, "NABLAS_PARITY_DATA is not set (run the tests through meson test)");
    char path[1024];
    snprintf(path, sizeof path, "%s/fullbatch/%s.npy", dir, name);
    npy_array a;
    cr_assert(npy_read(path, &a) == 0, "cannot read %s", path);
    return a;
}

typedef struct losses {
    size_t n;
    double v[64];
} losses;

static int record(const nb_fb_info *info, void *user)
{
    losses *l = user;
    cr_assert_eq(info->iteration, l->n + 1);
    if (l->n < 64)
        l->v[l->n++] = info->loss;
    return 0;
}

/* Every iteration's loss within tol_each of torch's, the last within 1e-4. */
static void golden(const char *tag, nb_line_search ls, double lr, size_t history, double tol_each)
{
    npy_array X = load("lbfgs_X"), T = load("lbfgs_T"), p0 = load("lbfgs_params0");
    char name[64];
    snprintf(name, sizeof name, "lbfgs_losses_%s", tag);
    npy_array want = load(name);
    size_t rows = X.shape[0];
    float *x = malloc(X.n * sizeof *x), *t = malloc(T.n * sizeof *t);
    cr_assert(x && t);
    for (size_t i = 0; i < X.n; i++)
        x[i] = (float)X.data[i];
    for (size_t i = 0; i < T.n; i++)
        t[i] = (float)T.data[i];
    const nb_layer_spec L[] = {{6, NB_ACT_TANH, 0}, {4, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 3, L, 3, 0), NB_OK);
    cr_assert_eq(nb_net_num_params(net), p0.n);
    for (size_t i = 0; i < p0.n; i++)
        nb_net_params(net)[i] = (float)p0.data[i];
    nb_lbfgs_opts o = nb_lbfgs_opts_default();
    o.iterations = want.n;
    o.max_eval = 100000;
    o.lr = lr;
    o.line_search = ls;
    o.history = history;
    losses got = {0, {0}};
    o.on_iteration = record;
    o.user = &got;
    nb_lbfgs_report rep;
    nb_tensor Xv = nb_tensor_view(x, rows, 3), Tv = nb_tensor_view(t, rows, 1);
    cr_assert_eq(nb_net_train_lbfgs(net, &Xv, &Tv, &o, &rep), NB_OK);
    cr_assert_eq(got.n, want.n, "%s: %zu iterations, torch ran %zu", tag, got.n, want.n);
    cr_expect_eq(rep.stop, NB_FB_STOP_ITERATIONS);
    double worst = 0.0;
    for (size_t k = 0; k < want.n; k++) {
        double rel = fabs(got.v[k] - want.data[k]) / want.data[k];
        worst = fmax(worst, rel);
        cr_expect_lt(rel, k + 1 == want.n ? 1e-4 : tol_each, "%s, iteration %zu: loss %.9g, "
                     "torch %.9g", tag, k + 1, got.v[k], want.data[k]);
    }
    cr_log_info("L-BFGS %s: worst relative loss difference to torch over %zu iterations: %.2g "
                "(%zu evaluations)", tag, want.n, worst, rep.evals);
    cr_expect(fabs(rep.loss - got.v[want.n - 1]) == 0.0);
    nb_net_free(net);
    free(x);
    free(t);
    npy_free(&X);
    npy_free(&T);
    npy_free(&p0);
    npy_free(&want);
}

Test(lbfgs, torch_goldens_fixed_step)
{
    golden("none", NB_LINE_SEARCH_NONE, 1.0, 100, 1e-4);
}

Test(lbfgs, torch_goldens_strong_wolfe)
{
    golden("wolfe", NB_LINE_SEARCH_STRONG_WOLFE, 5.0, 100, 1e-4);
}

/* History 3: the ring of curvature pairs drops its oldest from iteration 5 on.  With so short a
   memory, float32 rounding (torch's float dot products and scalars against nablas' double ones)
   is amplified for a while: measured up to 1.8e-4 at iteration 16, 1.5e-5 at 20.  Dropping the
   wrong pair gives 1e-2 to 3e-1 from iteration 5 on, so 1e-3 per iteration still catches it. */
Test(lbfgs, torch_goldens_short_history)
{
    golden("wolfe_hist3", NB_LINE_SEARCH_STRONG_WOLFE, 1.0, 3, 1e-3);
}

static int stop_at_3(const nb_fb_info *info, void *user)
{
    (void)user;
    return info->iteration == 3;
}

Test(lbfgs, stop_reasons)
{
    fb_problem pb = fb_surrogate(100, 1);
    nb_lbfgs_opts o = nb_lbfgs_opts_default();
    nb_lbfgs_report rep;
    cr_assert_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_ITERATIONS);
    cr_expect_eq(rep.iterations, 20);
    cr_expect_lt(rep.loss, fb_initial_loss(100, 1));

    o.tolerance_grad = 1e6; /* optimal at the start: no iteration */
    float *p0 = fb_params_copy(pb.net);
    cr_assert_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_GRADIENT);
    cr_expect_eq(rep.iterations, 0);
    cr_expect_eq(rep.evals, 1);
    cr_expect_eq(memcmp(p0, nb_net_params(pb.net), nb_net_num_params(pb.net) * sizeof(float)), 0);

    o = nb_lbfgs_opts_default();
    o.line_search = NB_LINE_SEARCH_STRONG_WOLFE;
    o.lr = 5.0;
    o.iterations = 8; /* torch's max_eval default, 8 * 5 / 4 = 10, ends it first */
    fb_problem p2 = fb_surrogate(120, 8);
    cr_assert_eq(nb_net_train_lbfgs(p2.net, &p2.X, &p2.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_EVALS, "stopped by %s", nb_fb_stop_name(rep.stop));
    cr_expect_geq(rep.evals, 10);
    cr_expect_lt(rep.iterations, 8);
    fb_free(&p2);
    o.lr = 1.0;
    o.iterations = 20;

    o.on_iteration = stop_at_3;
    cr_assert_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_CALLBACK);
    cr_expect_eq(rep.iterations, 3);
    free(p0);
    fb_free(&pb);
}

typedef struct nan_count {
    size_t calls, nan;
} nan_count;

static int val_is_nan(const nb_fb_info *info, void *user)
{
    nan_count *c = user;
    c->calls++;
    c->nan += isnan(info->val_loss) != 0;
    return 0;
}

/* L-BFGS has no validation rows: its info's val_loss is "no value", NaN. */
Test(lbfgs, val_loss_is_nan)
{
    fb_problem pb = fb_surrogate(50, 1);
    nb_lbfgs_opts o = nb_lbfgs_opts_default();
    o.iterations = 3;
    nan_count c = {0, 0};
    o.on_iteration = val_is_nan;
    o.user = &c;
    nb_lbfgs_report rep;
    cr_assert_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_assert_gt(c.calls, 0);
    cr_expect_eq(c.nan, c.calls, "val_loss NaN in %zu of %zu calls", c.nan, c.calls);
    fb_free(&pb);
}

Test(lbfgs, bad_arguments_leave_the_network_untouched)
{
    fb_problem pb = fb_surrogate(50, 1);
    size_t P = nb_net_num_params(pb.net);
    float *p0 = fb_params_copy(pb.net);
    nb_lbfgs_opts d = nb_lbfgs_opts_default(), o;
    nb_lbfgs_report rep;
    cr_expect_eq(nb_net_train_lbfgs(NULL, &pb.X, &pb.T, &d, &rep), NB_ERR_NULL);
    cr_expect_eq(nb_net_train_lbfgs(pb.net, NULL, &pb.T, &d, &rep), NB_ERR_NULL);
    cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, NULL, &d, &rep), NB_ERR_NULL);
    nb_tensor bad = pb.T;
    bad.cols = 2;
    cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, &bad, &d, &rep), NB_ERR_SHAPE);
    struct { const char *what; double *field; double value; } cases[] = {
        {"lr 0", &o.lr, 0.0}, {"lr NaN", &o.lr, NAN}, {"lr inf", &o.lr, INFINITY},
        {"tolerance_grad -1", &o.tolerance_grad, -1.0},
        {"tolerance_grad NaN", &o.tolerance_grad, NAN},
        {"tolerance_change -1", &o.tolerance_change, -1.0},
        {"tolerance_change inf", &o.tolerance_change, INFINITY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o = d;
        *cases[i].field = cases[i].value;
        cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG, "%s",
                     cases[i].what);
    }
    o = d;
    o.iterations = 0;
    cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG);
    o = d;
    o.history = 0;
    cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG);
    o = d;
    o.line_search = NB_LINE_SEARCH_COUNT;
    cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG);
    o = d;
    o.loss = NB_LOSS_COUNT;
    cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG);
    o.loss = NB_LOSS_SOFTMAX_CE; /* the output layer is identity: allowed */
    nb_layer_spec sig[] = {{4, NB_ACT_TANH, 0}, {1, NB_ACT_SIGMOID, 0}};
    nb_net *sn;
    cr_assert_eq(nb_net_create(&sn, 2, sig, 2, 1), NB_OK);
    cr_expect_eq(nb_net_train_lbfgs(sn, &pb.X, &pb.T, &o, &rep), NB_ERR_LOSS_ACT);
    nb_net_free(sn);
    cr_expect_eq(memcmp(p0, nb_net_params(pb.net), P * sizeof *p0), 0);

    pb.T.data[7] = INFINITY;
    cr_expect_eq(nb_net_train_lbfgs(pb.net, &pb.X, &pb.T, &d, &rep), NB_ERR_NONFINITE);
    cr_expect_eq(memcmp(p0, nb_net_params(pb.net), P * sizeof *p0), 0);
    free(p0);
    fb_free(&pb);
}

/* A fixed step far too long makes the loss overflow: training stops with NB_ERR_NONFINITE and
   the parameters of the last finite iterate. */
Test(lbfgs, divergence_stops_with_finite_parameters)
{
    fb_problem pb = fb_surrogate(50, 2);
    const nb_layer_spec L[] = {{8, NB_ACT_IDENTITY, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *lin;
    cr_assert_eq(nb_net_create(&lin, 2, L, 2, 3), NB_OK);
    nb_lbfgs_opts o = nb_lbfgs_opts_default();
    o.lr = 1e30;
    o.iterations = 50;
    nb_lbfgs_report rep;
    nb_status st = nb_net_train_lbfgs(lin, &pb.X, &pb.T, &o, &rep);
    cr_expect_eq(st, NB_ERR_NONFINITE, "status %d", st);
    const float *p = nb_net_params(lin);
    for (size_t i = 0; i < nb_net_num_params(lin); i++)
        cr_assert(isfinite(p[i]));
    nb_net_free(lin);
    fb_free(&pb);
}
