/* The loop's stages through the public API (nb_trainer_begin / _step / _end_epoch / _end):
   a host code that gives the batches in the loop's order gets the parameters of
   nb_trainer_run bit for bit (memcmp), for the fused plain SGD, an optimizer with a schedule
   and clipping, dropout, validation with early stopping and restore_best, and shuffled rows
   gathered by the host; then every error path of the four functions. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

TestSuite(stages, .fini = tc_leak_check);

enum { R = 43, IN = 5, OUT = 3 }; /* 43 rows: batches of 8 end with a batch of 3 */

typedef struct data {
    float x[R * IN], t[R * OUT];
    nb_tensor X, T;
} data;

static void make_data(data *d)
{
    nb_rng r;
    nb_rng_seed(&r, 12);
    tc_fill_uniform(&r, d->x, R * IN, -1, 1);
    memset(d->t, 0, sizeof d->t);
    for (size_t i = 0; i < R; i++)
        d->t[i * OUT + nb_rng_below(&r, OUT)] = 1.0f;
    d->X = nb_tensor_view(d->x, R, IN);
    d->T = nb_tensor_view(d->t, R, OUT);
}

/* A host loop: the epoch's batches in row order, or gathered in the permutation
   nb_trainer_run draws (nb_rng_shuffle(perm, rows, seed, epoch - 1)). */
static nb_status host_run(nb_trainer *tr, const data *d, const nb_train_opts *o,
                          nb_train_report *rep)
{
    nb_status st = nb_trainer_begin(tr, R, o);
    if (st != NB_OK)
        return st;
    size_t perm[R];
    float xb[R * IN], tb[R * OUT];
    bool stop = false;
    for (size_t e = 1; !stop && st == NB_OK; e++) {
        if (o->shuffle)
            nb_rng_shuffle(perm, R, o->seed, e - 1);
        for (size_t s = 0; s < R && st == NB_OK; s += o->batch_size) {
            size_t n = R - s < o->batch_size ? R - s : o->batch_size;
            for (size_t i = 0; i < n; i++) {
                size_t row = o->shuffle ? perm[s + i] : s + i;
                memcpy(xb + i * IN, d->x + row * IN, IN * sizeof(float));
                memcpy(tb + i * OUT, d->t + row * OUT, OUT * sizeof(float));
            }
            nb_tensor x = nb_tensor_view(xb, n, IN), t = nb_tensor_view(tb, n, OUT);
            double loss;
            st = nb_trainer_step(tr, &x, &t, &loss);
        }
        nb_epoch_info info;
        if (st == NB_OK)
            st = nb_trainer_end_epoch(tr, &info, &stop);
        if (st == NB_OK) {
            cr_assert_eq(info.epoch, e);
            cr_assert_eq(isnan(info.val_loss), o->X_val == NULL);
            cr_assert_eq(isnan(info.val_accuracy), o->X_val == NULL);
        }
    }
    nb_status end = nb_trainer_end(tr, rep);
    return st != NB_OK ? st : end;
}

static void check_same(const nb_layer_spec *layers, const nb_train_opts *o)
{
    data d;
    make_data(&d);
    nb_net *a = tc_net(IN, layers, 2, 5), *b = tc_net(IN, layers, 2, 5);
    nb_trainer *ta, *tb;
    cr_assert_eq(nb_trainer_create(&ta, a), NB_OK);
    cr_assert_eq(nb_trainer_create(&tb, b), NB_OK);
    nb_train_report ra, rb;
    cr_assert_eq(nb_trainer_run(ta, &d.X, &d.T, o, &ra), NB_OK);
    cr_assert_eq(host_run(tb, &d, o, &rb), NB_OK);
    size_t n = nb_net_num_params(a);
    cr_assert_eq(memcmp(nb_net_params(a), nb_net_params(b), n * sizeof(float)), 0,
                 "the host loop's parameters differ from nb_trainer_run's");
    cr_assert_eq(ra.steps, rb.steps);
    cr_assert_eq(ra.epochs_run, rb.epochs_run);
    cr_assert_eq(memcmp(&ra.last_loss, &rb.last_loss, sizeof ra.last_loss), 0);
    cr_assert_eq(ra.best_epoch, rb.best_epoch);
    cr_assert_eq(ra.restored, rb.restored);
    nb_train_position pa, pb;
    cr_assert_eq(nb_trainer_position(ta, &pa), NB_OK);
    cr_assert_eq(nb_trainer_position(tb, &pb), NB_OK);
    cr_assert(pa.steps_done == pb.steps_done && pa.epochs_done == pb.epochs_done &&
              pa.stopped == pb.stopped);
    nb_trainer_free(ta);
    nb_trainer_free(tb);
    nb_net_free(a);
    nb_net_free(b);
}

