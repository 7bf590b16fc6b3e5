/* The trainer and the one step path (private side: src/train/trainer.h): the non-finite stop
   on the fused and the non-fused path, the hook point, and slices of the global batch.  The
   slices are checked as MPI will use them: three threads, each a "rank" training its own copy
   of the network on its slice of every batch, with a hook that sums the gradients across
   them; the result must match one process training on the whole batches. */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "train/trainer.h"

TestSuite(trainer, .fini = tc_leak_check);

static bool all_finite(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return false;
    return true;
}

/* Two one-hot classes, a tanh hidden layer, identity outputs and BCE at lr 10: a diverging
   run (`--layers 16:tanh,2 --loss bce --lr 10`).  Outputs leave (0, 1), BCE's
   clamped gradient explodes and the parameters overflow within a few steps. */
enum { BR = 64, BIN = 4, BOUT = 2 };
static void bce_data(float *x, float *t)
{
    nb_rng r;
    nb_rng_seed(&r, 11);
    tc_fill_uniform(&r, x, BR * BIN, -3, 3);
    for (size_t i = 0; i < BR; i++) {
        t[i * BOUT] = x[i * BIN] + x[i * BIN + 1] > 0;
        t[i * BOUT + 1] = 1.0f - t[i * BOUT];
    }
}
static const nb_layer_spec bce_layers[] = {{16, NB_ACT_TANH, 0}, {BOUT, NB_ACT_IDENTITY, 0}};

/* The gradient path of one process: a step hook that leaves the sums as they are makes the
   step write the gradient and update it by plain SGD (not fused). */
static nb_status pass(void *ctx, float *g, size_t n, size_t local, size_t global, double *loss)
{
    (void)ctx, (void)g, (void)n, (void)local, (void)global, (void)loss;
    return NB_OK;
}
static const nb__run_hooks gradient_path = {0, 1, 0, {pass, NULL, NULL}};

static void nonfinite_stop(bool fused)
{
    float x[BR * BIN], t[BR * BOUT];
    bce_data(x, t);
    nb_tensor X = nb_tensor_view(x, BR, BIN), T = nb_tensor_view(t, BR, BOUT);
    nb_net *net = tc_net(BIN, bce_layers, 2, 3);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_BCE;
    o.batch_size = 8;
    o.epochs = 200;
    o.lr = 10.0f;
    nb_train_report rep = {99, 99, 0.0, true, 99, 0.0, true};
    nb_status st = nb__trainer_run_with(tr, &X, &T, &o, fused ? NULL : &gradient_path, &rep);
    cr_assert_eq(st, NB_ERR_NONFINITE, "%s path: %s", fused ? "fused" : "plain",
                 nb_status_str(st));
    cr_assert(all_finite(nb_net_params(net), nb_net_num_params(net)),
              "a non-finite parameter left the loop");
    cr_assert_lt(rep.epochs_run, o.epochs);
    cr_assert_geq(rep.steps, rep.epochs_run * (BR / 8));
    cr_assert_lt(rep.steps, (rep.epochs_run + 1) * (BR / 8));
    cr_assert_not(rep.stopped_early);
    /* the network still predicts finite values */
    float y[BR * BOUT];
    nb_tensor Y = nb_tensor_view(y, BR, BOUT);
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    cr_assert(all_finite(y, BR * BOUT));
    nb_trainer_free(tr);
    nb_net_free(net);
}

Test(trainer, nonfinite_stop_fused_path) { nonfinite_stop(true); }
Test(trainer, nonfinite_stop_gradient_path) { nonfinite_stop(false); }

Test(trainer, nb_net_train_stops_on_nonfinite_too)
{
    float x[BR * BIN], t[BR * BOUT];
    bce_data(x, t);
    nb_tensor X = nb_tensor_view(x, BR, BIN), T = nb_tensor_view(t, BR, BOUT);
    nb_net *net = tc_net(BIN, bce_layers, 2, 3);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_BCE;
    o.epochs = 50;
    o.lr = 10.0f;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_ERR_NONFINITE);
    cr_assert(all_finite(nb_net_params(net), nb_net_num_params(net)));
    nb_net_free(net);
}

/* The non-fused path stops before the update: a non-finite target makes the first step's
   loss NaN, and nothing moves. */
Test(trainer, nonfinite_stop_happens_before_the_update)
{
    float x[BR * BIN], t[BR * BOUT];
    bce_data(x, t);
    t[5] = NAN;
    nb_tensor X = nb_tensor_view(x, BR, BIN), T = nb_tensor_view(t, BR, BOUT);
    for (int fused = 0; fused < 2; fused++) {
        nb_net *net = tc_net(BIN, bce_layers, 2, 3);
        float *p0 = tc_fdup(nb_net_params(net), nb_net_num_params(net));
        nb_trainer *tr;
        cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
        float lr = 0.1f;
        nb_train_opts o = nb_train_opts_default();
        o.loss = NB_LOSS_MSE;
        o.batch_size = BR;
        o.shuffle = false;
        o.lr = lr;
        nb_train_report rep;
        cr_assert_eq(nb__trainer_run_with(tr, &X, &T, &o, fused ? NULL : &gradient_path, &rep),
                     NB_ERR_NONFINITE);
        cr_assert_eq(rep.steps, 0);
        cr_assert_eq(rep.epochs_run, 0);
        cr_assert_eq(memcmp(p0, nb_net_params(net), nb_net_num_params(net) * sizeof(float)), 0,
                     "%s path updated on a NaN", fused ? "fused" : "plain");
        free(p0);
        nb_trainer_free(tr);
        nb_net_free(net);
    }
}

