/* Levenberg–Marquardt: one exact step on linear least squares (against LAPACKE_dgels), the
   batched per-row Jacobian against central differences in double, the trainlm rules for mu,
   the stop reasons, validation restore, the memory limit and every bad argument. */
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "fb_common.h"
#include "net/jacobian.h"

/* ---- linear least squares: one iteration with mu -> 0 is the least-squares solution ------- */

Test(lm, linear_least_squares_in_one_iteration)
{
    enum { N = 60, IN = 3, OUT = 2, K = IN + 1 };
    nb_rng r;
    nb_rng_seed(&r, 11);
    float X[N * IN], T[N * OUT];
    for (size_t i = 0; i < N * IN; i++)
        X[i] = (float)(2.0 * nb_rng_uniform(&r) - 1.0);
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < OUT; k++)
            T[i * OUT + k] = (float)(0.5 * X[i * IN] - (double)k * X[i * IN + 1] + 0.3 * X[i * IN + 2]
                                     + 0.1 * (double)k + 0.2 * nb_rng_normal(&r));
    nb_layer_spec L = {OUT, NB_ACT_IDENTITY, 0};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, &L, 1, 5), NB_OK);
    nb_lm_opts o = nb_lm_opts_default();
    o.mu = 1e-12;
    o.iterations = 1;
    nb_lm_report rep;
    nb_tensor Xv = nb_tensor_view(X, N, IN), Tv = nb_tensor_view(T, N, OUT);
    cr_assert_eq(nb_net_train_lm(net, &Xv, &Tv, &o, &rep), NB_OK);
    cr_assert_eq(rep.iterations, 1);
    cr_assert_eq(rep.solves, 1, "the first solve succeeds");
    cr_assert(fabs(rep.mu - 1e-13) < 1e-25, "mu *= 0.1 after a success: %g", rep.mu);

    /* dgels on [X 1], both outputs at once */
    double A[N * K], B[N * OUT];
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < IN; j++)
            A[i * K + j] = X[i * IN + j];
        A[i * K + IN] = 1.0;
        for (size_t k = 0; k < OUT; k++)
            B[i * OUT + k] = T[i * OUT + k];
    }
    cr_assert_eq(LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', N, K, OUT, A, K, B, OUT), 0);
    const float *p = nb_net_params(net); /* W (IN x OUT) then b (OUT) */
    double worst = 0.0;
    for (size_t k = 0; k < OUT; k++) {
        for (size_t j = 0; j < IN; j++)
            worst = fmax(worst, fabs(p[j * OUT + k] - B[j * OUT + k]));
        worst = fmax(worst, fabs(p[IN * OUT + k] - B[IN * OUT + k]));
    }
    cr_expect_lt(worst, 2e-6, "parameters differ from dgels's solution by %g", worst);
    double sse = 0.0;
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < OUT; k++) {
            double y = B[IN * OUT + k];
            for (size_t j = 0; j < IN; j++)
                y += X[i * IN + j] * B[j * OUT + k];
            sse += (y - T[i * OUT + k]) * (y - T[i * OUT + k]);
        }
    double opt = sse / (N * OUT);
    cr_expect_lt(fabs(rep.loss - opt) / opt, 1e-5, "loss %.9g vs least-squares optimum %.9g",
                 rep.loss, opt);
    nb_net_free(net);
}

/* ---- the batched Jacobian against central differences in double ------------------------- */

static double ref_forward_out(const fb_ref_net *rn, const double *params, const float *x, size_t k)
{
    double y[8];
    fb_ref_forward(rn, params, x, y);
    return y[k];
}

/* J (ROWS*outputs x P) from the batched passes against central differences of a double
   forward pass; returns the norm-wise relative error. */
