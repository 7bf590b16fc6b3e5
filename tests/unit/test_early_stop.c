/* Early stopping: validation loss in the callback, patience, restore_best; and the
   loop's non-finite stop with every optimizer and with dropout. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common.h"

enum { IN = 4, OUT = 1, ROWS = 64, VROWS = 32 };

typedef struct seen {
    double val[64];
    size_t n;
} seen;

static int record(const nb_epoch_info *info, void *user)
{
    seen *s = user;
    if (s->n < 64)
        s->val[s->n++] = info->val_loss;
    return 0;
}

/* Training fits y = sum(x) on the training rows while the validation targets are the
   negation: validation loss rises from the start, so patience must stop the run. */
static void data(float *X, float *T, float *Xv, float *Tv, float sign)
{
    nb_rng r;
    nb_rng_seed(&r, 3);
    tc_fill_uniform(&r, X, ROWS * IN, -1.0, 1.0);
    tc_fill_uniform(&r, Xv, VROWS * IN, -1.0, 1.0);
    for (size_t i = 0; i < ROWS; i++)
        T[i] = X[i * IN] + X[i * IN + 1] + X[i * IN + 2] + X[i * IN + 3];
    for (size_t i = 0; i < VROWS; i++)
        Tv[i] = sign * (Xv[i * IN] + Xv[i * IN + 1] + Xv[i * IN + 2] + Xv[i * IN + 3]);
}

Test(early_stop, validation_loss_patience_and_restore)
{
    static float X[ROWS * IN], T[ROWS], Xv[VROWS * IN], Tv[VROWS];
    data(X, T, Xv, Tv, -1.0f);
    nb_layer_spec L[] = {{8, NB_ACT_TANH, 0.1f}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net, *ref;
    cr_assert_eq(nb_net_create(&net, IN, L, 2, 1), NB_OK);
    cr_assert_eq(nb_net_create(&ref, IN, L, 2, 1), NB_OK);
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    nb_tensor Xvt = nb_tensor_view(Xv, VROWS, IN), Tvt = nb_tensor_view(Tv, VROWS, OUT);
    seen s = {{0}, 0};
    nb_train_opts o = nb_train_opts_default();
    o.epochs = 50;
    o.lr = 0.05f;
    o.X_val = &Xvt;
    o.T_val = &Tvt;
    o.patience = 3;
    o.restore_best = true;
    o.on_epoch = record;
    o.user = &s;
    nb_train_report rep;
    cr_assert_eq(nb_net_train(net, &Xt, &Tt, &o, &rep), NB_OK);
    cr_assert(rep.stopped_early && rep.restored);
    cr_assert_eq(rep.epochs_run, rep.best_epoch + 3, "ran %zu, best %zu", rep.epochs_run,
                 rep.best_epoch);
    cr_assert_eq(s.n, rep.epochs_run);
    /* the callback saw the losses nb_net_evaluate gives; the best is their minimum */
    double lo = INFINITY;
    for (size_t e = 0; e < s.n; e++)
        lo = s.val[e] < lo ? s.val[e] : lo;
    cr_assert_eq(lo, rep.best_val_loss);
    cr_assert_eq(s.val[rep.best_epoch - 1], rep.best_val_loss);
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(net, &Xvt, &Tvt, NB_LOSS_MSE, &ev), NB_OK);
    cr_assert_eq(ev.loss, rep.best_val_loss, "restored parameters give the best loss");
    /* the same run for best_epoch epochs without validation: the same parameters */
    nb_train_opts p = nb_train_opts_default();
    p.epochs = rep.best_epoch;
    p.lr = 0.05f;
    cr_assert_eq(nb_net_train(ref, &Xt, &Tt, &p, NULL), NB_OK);
    cr_assert(memcmp(nb_net_params(net), nb_net_params(ref),
                     nb_net_num_params(net) * sizeof(float)) == 0);
    /* without restore_best the run ends at its last epoch's parameters */
    nb_net_free(net);
    cr_assert_eq(nb_net_create(&net, IN, L, 2, 1), NB_OK);
    o.restore_best = false;
    s.n = 0;
    cr_assert_eq(nb_net_train(net, &Xt, &Tt, &o, &rep), NB_OK);
    cr_assert(!rep.restored);
    cr_assert_eq(nb_net_evaluate(net, &Xvt, &Tvt, NB_LOSS_MSE, &ev), NB_OK);
    cr_assert_eq(ev.loss, s.val[s.n - 1]);
    /* without validation: NAN in the callback and the report */
    o.X_val = o.T_val = NULL;
    o.patience = 0;
    s.n = 0;
    o.epochs = 2;
    cr_assert_eq(nb_net_train(net, &Xt, &Tt, &o, &rep), NB_OK);
    cr_assert(isnan(s.val[0]) && isnan(rep.best_val_loss) && rep.best_epoch == 0);
    nb_net_free(net);
    nb_net_free(ref);
}