/* ---- the hook and the slices -------------------------------------------------------------- */

enum { R = 22, IN = 5, OUT = 3, RANKS = 3 };
static const nb_layer_spec layers[] = {{7, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};
/* the same with dropout: a slice's masks are its rows' part of the whole batch's masks */
static const nb_layer_spec drop_layers[] = {{7, NB_ACT_TANH, 0.4f}, {OUT, NB_ACT_IDENTITY, 0}};
static const nb_layer_spec *slice_layers = layers;

typedef struct {
    pthread_barrier_t barrier;
    double *sum;   /* n_params gradient sums, then the loss */
    bool shuffle;
    size_t calls[RANKS];
    size_t rows_seen[RANKS];
} world;

typedef struct {
    world *w;
    int rank;
    nb_net *net;
    const float *x, *t;
    nb_status st;
} rank_arg;

/* An allreduce by hand: each rank adds its share of the global mean (the step hands it the
   local sum / global rows), everyone waits, reads the sum, waits again before the next step
   reuses the buffer. */
static nb_status allreduce(void *ctx, float *grads, size_t n, size_t local, size_t global,
                           double *loss)
{
    rank_arg *a = ctx;
    world *w = a->w;
    (void)global;
    w->calls[a->rank]++;
    w->rows_seen[a->rank] += local;
    pthread_barrier_wait(&w->barrier);
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n; i++)
        w->sum[i] += grads[i];
    w->sum[n] += *loss;
    pthread_mutex_unlock(&mu);
    pthread_barrier_wait(&w->barrier);
    for (size_t i = 0; i < n; i++)
        grads[i] = (float)w->sum[i];
    *loss = w->sum[n];
    pthread_barrier_wait(&w->barrier);
    if (a->rank == 0)
        memset(w->sum, 0, (n + 1) * sizeof *w->sum);
    pthread_barrier_wait(&w->barrier);
    return NB_OK;
}

static nb_train_opts slice_opts(bool shuffle)
{
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.batch_size = 7; /* 22 rows: 7, 7, 7 and a last batch of 1, which two ranks do not see */
    o.epochs = 3;
    o.lr = 0.3f;
    o.seed = 9;
    o.shuffle = shuffle;
    return o;
}

static void *run_rank(void *p)
{
    rank_arg *a = p;
    nb_trainer *tr;
    a->st = nb_trainer_create(&tr, a->net);
    if (a->st != NB_OK)
        return NULL;
    nb__run_hooks h = {(size_t)a->rank, RANKS, 0, {allreduce, NULL, a}};
    nb_train_opts o = slice_opts(a->w->shuffle);
    nb_tensor X = nb_tensor_view((float *)a->x, R, IN), T = nb_tensor_view((float *)a->t, R, OUT);
    a->st = nb__trainer_run_with(tr, &X, &T, &o, &h, NULL);
    nb_trainer_free(tr);
    return NULL;
}

