/* nablas-bench-fullbatch: the full-batch trainers (Levenberg–Marquardt, L-BFGS) against
   first-order training.
     W4  house prices, 4-8-4-1 linear: iterations and time to reach the least-squares optimum
         (LAPACKE_dgels) within 1e-4 relative: LM vs full-batch gradient descent (lr 0.01) vs
         Adam (lr 1e-3, full batch).
     W5  sin(x) cos(y) on 2,000 points (500 more for test), 2-20-20-1 tanh: final training and
         test MSE of LM, L-BFGS (strong Wolfe) and Adam (lr 1e-3, batch 32) after the same
         wall-clock budget each.
     LM cost: wall time per LM iteration on W5 against the time of its own dsyrk (J^T J over
         all rows, in the chunks LM uses) and Cholesky (dposv) calls, timed alone.
   Adam is the library's (nb_optim, torch.optim.Adam's defaults: betas 0.9/0.999, eps 1e-8) over
   nb_net_forward/nb_net_backward, batches in a fixed order.
   Options: --quick (short budgets), --budget S1,S2,... (W5's budgets in whole seconds, default
   2,10), --seed N, --cpu-time (budgets and times in process CPU seconds, all threads
   together, instead of wall seconds: steadier on a shared machine). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "house_data.h"
#include "nablas.h"

/* The clock of every time and budget here: wall time, or with --cpu-time the process's CPU time
   (all threads), which a shared, overloaded machine disturbs far less. */
static bool use_cpu_time;

static double now(void)
{
    if (!use_cpu_time)
        return bu_now();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- Adam through the library's optimizer API --------------------------------------------- */

typedef struct adam {
    nb_optim *opt;
} adam;

static void adam_step(adam *a, float *p, const float *g)
{
    nb_status s = nb_optim_step(a->opt, p, g);
    if (s) {
        fprintf(stderr, "nablas-bench-fullbatch: Adam step: %s\n", nb_status_str(s));
        exit(1);
    }
}

/* One epoch of Adam over X, T in batches (no shuffling: a fixed pass order); mean loss. */
static double adam_epoch(adam *a, nb_net *net, const nb_tensor *X, const nb_tensor *T, size_t bs)
{
    double sum = 0.0;
    for (size_t s = 0; s < X->rows; s += bs) {
        size_t n = X->rows - s < bs ? X->rows - s : bs;
        nb_tensor x = nb_tensor_rows(X, s, n), t = nb_tensor_rows(T, s, n);
        float loss;
        if (nb_net_forward(net, &x, NULL) || nb_net_backward(net, NB_LOSS_MSE, &t, &loss))
            return NAN;
        adam_step(a, nb_net_params(net), nb_net_grads(net));
        sum += loss * (double)n;
    }
    return sum / (double)X->rows;
}

static adam adam_new(size_t n, double lr)
{
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_ADAM); /* torch.optim.Adam's defaults */
    o.lr = (float)lr;
    adam a = {NULL};
    nb_status s = nb_optim_create(&a.opt, n, &o);
    if (s) {
        fprintf(stderr, "nablas-bench-fullbatch: Adam: %s\n", nb_status_str(s));
        exit(1);
    }
    return a;
}

static void adam_free(adam *a) { nb_optim_free(a->opt); }

static double mse(nb_net *net, const nb_tensor *X, const nb_tensor *T)
{
    nb_eval ev;
    return nb_net_evaluate(net, X, T, NB_LOSS_MSE, &ev) == NB_OK ? ev.loss : NAN;
}

static void die(const char *what, nb_status s)
{
    fprintf(stderr, "nablas-bench-fullbatch: %s: %s\n", what, nb_status_str(s));
    exit(1);
}

/* ---- W4 ------------------------------------------------------------------------------------- */

typedef struct reach {
    double goal, t0, t_reach, limit_s;
    size_t iters;
} reach;

static int reach_goal(const nb_epoch_info *e, void *user)
{
    reach *r = user;
    if (e->loss <= r->goal && !r->iters) {
        r->iters = e->epoch;
        r->t_reach = now() - r->t0;
        return 1;
    }
    return now() - r->t0 > r->limit_s;
}

