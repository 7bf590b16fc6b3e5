/* The first stage of a run (nb_trainer_begin): the options checked, the run's rate,
   schedule and update decided, everything the steps need allocated, the run recorded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

nb_train_opts nb_train_opts_default(void)
{
    nb_train_opts o = {
        .loss = NB_LOSS_MSE, .batch_size = 32, .epochs = 10, .lr = (double)0.01f,
        .seed = 0, .shuffle = true, .on_epoch = NULL, .user = NULL,
        .optim = NULL, .schedule = NULL, .clip_norm = 0.0,
        .X_val = NULL, .T_val = NULL, .patience = 0, .restore_best = false, .resume = false,
    };
    return o;
}

static nb_status check_opts(const nb_trainer *tr, size_t rows, const nb_train_opts *opts,
                            const nb__run_hooks *h)
{
    if (!tr || !opts)
        return NB_ERR_NULL;
    if (tr->active)
        return NB_ERR_STATE;
    const nb_net *net = tr->net;
    NB_TRY(nb__net_check_loss(net, opts->loss));
    if (rows == 0 || opts->batch_size == 0 || opts->epochs == 0 || !isfinite(opts->lr) ||
        opts->lr < 0.0 || !isfinite(opts->clip_norm) || opts->clip_norm < 0.0)
        return NB_ERR_ARG;
    if (h->global_rows && opts->shuffle) /* only this part's rows: no permutation of all */
        return NB_ERR_ARG;
    if (!opts->X_val != !opts->T_val)
        return NB_ERR_NULL;
    if (opts->X_val) {
        NB_TRY(nb__check_tensor(opts->X_val));
        if (opts->X_val->cols != net->inputs)
            return NB_ERR_SHAPE;
        NB_TRY(nb__net_check_targets(net, opts->loss, opts->T_val, opts->X_val->rows));
    } else if (opts->patience > 0 || opts->restore_best) {
        return NB_ERR_ARG; /* early stopping needs validation rows */
    }
    return NB_OK;
}

/* Grows a float buffer of the trainer to n (kept for later runs). */
static nb_status grow_floats(float **buf, size_t *cap, size_t n)
{
    if (*cap >= n)
        return NB_OK;
    float *p = nb__alloc_floats(n);
    if (!p)
        return NB_ERR_NOMEM;
    free(*buf);
    *buf = p;
    *cap = n;
    return NB_OK;
}

/* The loop's buffers: a copy of the parameters, the best ones (restore_best), and when
   shuffling a permutation of rows and a gathered batch of bs local rows. */
static nb_status reserve(nb_trainer *tr, size_t rows, size_t bs, const nb_train_opts *opts)
{
    nb_net *net = tr->net;
    NB_TRY(grow_floats(&tr->snap, &tr->snap_cap, net->n_params));
    if (opts->restore_best)
        NB_TRY(grow_floats(&tr->best, &tr->best_cap, net->n_params));
    if (!opts->shuffle)
        return NB_OK;
    if (rows > tr->perm_cap) {
        if (rows > SIZE_MAX / sizeof *tr->perm)
            return NB_ERR_OVERFLOW;
        size_t *p = malloc(rows * sizeof *p);
        if (!p)
            return NB_ERR_NOMEM;
        free(tr->perm);
        tr->perm = p;
        tr->perm_cap = rows;
    }
    if (bs > tr->batch_cap) {
        float *xb = nb__alloc_floats(bs * net->inputs);
        float *tb = nb__alloc_floats(bs * nb_net_outputs(net));
        if (!xb || !tb) {
            free(xb);
            free(tb);
            return NB_ERR_NOMEM;
        }
        free(tr->xb);
        free(tr->tb);
        tr->xb = xb;
        tr->tb = tb;
        tr->batch_cap = bs;
    }
    return NB_OK;
}

/* The options of this run as a checkpoint records them (sched: the resolved schedule). */
static void make_record(nb__run_record *r, const nb_train_opts *opts, size_t rows,
                        const nb_schedule *sched)
{
    memset(r, 0, sizeof *r);
    r->loss = opts->loss;
    r->batch_size = opts->batch_size;
    r->seed = opts->seed;
    r->shuffle = opts->shuffle;
    r->rows = rows;
    r->lr = (float)opts->lr;
    r->has_optim = opts->optim != NULL;
    if (opts->optim)
        r->optim = *opts->optim;
    r->has_schedule = sched != NULL;
    if (sched)
        r->schedule = *sched;
    r->clip_norm = opts->clip_norm;
    r->patience = opts->patience;
    r->restore_best = opts->restore_best;
    r->val_rows = opts->X_val ? opts->X_val->rows : 0;
}

/* The rate and the schedule of the run: the optimizer's rate, or plain SGD's in the float
   precision of its update; a schedule resolved against it and the run's length. */