static const nb_layer_spec plain_layers[] = {{9, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};
static const nb_layer_spec drop_layers[] = {{9, NB_ACT_RELU, 0.3f}, {OUT, NB_ACT_IDENTITY, 0}};

static nb_train_opts base_opts(void)
{
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.batch_size = 8;
    o.epochs = 4;
    o.lr = 0.2;
    o.seed = 3;
    o.shuffle = false;
    return o;
}

Test(stages, fused_sgd_matches_run)
{
    nb_train_opts o = base_opts();
    check_same(plain_layers, &o);
}

Test(stages, optimizer_schedule_clipping_match_run)
{
    nb_optim_opts adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    adam.lr = 0.02;
    nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
    s.warmup_steps = 3;
    nb_train_opts o = base_opts();
    o.optim = &adam;
    o.schedule = &s;
    o.clip_norm = 0.5;
    check_same(plain_layers, &o);
    o.optim = NULL; /* clipping alone: plain SGD through the gradient */
    check_same(plain_layers, &o);
}

Test(stages, dropout_matches_run)
{
    nb_train_opts o = base_opts();
    check_same(drop_layers, &o);
    nb_optim_opts mom = nb_optim_opts_default(NB_OPTIM_SGD);
    mom.lr = 0.1;
    mom.momentum = 0.9;
    o.optim = &mom;
    o.shuffle = true; /* the host gathers the rows in the loop's order */
    check_same(drop_layers, &o);
}

Test(stages, validation_and_early_stopping_match_run)
{
    data v;
    make_data(&v);
    for (size_t i = 0; i < R * IN; i++)
        v.x[i] = -v.x[i]; /* other rows: the validation loss soon rises */
    nb_train_opts o = base_opts();
    o.lr = 2.0;
    o.epochs = 30;
    o.X_val = &v.X;
    o.T_val = &v.T;
    o.patience = 2;
    o.restore_best = true;
    check_same(plain_layers, &o);
    o.patience = 0;
    o.restore_best = false;
    o.epochs = 3;
    check_same(plain_layers, &o);
}

/* ---- error paths ---- */

Test(stages, begin_checks_its_arguments)
{
    nb_net *net = tc_net(IN, plain_layers, 2, 5);
    float *p0 = tc_fdup(nb_net_params(net), nb_net_num_params(net));
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_train_opts o = base_opts();
    cr_assert_eq(nb_trainer_begin(NULL, R, &o), NB_ERR_NULL);
    cr_assert_eq(nb_trainer_begin(tr, R, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_trainer_begin(tr, 0, &o), NB_ERR_ARG);
    nb_train_opts bad = o;
    bad.batch_size = 0;
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_ARG);
    bad = o;
    bad.lr = NAN;
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_ARG);
    bad = o;
    bad.lr = -1.0;
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_ARG);
    bad = o;
    bad.epochs = 0;
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_ARG);
    bad = o;
    bad.patience = 2; /* without validation rows */
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_ARG);
    data d;
    make_data(&d);
    bad = o;
    bad.X_val = &d.X; /* without T_val */
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_NULL);
    nb_tensor Xw = nb_tensor_view(d.x, R / 2, IN - 1);
    bad.X_val = &Xw;
    bad.T_val = &d.T;
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_SHAPE);
    bad = o;
    bad.resume = true; /* nothing recorded to continue */
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_STATE);
    nb_schedule s = nb_schedule_default(NB_SCHED_STEP);
    s.step_size = 0;
    bad = o;
    bad.schedule = &s;
    cr_assert_eq(nb_trainer_begin(tr, R, &bad), NB_ERR_ARG);
    /* none of these began a run */
    nb_epoch_info info;
    cr_assert_eq(nb_trainer_step(tr, &d.X, &d.T, NULL), NB_ERR_STATE);
    cr_assert_eq(nb_trainer_end_epoch(tr, &info, NULL), NB_ERR_STATE);
    cr_assert_eq(nb_trainer_end(tr, NULL), NB_ERR_STATE);
    cr_assert_eq(nb_trainer_begin(tr, R, &o), NB_OK);
    cr_assert_eq(nb_trainer_begin(tr, R, &o), NB_ERR_STATE); /* one run at a time */
    cr_assert_eq(nb_trainer_end(tr, NULL), NB_OK); /* a run of no epochs */
    cr_assert_eq(nb_trainer_end(tr, NULL), NB_ERR_STATE);
    cr_assert_eq(nb_trainer_end(NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(memcmp(p0, nb_net_params(net), nb_net_num_params(net) * sizeof(float)), 0);
    free(p0);
    nb_trainer_free(tr);
    nb_net_free(net);
}

Test(stages, step_and_epoch_end_check_their_arguments)
{
    data d;
    make_data(&d);
    nb_net *net = tc_net(IN, plain_layers, 2, 5);
    size_t np = nb_net_num_params(net);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_train_opts o = base_opts();
    cr_assert_eq(nb_trainer_begin(tr, R, &o), NB_OK);
    float *p0 = tc_fdup(nb_net_params(net), np);
    nb_tensor x8 = nb_tensor_rows(&d.X, 0, 8), t8 = nb_tensor_rows(&d.T, 0, 8);
    nb_tensor x7 = nb_tensor_rows(&d.X, 0, 7), t7 = nb_tensor_rows(&d.T, 0, 7);
    nb_tensor xc = nb_tensor_view(d.x, 8, IN - 1), tc = nb_tensor_view(d.t, 8, OUT - 1);
    nb_epoch_info info;
    cr_assert_eq(nb_trainer_step(NULL, &x8, &t8, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_trainer_step(tr, NULL, &t8, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_trainer_step(tr, &x8, NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_trainer_step(tr, &x7, &t7, NULL), NB_ERR_SHAPE); /* not the batch size */
    cr_assert_eq(nb_trainer_step(tr, &xc, &t8, NULL), NB_ERR_SHAPE);
    cr_assert_eq(nb_trainer_step(tr, &x8, &tc, NULL), NB_ERR_SHAPE);
    cr_assert_eq(nb_trainer_step(tr, &x8, &t7, NULL), NB_ERR_SHAPE);
    cr_assert_eq(nb_trainer_end_epoch(tr, &info, NULL), NB_ERR_STATE); /* no row yet */
    cr_assert_eq(memcmp(p0, nb_net_params(net), np * sizeof(float)), 0, "a refused step moved");
    cr_assert_eq(nb_trainer_step(tr, &x8, &t8, NULL), NB_OK);
    cr_assert_eq(nb_trainer_end_epoch(tr, &info, NULL), NB_ERR_STATE); /* 35 rows left */
    cr_assert_eq(nb_trainer_end_epoch(NULL, &info, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_trainer_end_epoch(tr, NULL, NULL), NB_ERR_NULL);
    for (size_t s = 8; s < 40; s += 8) {
        nb_tensor x = nb_tensor_rows(&d.X, s, 8), t = nb_tensor_rows(&d.T, s, 8);
        cr_assert_eq(nb_trainer_step(tr, &x, &t, NULL), NB_OK);
    }
    cr_assert_eq(nb_trainer_step(tr, &x8, &t8, NULL), NB_ERR_SHAPE); /* the last batch is 3 */
    nb_tensor x3 = nb_tensor_rows(&d.X, 40, 3), t3 = nb_tensor_rows(&d.T, 40, 3);
    double loss = NAN;
    cr_assert_eq(nb_trainer_step(tr, &x3, &t3, &loss), NB_OK);
    cr_assert(isfinite(loss));
    cr_assert_eq(nb_trainer_step(tr, &x3, &t3, NULL), NB_ERR_STATE); /* the epoch is complete */
    bool stop = true;
    cr_assert_eq(nb_trainer_end_epoch(tr, &info, &stop), NB_OK);
    cr_assert(!stop && info.epoch == 1 && info.steps == 6 && isnan(info.val_loss));
    cr_assert_eq(nb_trainer_step(tr, &x8, &t8, NULL), NB_OK);
    /* a run ended in the middle of an epoch: refused as a position, parameters kept */
    nb_train_report rep;
    cr_assert_eq(nb_trainer_end(tr, &rep), NB_ERR_STATE);
    cr_assert_eq(rep.epochs_run, 1);
    cr_assert_eq(rep.steps, 7);
    nb_train_opts again = o;
    again.resume = true; /* nothing recorded: the half epoch cannot be continued */
    cr_assert_eq(nb_trainer_begin(tr, R, &again), NB_ERR_STATE);
    free(p0);
    nb_trainer_free(tr);
    nb_net_free(net);
}

/* A non-finite target: the step refuses the update, the run can only end, and the
   parameters are those before the step. */
Test(stages, nonfinite_step_ends_the_run)
{
    data d;
    make_data(&d);
    d.t[9 * OUT] = NAN; /* in the second batch */
    nb_net *net = tc_net(IN, plain_layers, 2, 5);
    size_t np = nb_net_num_params(net);
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_train_opts o = base_opts();
    cr_assert_eq(nb_trainer_begin(tr, R, &o), NB_OK);
    nb_tensor x = nb_tensor_rows(&d.X, 0, 8), t = nb_tensor_rows(&d.T, 0, 8);
    cr_assert_eq(nb_trainer_step(tr, &x, &t, NULL), NB_OK);
    float *p1 = tc_fdup(nb_net_params(net), np);
    x = nb_tensor_rows(&d.X, 8, 8);
    t = nb_tensor_rows(&d.T, 8, 8);
    cr_assert_eq(nb_trainer_step(tr, &x, &t, NULL), NB_ERR_NONFINITE);
    cr_assert_eq(memcmp(p1, nb_net_params(net), np * sizeof(float)), 0);
    cr_assert_eq(nb_trainer_step(tr, &x, &t, NULL), NB_ERR_STATE);
    nb_epoch_info info;
    cr_assert_eq(nb_trainer_end_epoch(tr, &info, NULL), NB_ERR_STATE);
    nb_train_report rep;
    cr_assert_eq(nb_trainer_end(tr, &rep), NB_ERR_NONFINITE);
    cr_assert_eq(rep.steps, 1);
    cr_assert(tc_all_finite(nb_net_params(net), np));
    free(p1);
    nb_trainer_free(tr);
    nb_net_free(net);
}