static void w4(uint64_t seed, double limit_s)
{
    enum { N = 1000 };
    static float X[N * HOUSE_FEATURES], y[N];
    house_generate(N, seed, X, y);
    double opt = house_lstsq_mse(N, HOUSE_FEATURES, X, y), goal = opt * (1.0 + 1e-4);
    nb_tensor Xt = nb_tensor_view(X, N, HOUSE_FEATURES), Tt = nb_tensor_view(y, N, 1);
    const nb_layer_spec L[] = {{8, NB_ACT_IDENTITY, 0}, {4, NB_ACT_IDENTITY, 0}, {1, NB_ACT_IDENTITY, 0}};
    printf("W4 house prices, 4-8-4-1 linear, %d rows: least-squares optimum MSE %.6f (dgels); "
           "goal MSE <= %.8f (1e-4 relative)\n", N, opt, goal);
    printf("  %-28s %12s %12s %14s\n", "trainer", "iterations", "time [ms]", "final MSE");

    /* LM: median of REP runs from the same start, after one warm-up run */
    enum { REP = 5 };
    double tl[REP];
    nb_net *net = NULL;
    nb_status s;
    nb_lm_report rep;
    for (int k = -1; k < REP; k++) {
        nb_net_free(net);
        if ((s = nb_net_create(&net, HOUSE_FEATURES, L, 3, seed)))
            die("network", s);
        nb_lm_opts o = nb_lm_opts_default();
        o.goal = goal;
        double t0 = now();
        if ((s = nb_net_train_lm(net, &Xt, &Tt, &o, &rep)))
            die("LM", s);
        if (k >= 0)
            tl[k] = now() - t0;
    }
    double t_lm = bu_median(tl, REP);
    printf("  %-28s %12zu %12.2f %14.8f  (%s; median of %d)\n", "Levenberg-Marquardt",
           rep.iterations, t_lm * 1e3, mse(net, &Xt, &Tt), nb_fb_stop_name(rep.stop), REP);
    nb_net_free(net);

    /* gradient descent, lr 0.01 full batch (the demo's), until the goal or the time limit */
    if ((s = nb_net_create(&net, HOUSE_FEATURES, L, 3, seed)))
        die("network", s);
    nb_train_opts t = nb_train_opts_default();
    t.loss = NB_LOSS_MSE;
    t.batch_size = N;
    t.shuffle = false;
    t.lr = 0.01f;
    t.epochs = 100000000;
    reach r = {goal, now(), 0, limit_s, 0};
    t.on_epoch = reach_goal;
    t.user = &r;
    nb_train_report tr;
    if ((s = nb_net_train(net, &Xt, &Tt, &t, &tr)))
        die("GD", s);
    if (r.iters)
        printf("  %-28s %12zu %12.2f %14.8f  (%.2fx LM's time)\n", "gradient descent lr 0.01",
               r.iters, r.t_reach * 1e3, mse(net, &Xt, &Tt), r.t_reach / t_lm);
    else
        printf("  %-28s %12s %12.2f %14.8f  (goal not reached: %zu epochs in %.1f s)\n",
               "gradient descent lr 0.01", "-", (now() - r.t0) * 1e3, mse(net, &Xt, &Tt),
               tr.epochs_run, limit_s);
    nb_net_free(net);

    /* Adam lr 1e-3, full batch (nb_optim) */
    if ((s = nb_net_create(&net, HOUSE_FEATURES, L, 3, seed)))
        die("network", s);
    adam a = adam_new(nb_net_num_params(net), 1e-3);
    size_t it = 0, reached = 0;
    double ta = now(), t_reach = 0;
    while (now() - ta < limit_s) {
        adam_epoch(&a, net, &Xt, &Tt, N);
        it++;
        if (mse(net, &Xt, &Tt) <= goal) {
            reached = it;
            t_reach = now() - ta;
            break;
        }
    }
    if (reached)
        printf("  %-28s %12zu %12.2f %14.8f  (%.2fx LM's time)\n", "Adam lr 1e-3 (nb_optim)",
               reached, t_reach * 1e3, mse(net, &Xt, &Tt), t_reach / t_lm);
    else
        printf("  %-28s %12s %12.2f %14.8f  (goal not reached: %zu steps in %.1f s)\n",
               "Adam lr 1e-3 (nb_optim)", "-", (now() - ta) * 1e3, mse(net, &Xt, &Tt), it,
               limit_s);
    adam_free(&a);
    nb_net_free(net);
}

/* ---- W5 ------------------------------------------------------------------------------------- */

static void surrogate(float *X, float *T, size_t rows, uint64_t seed)
{
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        double x = 6.0 * nb_rng_uniform(&r) - 3.0, y = 6.0 * nb_rng_uniform(&r) - 3.0;
        X[2 * i] = (float)x;
        X[2 * i + 1] = (float)y;
        T[i] = (float)(sin(x) * cos(y));
    }
}