static nb_status plan_rate(nb_trainer *tr, size_t rows, size_t bs, const nb_train_opts *opts)
{
    tr->lr = opts->optim ? opts->optim->lr : (double)(float)opts->lr;
    uint64_t batches = (rows + bs - 1) / bs; /* steps per epoch */
    if (opts->epochs > UINT64_MAX / batches)
        return NB_ERR_OVERFLOW;
    tr->has_schedule = opts->schedule != NULL;
    if (!tr->has_schedule)
        return NB_OK;
    tr->sched = *opts->schedule;
    tr->sched.base_lr = tr->lr;
    if (tr->sched.total_steps == 0)
        tr->sched.total_steps = (uint64_t)opts->epochs * batches;
    return nb_schedule_check(&tr->sched);
}

/* How every step ends: fused plain SGD when nothing needs the gradient (no optimizer, no
   clipping, no hooks), else the gradient through the optimizer or plain SGD. */
static void plan_update(nb_trainer *tr, const nb_train_opts *opts)
{
    bool via_optim = opts->optim || opts->clip_norm > 0.0;
    tr->cfg = (nb__step_cfg){opts->loss, !via_optim && !tr->hooks.step.sum,
                             via_optim ? nb__optim_update : nb__sgd_update, tr,
                             tr->hooks.step.sum ? &tr->hooks.step : NULL};
}

/* The workspace for every batch size of an epoch: the largest local slice, and this part's
   slice of the last, shorter batch. */
static nb_status prepare_net(nb_trainer *tr, size_t rows, size_t bs)
{
    size_t lo, hi;
    nb__slice(bs, tr->hooks.part, tr->hooks.parts, &lo, &hi);
    size_t local = hi - lo;
    NB_TRY(nb__net_prepare(tr->net, local ? local : 1));
    if (rows % bs) {
        nb__slice(rows % bs, tr->hooks.part, tr->hooks.parts, &lo, &hi);
        if (hi > lo)
            NB_TRY(nb__net_prepare(tr->net, hi - lo));
    }
    return reserve(tr, rows, local, &tr->opts);
}

nb_status nb__trainer_begin_with(nb_trainer *tr, size_t rows, const nb_train_opts *given,
                                 const nb__run_hooks *hooks)
{
    static const nb__run_hooks none = {0, 1, 0, {NULL, NULL, NULL}};
    const nb__run_hooks *h = hooks ? hooks : &none;
    if (!given)
        return NB_ERR_NULL;
    /* the update is decided here, from the options alone (plain SGD: the fused step) */
    const nb_train_opts run = nb__run_opts(given), *opts = &run;
    NB_TRY(check_opts(tr, rows, opts, h));
    if (h->parts == 0 || h->part >= h->parts || (h->parts > 1 && !h->step.sum))
        return NB_ERR_ARG;
    size_t bs = opts->batch_size < rows ? opts->batch_size : rows;
    NB_TRY(plan_rate(tr, rows, bs, opts));
    nb__run_record rec;
    make_record(&rec, opts, rows, tr->has_schedule ? &tr->sched : NULL);
    if (opts->resume) { /* checked before anything changes */
        if (!tr->recorded)
            return NB_ERR_STATE;
        if (!nb__run_record_equal(&rec, &tr->rec) || opts->epochs < tr->pos.epochs_done)
            return NB_ERR_ARG;
    } else {
        tr->recorded = false; /* a fresh run: the previous one can no longer be continued */
    }
    tr->hooks = *h;
    tr->opts = *opts;
    /* Everything the run needs is allocated here, before the first step. */
    NB_TRY(nb__trainer_prepare_optim(tr, opts));
    NB_TRY(prepare_net(tr, rows, bs));
    nb_eval ev;
    if (opts->X_val) /* once now: the evaluation's workspace is reserved before the first step */
        NB_TRY(nb_net_evaluate(tr->net, opts->X_val, opts->T_val, opts->loss, &ev));
    if (!nb__all_finite(tr->net->params, tr->net->n_params))
        return NB_ERR_NONFINITE; /* nothing finite to keep: refuse to start */
    if (!opts->resume) { /* a new recorded run, from epoch 1 */
        tr->rec = rec;
        memset(&tr->pos, 0, sizeof tr->pos);
        tr->pos.best_val_loss = NAN;
        tr->last_loss = NAN;
    }
    tr->recorded = true;
    tr->rows = rows;
    plan_update(tr, opts);
    tr->failed = NB_OK;
    tr->epoch_rows = 0;
    tr->active = true;
    return NB_OK;
}

nb_status nb_trainer_begin(nb_trainer *tr, size_t rows, const nb_train_opts *opts)
{
    return nb__trainer_begin_with(tr, rows, opts, NULL);
}
