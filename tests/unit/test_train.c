/* The training loop: the epoch callback, early stopping, the last partial batch, shuffling
   (a deterministic permutation per epoch) and the report. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common.h"

enum { IN = 3, OUT = 2, ROWS = 10 };
static const nb_layer_spec layers[] = {{5, NB_ACT_TANH, 0}, {OUT, NB_ACT_SIGMOID, 0}};

static void data(float *x, float *t, uint64_t seed)
{
    nb_rng r;
    nb_rng_seed(&r, seed);
    tc_fill_uniform(&r, x, ROWS * IN, -1, 1);
    tc_fill_uniform(&r, t, ROWS * OUT, 0, 1);
}

typedef struct {
    size_t calls, stop_at, epochs[16], steps[16], total;
    double loss[16];
} recorder;

static int record(const nb_epoch_info *info, void *user)
{
    recorder *r = user;
    if (r->calls < 16) {
        r->epochs[r->calls] = info->epoch;
        r->steps[r->calls] = info->steps;
        r->loss[r->calls] = info->loss;
    }
    r->total = info->epochs;
    r->calls++;
    return r->stop_at && info->epoch == r->stop_at;
}

TestSuite(train, .fini = tc_leak_check);

Test(train, callback_once_per_epoch_and_report)
{
    float x[ROWS * IN], t[ROWS * OUT];
    data(x, t, 1);
    nb_net *net = tc_net(IN, layers, 2, 1);
    nb_tensor X = nb_tensor_view(x, ROWS, IN), T = nb_tensor_view(t, ROWS, OUT);
    recorder rec = {0};
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 4; /* 10 rows: batches of 4, 4 and 2 */
    o.epochs = 5;
    o.lr = 0.5f;
    o.on_epoch = record;
    o.user = &rec;
    nb_train_report rep;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, &rep), NB_OK);
    cr_assert_eq(rec.calls, 5);
    cr_assert_eq(rec.total, 5);
    for (size_t e = 0; e < 5; e++) {
        cr_assert_eq(rec.epochs[e], e + 1, "call %zu reported epoch %zu", e, rec.epochs[e]);
        cr_assert_eq(rec.steps[e], 3 * (e + 1), "epoch %zu: %zu steps", e + 1, rec.steps[e]);
        cr_assert(isfinite(rec.loss[e]));
    }
    cr_assert_lt(rec.loss[4], rec.loss[0], "the loss did not fall");
    cr_assert_eq(rep.epochs_run, 5);
    cr_assert_eq(rep.steps, 15);
    cr_assert_eq(rep.stopped_early, false);
    cr_assert_eq(rep.last_loss, rec.loss[4]);
    /* report may be NULL, and so may the callback */
    o.on_epoch = NULL;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    nb_net_free(net);
}

Test(train, stops_early_when_the_callback_asks)
{
    float x[ROWS * IN], t[ROWS * OUT];
    data(x, t, 2);
    nb_net *net = tc_net(IN, layers, 2, 2);
    nb_tensor X = nb_tensor_view(x, ROWS, IN), T = nb_tensor_view(t, ROWS, OUT);
    recorder rec = {.stop_at = 2};
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 4;
    o.epochs = 6;
    o.on_epoch = record;
    o.user = &rec;
    nb_train_report rep;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, &rep), NB_OK);
    cr_assert_eq(rec.calls, 2);
    cr_assert_eq(rep.epochs_run, 2);
    cr_assert_eq(rep.steps, 6);
    cr_assert(rep.stopped_early);
    nb_net_free(net);
}