static double jacobian_error(const nb_layer_spec *L, size_t n_layers, size_t in, uint64_t seed)
{
    enum { ROWS = 7 };
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, in, L, n_layers, seed), NB_OK);
    size_t P = nb_net_num_params(net), out = nb_net_outputs(net);
    nb_rng r;
    nb_rng_seed(&r, seed + 4);
    float X[ROWS * 8];
    cr_assert_leq(in, 8);
    for (size_t i = 0; i < ROWS * in; i++)
        X[i] = (float)(2.0 * nb_rng_uniform(&r) - 1.0);
    float *p = nb_net_params(net);
    for (size_t i = 0; i < P; i++) /* biases too, so that their columns are exercised */
        p[i] += (float)(0.3 * nb_rng_normal(&r));
    fb_ref_net rn = fb_ref_net_of(net);
    double *J = malloc(ROWS * P * sizeof *J), *pd = malloc(P * sizeof *pd);
    float *G0 = malloc(ROWS * 16 * sizeof *G0), *G1 = malloc(ROWS * 16 * sizeof *G1);
    cr_assert(J && pd && G0 && G1 && nb__net_max_width(net) <= 16);
    cr_assert_eq(nb_net_reserve(net, ROWS), NB_OK);
    double worst = 0.0, scale = 0.0;
    for (size_t k = 0; k < out; k++) {
        nb__net_forward_rows(net, X, ROWS);
        nb__net_jacobian_rows(net, X, ROWS, k, J, G0, G1);
        for (size_t j = 0; j < P; j++)
            pd[j] = p[j];
        for (size_t i = 0; i < ROWS; i++)
            for (size_t j = 0; j < P; j++) {
                double h = 1e-6, keep = pd[j];
                pd[j] = keep + h;
                double fp = ref_forward_out(&rn, pd, X + i * in, k);
                pd[j] = keep - h;
                double fm = ref_forward_out(&rn, pd, X + i * in, k);
                pd[j] = keep;
                double fd = (fp - fm) / (2 * h);
                worst = fmax(worst, fabs(J[i * P + j] - fd));
                scale = fmax(scale, fabs(fd));
            }
    }
    cr_expect_gt(scale, 0.05);
    free(J);
    free(pd);
    free(G0);
    free(G1);
    nb_net_free(net);
    return worst / scale;
}

Test(lm, jacobian_matches_finite_differences)
{
    const nb_layer_spec tanh2[] = {{5, NB_ACT_TANH, 0}, {4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    double e = jacobian_error(tanh2, 3, 3, 21);
    cr_expect_lt(e, 1e-4, "2-hidden-layer tanh network: %g relative", e);
    cr_log_info("Jacobian vs central differences: tanh network %.2g", e);
    /* every other activation's backward, softmax's row coupling included */
    const nb_layer_spec mixed[] = {{6, NB_ACT_SIGMOID, 0}, {5, NB_ACT_LEAKY_RELU, 0}, {4, NB_ACT_RELU, 0},
                                   {3, NB_ACT_SOFTMAX, 0}};
    e = jacobian_error(mixed, 4, 4, 22);
    cr_expect_lt(e, 1e-4, "sigmoid, leaky ReLU, ReLU, softmax: %g relative", e);
    cr_log_info("Jacobian vs central differences: sigmoid/leaky/relu/softmax network %.2g", e);
}

/* Chunking changes only the summation order: 5 iterations in chunks of 7 rows match one
   chunk of all rows. */
Test(lm, chunks_give_the_same_training)
{
    fb_problem a = fb_surrogate(200, 3), b = fb_surrogate(200, 3);
    nb_lm_opts o = nb_lm_opts_default();
    o.iterations = 5;
    nb_lm_report ra, rb;
    o.chunk_rows = 7;
    cr_assert_eq(nb_net_train_lm(a.net, &a.X, &a.T, &o, &ra), NB_OK);
    o.chunk_rows = 0;
    cr_assert_eq(nb_net_train_lm(b.net, &b.X, &b.T, &o, &rb), NB_OK);
    cr_assert_eq(ra.iterations, 5);
    cr_assert_eq(rb.iterations, 5);
    cr_expect_lt(fabs(ra.loss - rb.loss) / rb.loss, 1e-3, "%g vs %g", ra.loss, rb.loss);
    cr_expect_lt(rb.loss, 0.5 * fb_initial_loss(200, 3), "LM lowers the loss");
    fb_free(&a);
    fb_free(&b);
}

/* ---- the rules for mu ------------------------------------------------------------------- */

typedef struct trace {
    size_t n;
    double mu[600], loss[600], val[600];
    size_t evals[600];
} trace;

static int record(const nb_fb_info *info, void *user)
{
    trace *t = user;
    if (t->n < 600) {
        t->mu[t->n] = info->mu;
        t->loss[t->n] = info->loss;
        t->evals[t->n] = info->evals;
        t->val[t->n] = info->val_loss;
        t->n++;
    }
    return 0;
}

/* Checks every iteration of a trace against trainlm's rules: a step taken after s solves
   leaves mu * 10^(s-1) * 0.1 (floored at 1e-20); an iteration without a step ends with
   mu * 10^s above mu_max.  Counts the iterations where mu rose and where it fell. */
static void check_mu_rules(const trace *t, double mu, double loss, double mu_max, size_t *rises,
                           size_t *falls)
{
    size_t evals = 0;
    *rises = *falls = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t solves = t->evals[i] - evals;
        cr_assert_geq(solves, 1);
        bool moved = t->loss[i] < loss;
        double want = moved ? fmax(mu * pow(10.0, (double)solves - 1.0) * 0.1, 1e-20)
                            : mu * pow(10.0, (double)solves);
        cr_assert(fabs(t->mu[i] - want) <= 1e-9 * want, "iteration %zu: mu %g, expected %g "
                  "(%zu solves, %s)", i + 1, t->mu[i], want, solves, moved ? "moved" : "stuck");
        if (!moved)
            cr_assert_gt(t->mu[i], mu_max, "a failed iteration ends only above mu_max");
        *rises += solves > 1 || !moved;
        *falls += moved;
        mu = t->mu[i];
        loss = t->loss[i];
        evals = t->evals[i];
    }
}

/* Without validation rows the validation loss is "no value": NaN (as in nablas/net.h), in the
   callback's info and in the report. */
Test(lm, no_validation_loss_is_nan)
{
    fb_problem pb = fb_surrogate(60, 2);
    nb_lm_opts o = nb_lm_opts_default();
    o.iterations = 3;
    trace t = {0};
    o.on_iteration = record;
    o.user = &t;
    nb_lm_report r;
    cr_assert_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &r), NB_OK);
    cr_assert_gt(t.n, 0);
    for (size_t i = 0; i < t.n; i++)
        cr_expect(isnan(t.val[i]), "iteration %zu: val_loss %g", i + 1, t.val[i]);
    cr_expect(isnan(r.val_loss), "report val_loss %g", r.val_loss);
    fb_free(&pb);
}

