/* The full-batch trainers allocate their workspace before the first iteration and nothing
   during the iterations: allocations are counted from the callback of iteration 1 to that of
   iteration 4 (three whole iterations: Jacobian passes, dsyrk, Cholesky solves and trial
   losses for LM; directions, line searches and closures for L-BFGS).  One BLAS thread, so
   OpenBLAS has nothing of its own to allocate. */
#include <criterion/criterion.h>
#include <math.h>

#include "alloc_count.h"
#include "nablas.h"

typedef struct window {
    size_t from, to, count;
    bool done;
} window;

static int count_iterations(const nb_fb_info *info, void *user)
{
    window *w = user;
    if (info->iteration == w->from)
        alloc_count_start();
    if (info->iteration == w->to) {
        w->count = alloc_count_stop();
        w->done = true;
    }
    return 0;
}

static void problem(nb_net **net, nb_tensor *X, nb_tensor *T, size_t rows)
{
    const nb_layer_spec L[] = {{12, NB_ACT_TANH, 0}, {12, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_net_create(net, 2, L, 3, 5), NB_OK);
    cr_assert_eq(nb_tensor_alloc(X, rows, 2), NB_OK);
    cr_assert_eq(nb_tensor_alloc(T, rows, 2), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, 9);
    for (size_t i = 0; i < rows; i++) {
        double x = 6 * nb_rng_uniform(&r) - 3, y = 6 * nb_rng_uniform(&r) - 3;
        X->data[2 * i] = (float)x;
        X->data[2 * i + 1] = (float)y;
        T->data[2 * i] = (float)(sin(x) * cos(y));
        T->data[2 * i + 1] = (float)(x * y / 9);
    }
}

Test(alloc, lm_iterations)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    nb_net *net;
    nb_tensor X, T;
    problem(&net, &X, &T, 300);
    nb_lm_opts o = nb_lm_opts_default();
    o.iterations = 6;
    o.chunk_rows = 64; /* several chunks, a partial last one */
    o.X_val = &X;      /* the validation pass too */
    o.T_val = &T;
    window w = {1, 4, 0, false};
    o.on_iteration = count_iterations;
    o.user = &w;
    nb_lm_report rep;
    cr_assert_eq(nb_net_train_lm(net, &X, &T, &o, &rep), NB_OK);
    cr_assert(w.done, "stopped after %zu iterations (%s)", rep.iterations, nb_fb_stop_name(rep.stop));
    cr_expect_eq(w.count, 0, "%zu allocations in 3 LM iterations", w.count);
    cr_expect_geq(rep.solves, 4);
    nb_net_free(net);
    nb_tensor_free(&X);
    nb_tensor_free(&T);
}

Test(alloc, lbfgs_iterations)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    for (int ls = 0; ls < NB_LINE_SEARCH_COUNT; ls++) {
        nb_net *net;
        nb_tensor X, T;
        problem(&net, &X, &T, 300);
        nb_lbfgs_opts o = nb_lbfgs_opts_default();
        o.iterations = 6;
        o.history = 2; /* the ring of pairs wraps inside the window */
        o.line_search = (nb_line_search)ls;
        o.lr = ls ? 5.0 : 0.5;
        window w = {1, 4, 0, false};
        o.on_iteration = count_iterations;
        o.user = &w;
        nb_lbfgs_report rep;
        cr_assert_eq(nb_net_train_lbfgs(net, &X, &T, &o, &rep), NB_OK);
        cr_assert(w.done, "stopped after %zu iterations (%s)", rep.iterations,
                  nb_fb_stop_name(rep.stop));
        cr_expect_eq(w.count, 0, "%zu allocations in 3 L-BFGS iterations (line search %d)",
                     w.count, ls);
        nb_net_free(net);
        nb_tensor_free(&X);
        nb_tensor_free(&T);
    }
}