/* Without shuffling, an epoch is train steps on rows [0,4), [4,8) and the partial [8,10). */
Test(train, last_partial_batch_is_used)
{
    float x[ROWS * IN], t[ROWS * OUT];
    data(x, t, 3);
    nb_net *a = tc_net(IN, layers, 2, 3), *b = tc_net(IN, layers, 2, 3);
    nb_tensor X = nb_tensor_view(x, ROWS, IN), T = nb_tensor_view(t, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 4;
    o.epochs = 2;
    o.lr = 0.7f;
    o.shuffle = false;
    nb_train_report rep;
    cr_assert_eq(nb_net_train(a, &X, &T, &o, &rep), NB_OK);
    double last = 0;
    for (int e = 0; e < 2; e++) {
        last = 0;
        for (size_t start = 0; start < ROWS; start += 4) {
            size_t n = ROWS - start < 4 ? ROWS - start : 4;
            nb_tensor xb = nb_tensor_rows(&X, start, n), tb = nb_tensor_rows(&T, start, n);
            float loss;
            cr_assert_eq(nb_net_train_step(b, &xb, &tb, NB_LOSS_MSE, 0.7f, &loss), NB_OK);
            last += loss * (double)n;
        }
        last /= ROWS;
    }
    size_t np = nb_net_num_params(a);
    double e = tc_rel_err_ff(nb_net_params(a), nb_net_params(b), np);
    cr_assert_leq(e, 1e-6, "training differs from the manual batches by %g", e);
    cr_assert_float_eq(rep.last_loss, last, 1e-6 * last, "last_loss %g, batches give %g",
                       rep.last_loss, last);
    cr_assert_eq(rep.steps, 6);
    /* and the partial batch matters: dropping it gives other parameters */
    nb_net *c = tc_net(IN, layers, 2, 3);
    for (int ep = 0; ep < 2; ep++)
        for (size_t start = 0; start < 8; start += 4) {
            nb_tensor xb = nb_tensor_rows(&X, start, 4), tb = nb_tensor_rows(&T, start, 4);
            cr_assert_eq(nb_net_train_step(c, &xb, &tb, NB_LOSS_MSE, 0.7f, NULL), NB_OK);
        }
    cr_assert_gt(tc_rel_err_ff(nb_net_params(a), nb_net_params(c), np), 1e-4);
    nb_net_free(a);
    nb_net_free(b);
    nb_net_free(c);
}

/* A batch larger than the data is one full-batch step per epoch. */
Test(train, batch_larger_than_the_data)
{
    float x[ROWS * IN], t[ROWS * OUT];
    data(x, t, 4);
    nb_net *a = tc_net(IN, layers, 2, 4), *b = tc_net(IN, layers, 2, 4);
    nb_tensor X = nb_tensor_view(x, ROWS, IN), T = nb_tensor_view(t, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 1000;
    o.epochs = 3;
    o.lr = 0.2f;
    nb_train_report rep;
    cr_assert_eq(nb_net_train(a, &X, &T, &o, &rep), NB_OK);
    cr_assert_eq(rep.steps, 3);
    for (int e = 0; e < 3; e++)
        cr_assert_eq(nb_net_train_step(b, &X, &T, NB_LOSS_MSE, 0.2f, NULL), NB_OK);
    cr_assert_leq(tc_rel_err_ff(nb_net_params(a), nb_net_params(b), nb_net_num_params(a)), 1e-6);
    nb_net_free(a);
    nb_net_free(b);
}

/* Shuffling is a function of the seed: bit-identical runs, and a different seed (or none)
   gives a different trajectory. */
Test(train, shuffle_is_deterministic_from_the_seed)
{
    enum { R = 64 };
    float x[R * IN], t[R * OUT];
    nb_rng r;
    nb_rng_seed(&r, 5);
    tc_fill_uniform(&r, x, R * IN, -1, 1);
    tc_fill_uniform(&r, t, R * OUT, 0, 1);
    nb_tensor X = nb_tensor_view(x, R, IN), T = nb_tensor_view(t, R, OUT);
    nb_set_threads(1); /* bit-identity is promised for one BLAS thread */
    float *params[4];
    uint64_t seeds[4] = {7, 7, 8, 7};
    size_t bytes = 0;
    for (int k = 0; k < 4; k++) {
        nb_net *net = tc_net(IN, layers, 2, 5);
        nb_train_opts o = nb_train_opts_default();
        o.batch_size = 8;
        o.epochs = 4;
        o.lr = 0.5f;
        o.seed = seeds[k];
        o.shuffle = k != 3;
        cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
        params[k] = tc_fdup(nb_net_params(net), nb_net_num_params(net));
        bytes = nb_net_num_params(net) * sizeof(float);
        nb_net_free(net);
    }
    cr_assert_eq(memcmp(params[0], params[1], bytes), 0, "same seed, different parameters");
    cr_assert_neq(memcmp(params[0], params[2], bytes), 0, "seeds 7 and 8 train alike");
    cr_assert_neq(memcmp(params[0], params[3], bytes), 0, "shuffle on and off train alike");
    for (int k = 0; k < 4; k++)
        free(params[k]);
}

/* With lr = 0 nothing moves, so each epoch's mean batch loss must equal the loss over the
   whole data: every row is visited exactly once per epoch, whatever the permutation. */
Test(train, each_epoch_visits_every_row_once)
{
    enum { R = 37 };
    float x[R * IN], t[R * OUT];
    nb_rng r;
    nb_rng_seed(&r, 6);
    tc_fill_uniform(&r, x, R * IN, -1, 1);
    tc_fill_uniform(&r, t, R * OUT, 0, 1);
    /* make rows very different so that a duplicated or dropped row shows in the mean */
    for (size_t i = 0; i < R; i++)
        t[i * OUT] = (float)i / 4;
    nb_tensor X = nb_tensor_view(x, R, IN), T = nb_tensor_view(t, R, OUT);
    nb_net *net = tc_net(IN, layers, 2, 6);
    float *p0 = tc_fdup(nb_net_params(net), nb_net_num_params(net));
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_MSE, &ev), NB_OK);
    recorder rec = {0};
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 5;
    o.epochs = 6;
    o.lr = 0.0f;
    o.on_epoch = record;
    o.user = &rec;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    for (size_t e = 0; e < 6; e++)
        cr_assert_float_eq(rec.loss[e], ev.loss, 1e-6 * ev.loss, "epoch %zu: %.9g vs %.9g", e + 1,
                           rec.loss[e], ev.loss);
    cr_assert_eq(memcmp(p0, nb_net_params(net), nb_net_num_params(net) * sizeof(float)), 0,
                 "lr 0 moved the parameters");
    free(p0);
    nb_net_free(net);
}