/* From a small initial mu the Gauss-Newton steps overshoot on a tanh network, so mu rises;
   after successes it falls. */
Test(lm, mu_rises_and_falls_as_trainlm)
{
    fb_problem pb = fb_surrogate(120, 8);
    nb_lm_opts o = nb_lm_opts_default();
    o.mu = 1e-9;
    o.iterations = 100;
    static trace t;
    t.n = 0;
    o.on_iteration = record;
    o.user = &t;
    nb_lm_report rep;
    cr_assert_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_assert_eq(t.n, rep.iterations);
    size_t rises, falls;
    check_mu_rules(&t, o.mu, fb_initial_loss(120, 8), o.mu_max, &rises, &falls);
    cr_expect_gt(rises, 0, "mu never rose");
    cr_expect_gt(falls, 0, "mu never fell");
    cr_expect_lt(rep.loss, 1e-3 * fb_initial_loss(120, 8));
    fb_free(&pb);
}

/* On a linear problem the first step reaches the float32 optimum; after that no step lowers
   the loss, mu climbs through mu_max and training stops there. */
Test(lm, mu_max_stops_training)
{
    fb_problem pb = fb_surrogate(80, 4);
    const nb_layer_spec L[] = {{1, NB_ACT_IDENTITY, 0}};
    nb_net *lin;
    cr_assert_eq(nb_net_create(&lin, 2, L, 1, 3), NB_OK);
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(lin, &pb.X, &pb.T, NB_LOSS_MSE, &ev), NB_OK);
    nb_lm_opts o = nb_lm_opts_default();
    o.min_grad = 0.0;
    o.iterations = 200;
    static trace t;
    t.n = 0;
    o.on_iteration = record;
    o.user = &t;
    nb_lm_report rep;
    cr_assert_eq(nb_net_train_lm(lin, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_MU_MAX, "stopped by %s", nb_fb_stop_name(rep.stop));
    cr_expect_gt(rep.mu, o.mu_max);
    cr_expect_lt(rep.iterations, 200);
    size_t rises, falls;
    check_mu_rules(&t, o.mu, ev.loss, o.mu_max, &rises, &falls);
    cr_expect_gt(rises, 0);
    nb_net_free(lin);
    fb_free(&pb);
}