Test(early_stop, errors)
{
    static float X[ROWS * IN], T[ROWS], Xv[VROWS * IN], Tv[VROWS];
    data(X, T, Xv, Tv, 1.0f);
    nb_layer_spec L[] = {{8, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, L, 2, 1), NB_OK);
    float *before = tc_fdup(nb_net_params(net), nb_net_num_params(net));
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    nb_tensor Xvt = nb_tensor_view(Xv, VROWS, IN), Tvt = nb_tensor_view(Tv, VROWS, OUT);
    nb_tensor Xbad = nb_tensor_view(Xv, VROWS, IN - 1), Tbad = nb_tensor_view(Tv, VROWS - 1, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.patience = 2;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_ARG, "patience, no validation");
    o.patience = 0;
    o.restore_best = true;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_ARG, "restore, no validation");
    o.restore_best = false;
    o.X_val = &Xvt;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_NULL, "X_val without T_val");
    o.T_val = &Tbad;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_SHAPE);
    o.X_val = &Xbad;
    o.T_val = &Tvt;
    cr_expect_eq(nb_net_train(net, &Xt, &Tt, &o, NULL), NB_ERR_SHAPE);
    cr_assert(memcmp(before, nb_net_params(net), nb_net_num_params(net) * sizeof(float)) == 0);
    free(before);
    nb_net_free(net);
}

/* The loop's non-finite stop with each optimizer and with dropout: a huge rate on an unscaled
   target overflows; training stops with NB_ERR_NONFINITE and the parameters stay finite. */
Test(early_stop, nonfinite_stop_with_each_optimizer_and_dropout)
{
    static float X[ROWS * IN], T[ROWS], Xv[VROWS * IN], Tv[VROWS];
    data(X, T, Xv, Tv, 1.0f);
    for (size_t i = 0; i < ROWS; i++)
        T[i] *= 1e18f;
    nb_tensor Xt = nb_tensor_view(X, ROWS, IN), Tt = nb_tensor_view(T, ROWS, OUT);
    nb_tensor Xvt = nb_tensor_view(Xv, VROWS, IN), Tvt = nb_tensor_view(Tv, VROWS, OUT);
    for (int k = -1; k < NB_OPTIM_KIND_COUNT; k++) {
        for (int drop = 0; drop < 2; drop++) {
            nb_layer_spec L[] = {{8, NB_ACT_RELU, drop ? 0.3f : 0.0f}, {OUT, NB_ACT_IDENTITY, 0}};
            nb_net *net;
            cr_assert_eq(nb_net_create(&net, IN, L, 2, 1), NB_OK);
            nb_optim_opts oo = nb_optim_opts_default(k < 0 ? NB_OPTIM_SGD : (nb_optim_kind)k);
            oo.lr = 1e30;
            nb_train_opts o = nb_train_opts_default();
            o.epochs = 100;
            o.lr = 1e30f;
            o.optim = k < 0 ? NULL : &oo;
            o.X_val = &Xvt;
            o.T_val = &Tvt;
            o.restore_best = true;
            nb_train_report rep;
            nb_status st = nb_net_train(net, &Xt, &Tt, &o, &rep);
            cr_expect_eq(st, NB_ERR_NONFINITE, "optimizer %d dropout %d: %s", k, drop,
                         nb_status_str(st));
            cr_expect(tc_all_finite(nb_net_params(net), nb_net_num_params(net)),
                      "optimizer %d dropout %d: non-finite parameters kept", k, drop);
            cr_expect_lt(rep.epochs_run, o.epochs);
            nb_net_free(net);
        }
    }
}