/* Each epoch draws a new order.  The callback puts the parameters back at the start after
   every epoch, so epochs can differ only through their order of rows: without shuffling all
   epoch losses are equal, with it they differ. */
typedef struct {
    nb_net *net;
    const float *start;
    double loss[8];
    size_t n;
} rewinder;

static int rewind_params(const nb_epoch_info *info, void *user)
{
    rewinder *w = user;
    w->loss[w->n++] = info->loss;
    memcpy(nb_net_params(w->net), w->start, nb_net_num_params(w->net) * sizeof(float));
    return 0;
}

Test(train, reshuffles_every_epoch)
{
    enum { R = 24, EPOCHS = 6 };
    float x[R * IN], t[R * OUT];
    nb_rng r;
    nb_rng_seed(&r, 8);
    tc_fill_uniform(&r, x, R * IN, -1, 1);
    tc_fill_uniform(&r, t, R * OUT, 0, 1);
    nb_tensor X = nb_tensor_view(x, R, IN), T = nb_tensor_view(t, R, OUT);
    for (int shuffle = 0; shuffle < 2; shuffle++) {
        nb_net *net = tc_net(IN, layers, 2, 8);
        float *start = tc_fdup(nb_net_params(net), nb_net_num_params(net));
        rewinder w = {net, start, {0}, 0};
        nb_train_opts o = nb_train_opts_default();
        o.batch_size = 4;
        o.epochs = EPOCHS;
        o.lr = 1.0f;
        o.shuffle = shuffle;
        o.seed = 3;
        o.on_epoch = rewind_params;
        o.user = &w;
        cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
        cr_assert_eq(w.n, EPOCHS);
        for (size_t e = 1; e < EPOCHS; e++) {
            if (shuffle)
                cr_assert_neq(w.loss[e], w.loss[e - 1], "epochs %zu and %zu in the same order", e,
                              e + 1);
            else
                cr_assert_eq(w.loss[e], w.loss[0], "unshuffled epoch %zu differs", e + 1);
        }
        free(start);
        nb_net_free(net);
    }
}

Test(train, defaults_are_documented_values)
{
    nb_train_opts o = nb_train_opts_default();
    cr_assert_eq(o.loss, NB_LOSS_MSE);
    cr_assert_eq(o.batch_size, 32);
    cr_assert_eq(o.epochs, 10);
    cr_assert_float_eq(o.lr, 0.01f, 1e-9);
    cr_assert_eq(o.seed, 0);
    cr_assert(o.shuffle);
    cr_assert_null(o.on_epoch);
    cr_assert_null(o.user);
}