/* ---- stop reasons ----------------------------------------------------------------------- */

static int stop_at_2(const nb_fb_info *info, void *user)
{
    (void)user;
    return info->iteration == 2;
}

Test(lm, stop_reasons)
{
    nb_lm_report rep;
    nb_lm_opts o = nb_lm_opts_default();
    fb_problem pb = fb_surrogate(100, 1);
    o.iterations = 3;
    cr_assert_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_ITERATIONS);
    cr_expect_eq(rep.iterations, 3);
    cr_expect_str_eq(nb_fb_stop_name(rep.stop), "iterations");
    /* no stale forward of LM's chunks is left for nb_net_backward */
    cr_expect_eq(nb_net_backward(pb.net, NB_LOSS_MSE, &pb.T, NULL), NB_ERR_STATE);

    o.iterations = 1000;
    o.goal = 0.5 * rep.loss;
    cr_assert_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_GOAL);
    cr_expect_leq(rep.loss, o.goal);

    o.goal = 0.0;
    o.min_grad = 1e6;
    cr_assert_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_GRADIENT);
    cr_expect_eq(rep.iterations, 0);

    o.min_grad = 1e-7;
    o.on_iteration = stop_at_2;
    cr_assert_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_CALLBACK);
    cr_expect_eq(rep.iterations, 2);
    cr_expect_null(nb_fb_stop_name(NB_FB_STOP_COUNT));
    fb_free(&pb);
}

/* The validation rule on its own: with validation targets unlike the training ones, the
   validation loss soon stops improving; training must stop once it has failed to beat the best
   6 iterations in a row, and end with the parameters of the best iteration. */
typedef struct val_trace {
    nb_net *net;
    double best;
    size_t best_it, fails;
    float best_params[200];
} val_trace;

static int track_val(const nb_fb_info *info, void *user)
{
    val_trace *v = user;
    if (info->val_loss < v->best) {
        v->best = info->val_loss;
        v->best_it = info->iteration;
        v->fails = 0;
        memcpy(v->best_params, nb_net_params(v->net), nb_net_num_params(v->net) * sizeof(float));
    } else if (info->val_loss > v->best) {
        v->fails++;
    }
    return 0;
}

Test(lm, validation_stop_restores_the_best)
{
    fb_problem pb = fb_surrogate(100, 2);
    size_t P = nb_net_num_params(pb.net), rows = pb.T.rows;
    cr_assert_leq(P, 200);
    float *Tneg = malloc(rows * sizeof *Tneg);
    cr_assert(Tneg);
    for (size_t i = 0; i < rows; i++)
        Tneg[i] = -pb.T.data[i] - 1.0f;
    nb_tensor Tv = nb_tensor_view(Tneg, rows, 1);
    static val_trace v;
    v.net = pb.net;
    v.best_it = v.fails = 0;
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(pb.net, &pb.X, &Tv, NB_LOSS_MSE, &ev), NB_OK);
    v.best = ev.loss; /* the initial parameters are the first candidate */
    memcpy(v.best_params, nb_net_params(pb.net), P * sizeof(float));
    nb_lm_opts o = nb_lm_opts_default();
    o.X_val = &pb.X;
    o.T_val = &Tv;
    o.on_iteration = track_val;
    o.user = &v;
    nb_lm_report rep;
    cr_assert_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.stop, NB_FB_STOP_VALIDATION, "stopped by %s", nb_fb_stop_name(rep.stop));
    cr_expect_eq(v.fails, 6, "%zu failures in a row at the stop", v.fails);
    cr_expect_eq(rep.iterations, v.best_it + 6);
    cr_expect_eq(rep.best_iteration, v.best_it);
    cr_expect_eq(memcmp(v.best_params, nb_net_params(pb.net), P * sizeof(float)), 0,
                 "best parameters restored");
    cr_expect(fabs(rep.val_loss - v.best) <= 1e-12 * v.best, "%g vs %g", rep.val_loss, v.best);
    free(Tneg);
    fb_free(&pb);
}

/* ---- memory limit and arguments ----------------------------------------------------------- */