static void slices_match_one_process(bool shuffle)
{
    float x[R * IN], t[R * OUT] = {0};
    nb_rng r;
    nb_rng_seed(&r, 4);
    tc_fill_uniform(&r, x, R * IN, -1, 1);
    for (size_t i = 0; i < R; i++)
        t[i * OUT + nb_rng_below(&r, OUT)] = 1.0f;
    nb_tensor X = nb_tensor_view(x, R, IN), T = nb_tensor_view(t, R, OUT);
    nb_set_threads(1);

    /* one process, whole batches, the gradient path (plain SGD after the step's hook point) */
    nb_net *ref = tc_net(IN, slice_layers, 2, 5);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, ref), NB_OK);
    nb_train_opts o = slice_opts(shuffle);
    nb_train_report rep;
    cr_assert_eq(nb__trainer_run_with(tr, &X, &T, &o, &gradient_path, &rep), NB_OK);
    nb_trainer_free(tr);

    size_t n = nb_net_num_params(ref);
    world w = {.shuffle = shuffle};
    cr_assert_eq(pthread_barrier_init(&w.barrier, NULL, RANKS), 0);
    w.sum = calloc(n + 1, sizeof *w.sum);
    cr_assert(w.sum);
    rank_arg args[RANKS];
    pthread_t th[RANKS];
    for (int k = 0; k < RANKS; k++) {
        args[k] = (rank_arg){&w, k, tc_net(IN, slice_layers, 2, 5), x, t, NB_OK};
        cr_assert_eq(pthread_create(&th[k], NULL, run_rank, &args[k]), 0);
    }
    for (int k = 0; k < RANKS; k++)
        pthread_join(th[k], NULL);
    pthread_barrier_destroy(&w.barrier);
    for (int k = 0; k < RANKS; k++) {
        cr_assert_eq(args[k].st, NB_OK, "rank %d: %s", k, nb_status_str(args[k].st));
        /* every rank calls the hook at every step, also with no rows of its own */
        cr_assert_eq(w.calls[k], rep.steps, "rank %d: %zu hook calls, %zu steps", k, w.calls[k],
                     rep.steps);
        double err = tc_rel_err_ff(nb_net_params(args[k].net), nb_net_params(ref), n);
        cr_assert_leq(err, 1e-6, "rank %d differs from one process by %g", k, err);
    }
    /* slices of 7 rows are 3, 2, 2; of the last row 1, 0, 0 */
    cr_assert_eq(w.rows_seen[0], 3 * (3 * 3 + 1));
    cr_assert_eq(w.rows_seen[1], 3 * (3 * 2));
    cr_assert_eq(w.rows_seen[2], 3 * (3 * 2));
    for (int k = 0; k < RANKS; k++)
        nb_net_free(args[k].net);
    nb_net_free(ref);
    free(w.sum);
}

Test(trainer, slices_with_a_summing_hook_match_one_process)
{
    slices_match_one_process(false);
    slices_match_one_process(true);
    slice_layers = drop_layers;
    slices_match_one_process(false);
    slices_match_one_process(true);
    slice_layers = layers;
}

Test(trainer, slices_are_contiguous_and_near_equal)
{
    size_t lo, hi, next = 0;
    for (size_t k = 0; k < 4; k++) {
        nb__slice(10, k, 4, &lo, &hi);
        cr_assert_eq(lo, next);
        cr_assert_eq(hi - lo, k < 2 ? 3u : 2u);
        next = hi;
    }
    cr_assert_eq(next, 10);
    nb_net *net = tc_net(IN, layers, 2, 5);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_train_opts o = slice_opts(false);
    nb__run_hooks bad[] = {{3, 3, 0, {pass, NULL, NULL}}, {0, 0, 0, {pass, NULL, NULL}}};
    cr_assert_eq(nb__trainer_begin_with(tr, R, &o, &bad[0]), NB_ERR_ARG);
    cr_assert_eq(nb__trainer_begin_with(tr, R, &o, &bad[1]), NB_ERR_ARG);
    cr_assert_eq(nb_trainer_create(NULL, net), NB_ERR_NULL);
    nb_trainer *t2 = NULL;
    cr_assert_eq(nb_trainer_create(&t2, NULL), NB_ERR_NULL);
    cr_assert_null(t2);
    nb_trainer_free(tr);
    nb_trainer_free(NULL);
    nb_net_free(net);
}

/* A hook that does nothing (one process) gives the fused path's result up to rounding: the
   same step, with the gradient written out. */
static nb_status no_op(void *ctx, float *g, size_t n, size_t local, size_t global, double *loss)
{
    size_t *calls = ctx;
    (*calls)++;
    (void)g, (void)n, (void)loss;
    return local == global ? NB_OK : NB_ERR_STATE;
}

Test(trainer, hook_path_matches_fused_path)
{
    float x[R * IN], t[R * OUT] = {0};
    nb_rng r;
    nb_rng_seed(&r, 4);
    tc_fill_uniform(&r, x, R * IN, -1, 1);
    for (size_t i = 0; i < R; i++)
        t[i * OUT + nb_rng_below(&r, OUT)] = 1.0f;
    nb_tensor X = nb_tensor_view(x, R, IN), T = nb_tensor_view(t, R, OUT);
    nb_net *a = tc_net(IN, layers, 2, 5), *b = tc_net(IN, layers, 2, 5);
    nb_train_opts o = slice_opts(true);
    nb_train_report ra, rb;
    cr_assert_eq(nb_net_train(a, &X, &T, &o, &ra), NB_OK);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, b), NB_OK);
    size_t calls = 0;
    nb__run_hooks h = {0, 1, 0, {no_op, NULL, &calls}};
    cr_assert_eq(nb__trainer_run_with(tr, &X, &T, &o, &h, &rb), NB_OK);
    cr_assert_eq(calls, rb.steps);
    cr_assert_eq(ra.steps, rb.steps);
    cr_assert_float_eq(ra.last_loss, rb.last_loss, 1e-5 * fabs(ra.last_loss));
    double err = tc_rel_err_ff(nb_net_params(a), nb_net_params(b), nb_net_num_params(a));
    cr_assert_leq(err, 1e-5, "hook path differs from the fused path by %g", err);
    nb_trainer_free(tr);
    nb_net_free(a);
    nb_net_free(b);
}