typedef struct budget {
    double t0, limit;
    size_t iters;
} budget;

static int within_budget(const nb_fb_info *info, void *user)
{
    budget *b = user;
    b->iters = info->iteration;
    return now() - b->t0 >= b->limit;
}

static void w5(uint64_t seed, double limit)
{
    enum { NTR = 2000, NTE = 500 };
    static float Xtr[NTR * 2], Ttr[NTR], Xte[NTE * 2], Tte[NTE];
    surrogate(Xtr, Ttr, NTR, 501);
    surrogate(Xte, Tte, NTE, 502);
    nb_tensor Xt = nb_tensor_view(Xtr, NTR, 2), Tt = nb_tensor_view(Ttr, NTR, 1);
    nb_tensor Xs = nb_tensor_view(Xte, NTE, 2), Ts = nb_tensor_view(Tte, NTE, 1);
    const nb_layer_spec L[] = {{20, NB_ACT_TANH, 0}, {20, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    printf("\nW5 sin(x) cos(y), 2-20-20-1 tanh, %d training / %d test rows, %.1f s per trainer\n",
           NTR, NTE, limit);
    printf("  %-34s %10s %14s %14s  %s\n", "trainer", "iters", "train MSE", "test MSE", "stop");
    nb_status s;
    nb_net *net;
    double results[3][2];

    if ((s = nb_net_create(&net, 2, L, 3, seed)))
        die("network", s);
    nb_lm_opts o = nb_lm_opts_default();
    o.iterations = 100000;
    budget b = {now(), limit, 0};
    o.on_iteration = within_budget;
    o.user = &b;
    nb_lm_report rep;
    if ((s = nb_net_train_lm(net, &Xt, &Tt, &o, &rep)))
        die("LM", s);
    results[0][0] = mse(net, &Xt, &Tt), results[0][1] = mse(net, &Xs, &Ts);
    printf("  %-34s %10zu %14.3e %14.3e  %s (%.2f s)\n", "Levenberg-Marquardt", rep.iterations,
           results[0][0], results[0][1], nb_fb_stop_name(rep.stop), now() - b.t0);
    nb_net_free(net);

    if ((s = nb_net_create(&net, 2, L, 3, seed)))
        die("network", s);
    nb_lbfgs_opts lo = nb_lbfgs_opts_default();
    lo.iterations = 1000000;
    lo.max_eval = 10000000;
    lo.line_search = NB_LINE_SEARCH_STRONG_WOLFE;
    b = (budget){now(), limit, 0};
    lo.on_iteration = within_budget;
    lo.user = &b;
    nb_lbfgs_report lr;
    if ((s = nb_net_train_lbfgs(net, &Xt, &Tt, &lo, &lr)))
        die("L-BFGS", s);
    results[1][0] = mse(net, &Xt, &Tt), results[1][1] = mse(net, &Xs, &Ts);
    printf("  %-34s %10zu %14.3e %14.3e  %s (%.2f s)\n", "L-BFGS (strong Wolfe)", lr.iterations,
           results[1][0], results[1][1], nb_fb_stop_name(lr.stop), now() - b.t0);
    nb_net_free(net);

    if ((s = nb_net_create(&net, 2, L, 3, seed)))
        die("network", s);
    adam a = adam_new(nb_net_num_params(net), 1e-3);
    size_t epochs = 0;
    double t0 = now(), best_test = INFINITY;
    while (now() - t0 < limit) {
        adam_epoch(&a, net, &Xt, &Tt, 32);
        epochs++;
        best_test = fmin(best_test, mse(net, &Xs, &Ts));
    }
    results[2][0] = mse(net, &Xt, &Tt), results[2][1] = mse(net, &Xs, &Ts);
    printf("  %-34s %10zu %14.3e %14.3e  budget (%.2f s; best test MSE seen %.3e)\n",
           "Adam lr 1e-3 batch 32 (nb_optim)", epochs, results[2][0], results[2][1],
           now() - t0, best_test);
    adam_free(&a);
    nb_net_free(net);
    printf("  test MSE ratios at equal time: Adam / LM = %.1f, Adam / L-BFGS = %.1f\n",
           results[2][1] / results[0][1], results[2][1] / results[1][1]);
}

/* ---- LM's cost against its own dsyrk + Cholesky ------------------------------------------- */

static void lm_cost(uint64_t seed, size_t iters)
{
    enum { NTR = 2000 };
    static float Xtr[NTR * 2], Ttr[NTR];
    surrogate(Xtr, Ttr, NTR, 501);
    nb_tensor Xt = nb_tensor_view(Xtr, NTR, 2), Tt = nb_tensor_view(Ttr, NTR, 1);
    const nb_layer_spec L[] = {{20, NB_ACT_TANH, 0}, {20, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    nb_status s = nb_net_create(&net, 2, L, 3, seed);
    if (s)
        die("network", s);
    size_t P = nb_net_num_params(net);
    nb_lm_opts o = nb_lm_opts_default();
    o.iterations = iters;
    o.min_grad = 0.0;
    nb_lm_report rep;
    double t0 = now();
    if ((s = nb_net_train_lm(net, &Xt, &Tt, &o, &rep)))
        die("LM", s);
    double t_lm = now() - t0;
    nb_net_free(net);

    /* the same BLAS/LAPACK calls alone: J^T J over all rows in LM's chunks, one dposv */
    size_t chunk = 4u << 20;
    chunk /= 8 * P;
    chunk = chunk < 32 ? 32 : chunk > 4096 ? 4096 : chunk;
    chunk = chunk < NTR ? chunk : NTR;
    double *J = malloc(chunk * P * sizeof *J), *H = calloc(P * P, sizeof *H);
    double *A = malloc(P * P * sizeof *A), *bvec = malloc(P * sizeof *bvec);
    if (!J || !H || !A || !bvec)
        exit(1);
    for (size_t i = 0; i < chunk * P; i++)
        J[i] = sin((double)i);
    enum { REP = 5 };
    double ts[REP], tc[REP];
    for (int r = 0; r < REP; r++) {
        double t = now();
        for (size_t s0 = 0; s0 < NTR; s0 += chunk) {
            size_t n = NTR - s0 < chunk ? NTR - s0 : chunk;
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)P, (int)n, 1.0, J, (int)P,
                        1.0, H, (int)P);
        }
        ts[r] = now() - t;
        memcpy(A, H, P * P * sizeof *A);
        for (size_t i = 0; i < P; i++) {
            A[i * P + i] += 1.0;
            bvec[i] = 1.0;
        }
        t = now();
        LAPACKE_dposv_work(LAPACK_COL_MAJOR, 'L', (lapack_int)P, 1, A, (lapack_int)P, bvec,
                           (lapack_int)P);
        tc[r] = now() - t;
    }
    double t_syrk = bu_median(ts, REP), t_chol = bu_median(tc, REP);
    double per_it = t_lm / (double)rep.iterations;
    double solves = (double)rep.solves / (double)rep.iterations;
    /* per iteration: one J^T J (plus one for the final point over the run) and `solves` solves */
    double own = t_syrk * (double)(rep.iterations + 1) / (double)rep.iterations + solves * t_chol;
    printf("\nLM cost on W5 (P = %zu parameters, %d rows, chunks of %zu rows), %zu iterations:\n",
           P, NTR, chunk, rep.iterations);
    printf("  wall time per iteration %.2f ms; dsyrk J^T J %.2f ms, dposv %.2f ms x %.2f solves"
           " per iteration = %.2f ms\n  ratio wall / (dsyrk + Cholesky) = %.2f\n", per_it * 1e3,
           t_syrk * 1e3, t_chol * 1e3, solves, own * 1e3, per_it / own);
    free(J);
    free(H);
    free(A);
    free(bvec);
}

int main(int argc, char **argv)
{
    const char *budgets = "2,10";
    double w4_limit = 10.0;
    size_t cost_iters = 50;
    uint64_t seed = 42;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            budgets = "1";
            w4_limit = 1.0;
            cost_iters = 10;
        } else if (!strcmp(argv[i], "--budget") && i + 1 < argc) {
            budgets = argv[++i];
        } else if (!strcmp(argv[i], "--cpu-time")) {
            use_cpu_time = true;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: nablas-bench-fullbatch [--quick] [--budget S1,S2,...] "
                            "[--seed N] [--cpu-time]\n");
            return 2;
        }
    }
    bu_print_header(stdout, "nablas-bench-fullbatch");
    printf("times and budgets: %s\n", use_cpu_time ? "process CPU seconds (all threads)"
                                                     : "wall seconds");
    w4(seed, w4_limit);
    int b[8];
    size_t nb = bu_parse_int_list(budgets, b, 8);
    if (!nb) {
        fprintf(stderr, "nablas-bench-fullbatch: --budget takes whole seconds, e.g. 2,10\n");
        return 2;
    }
    for (size_t i = 0; i < nb; i++)
        w5(seed, (double)b[i]);
    lm_cost(seed, cost_iters);
    return 0;
}