Test(lm, memory_limit)
{
    fb_problem pb = fb_surrogate(100, 1);
    size_t P = nb_net_num_params(pb.net);
    float *p0 = fb_params_copy(pb.net);
    nb_lm_opts o = nb_lm_opts_default();
    o.iterations = 1;
    size_t need = nb_lm_workspace_bytes(pb.net, 100, 0);
    cr_assert_gt(need, 2 * P * P * sizeof(double), "J^T J and its factor are counted");
    o.max_bytes = need - 1;
    nb_lm_report rep;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_LIMIT);
    cr_expect_eq(memcmp(p0, nb_net_params(pb.net), P * sizeof *p0), 0);
    o.max_bytes = need;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_OK);
    cr_expect_eq(rep.bytes, need);
    /* the default limit, 256 MiB, refuses 6000 parameters (2 x 6000^2 doubles = 576 MB) */
    const nb_layer_spec big[] = {{2000, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *bn;
    cr_assert_eq(nb_net_create(&bn, 1, big, 2, 1), NB_OK);
    float xs[10], ts[10];
    for (int i = 0; i < 10; i++)
        xs[i] = ts[i] = (float)i;
    nb_tensor x1c = nb_tensor_view(xs, 10, 1), t1 = nb_tensor_view(ts, 10, 1);
    cr_expect_eq(nb_net_train_lm(bn, &x1c, &t1, NULL, NULL), NB_ERR_LIMIT);
    cr_expect_eq(nb_lm_workspace_bytes(NULL, 10, 0), 0);
    nb_net_free(bn);
    free(p0);
    fb_free(&pb);
}

Test(lm, bad_arguments_leave_the_network_untouched)
{
    fb_problem pb = fb_surrogate(50, 1);
    size_t P = nb_net_num_params(pb.net);
    float *p0 = fb_params_copy(pb.net);
    nb_lm_opts d = nb_lm_opts_default(), o;
    nb_lm_report rep;
    cr_expect_eq(nb_net_train_lm(NULL, &pb.X, &pb.T, &d, &rep), NB_ERR_NULL);
    cr_expect_eq(nb_net_train_lm(pb.net, NULL, &pb.T, &d, &rep), NB_ERR_NULL);
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, NULL, &d, &rep), NB_ERR_NULL);
    nb_tensor bad = pb.X;
    bad.cols = 3;
    cr_expect_eq(nb_net_train_lm(pb.net, &bad, &pb.T, &d, &rep), NB_ERR_SHAPE);
    bad = pb.T;
    bad.rows = 49;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &bad, &d, &rep), NB_ERR_SHAPE);
    bad.data = NULL;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &bad, &d, &rep), NB_ERR_NULL);
    struct { const char *what; double *field; double value; } cases[] = {
        {"mu 0", &o.mu, 0.0}, {"mu NaN", &o.mu, NAN}, {"mu -1", &o.mu, -1.0},
        {"mu_dec 1", &o.mu_dec, 1.0}, {"mu_dec 0", &o.mu_dec, 0.0},
        {"mu_inc 1", &o.mu_inc, 1.0}, {"mu_inc inf", &o.mu_inc, INFINITY},
        {"mu_max inf", &o.mu_max, INFINITY}, {"mu_max 0", &o.mu_max, 0.0},
        {"goal -1", &o.goal, -1.0}, {"goal NaN", &o.goal, NAN},
        {"min_grad -1", &o.min_grad, -1.0}, {"min_grad inf", &o.min_grad, INFINITY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o = d;
        *cases[i].field = cases[i].value;
        cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG, "%s",
                     cases[i].what);
    }
    o = d;
    o.iterations = 0;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG);
    o = d;
    o.max_fail = 0;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_ARG);
    o = d;
    o.X_val = &pb.X;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_NULL);
    nb_tensor tv = nb_tensor_rows(&pb.T, 0, 10);
    o.T_val = &tv;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &o, &rep), NB_ERR_SHAPE);
    cr_expect_eq(memcmp(p0, nb_net_params(pb.net), P * sizeof *p0), 0);

    /* a NaN target: non-finite loss at the start, network untouched */
    pb.T.data[3] = NAN;
    cr_expect_eq(nb_net_train_lm(pb.net, &pb.X, &pb.T, &d, &rep), NB_ERR_NONFINITE);
    cr_expect_eq(memcmp(p0, nb_net_params(pb.net), P * sizeof *p0), 0);
    free(p0);
    fb_free(&pb);
}
