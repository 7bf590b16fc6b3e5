/* The middle stages of a run: one step on a batch (nb_trainer_step) and the end of an epoch
   (nb_trainer_end_epoch: its loss, validation, early stopping). */
#include <math.h>
#include <string.h>

#include "train/trainer.h"

/* The rate of step `step` of the run (0-based): the schedule's, or the run's constant. */
static double rate_at(const nb_trainer *tr, uint64_t step)
{
    return tr->has_schedule ? nb_schedule_lr(&tr->sched, step) : tr->lr;
}

nb_status nb__trainer_step_rows(nb_trainer *tr, const float *x, const float *t, size_t rows,
                                size_t global_rows, size_t row0, double *loss)
{
    nb_net *net = tr->net;
    if (tr->epoch_rows == 0) { /* the epoch's first step */
        if (!nb__all_finite(net->params, net->n_params))
            return tr->failed = NB_ERR_NONFINITE; /* broken since: the last copy goes back */
        /* one copy per epoch, of finite parameters: what a non-finite stop falls back to */
        memcpy(tr->snap, net->params, net->n_params * sizeof(float));
        tr->epoch_sum = tr->epoch_weight = 0.0;
    }
    uint64_t step = tr->pos.steps_done; /* the step's place in the whole run */
    /* dropout masks from (seed, step); a slice takes its rows' part of the batch's masks */
    nb__step_at at = {rate_at(tr, step), {net->any_dropout, 0, row0}};
    if (net->any_dropout)
        at.drop.seed = nb__dropout_key(tr->opts.seed, step, ~(uint64_t)0);
    double value;
    nb_status st = nb__train_step(net, &tr->cfg, &at, x, t, rows, global_rows, &value);
    if (loss)
        *loss = value;
    if (st != NB_OK)
        return tr->failed = st;
    /* with hooks the loss is the global batch's mean, else this slice's */
    double w = (double)(tr->cfg.hooks ? global_rows : rows);
    tr->epoch_sum += value * w;
    tr->epoch_weight += w;
    tr->epoch_rows += global_rows;
    tr->pos.steps_done++;
    return NB_OK;
}

nb_status nb_trainer_step(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T, double *loss)
{
    if (!tr || !X || !T)
        return NB_ERR_NULL;
    if (!tr->active || tr->failed != NB_OK || tr->hooks.parts != 1 || tr->epoch_rows == tr->rows)
        return NB_ERR_STATE;
    size_t left = tr->rows - tr->epoch_rows;
    size_t n = tr->opts.batch_size < left ? tr->opts.batch_size : left;
    NB_TRY(nb__check_tensor(X));
    if (X->rows != n || X->cols != tr->net->inputs)
        return NB_ERR_SHAPE;
    NB_TRY(nb__net_check_targets(tr->net, tr->opts.loss, T, n));
    return nb__trainer_step_rows(tr, X->data, T->data, n, n, 0, loss);
}

/* After an epoch's validation loss: the early-stopping state in the position. */
static void track_best(nb_trainer *tr, double val)
{
    nb_train_position *pos = &tr->pos;
    if (!isnan(val) && (pos->best_epoch == 0 || val < pos->best_val_loss)) {
        pos->best_val_loss = val; /* a NaN loss never improves */
        pos->best_epoch = (size_t)pos->epochs_done;
        pos->bad_epochs = 0;
        if (tr->opts.restore_best)
            memcpy(tr->best, tr->net->params, tr->net->n_params * sizeof(float));
    } else {
        pos->bad_epochs++;
    }
}

nb_status nb_trainer_end_epoch(nb_trainer *tr, nb_epoch_info *info, bool *stop)
{
    if (!tr || !info)
        return NB_ERR_NULL;
    if (!tr->active || tr->failed != NB_OK || tr->epoch_rows != tr->rows)
        return NB_ERR_STATE;
    const nb_train_opts *o = &tr->opts;
    nb_train_position *pos = &tr->pos;
    nb_net *net = tr->net;
    if (!nb__all_finite(net->params, net->n_params))
        return tr->failed = NB_ERR_NONFINITE; /* by a fused step whose loss looked finite */
    /* the position first: a checkpoint saved after this call is this epoch's end */
    pos->epochs_done++;
    tr->epoch_rows = 0;
    tr->last_loss = tr->epoch_weight > 0.0 ? tr->epoch_sum / tr->epoch_weight : 0.0;
    double val = NAN, acc = NAN;
    if (o->X_val) {
        nb_eval ev;
        nb_status st = nb_net_evaluate(net, o->X_val, o->T_val, o->loss, &ev);
        if (st != NB_OK)
            return tr->failed = st;
        val = ev.loss;
        acc = ev.accuracy;
        track_best(tr, val);
    }
    /* patience decides before the caller, so that a checkpoint knows the run ends here */
    pos->stopped = o->patience > 0 && pos->bad_epochs >= o->patience;
    *info = (nb_epoch_info){.epoch = (size_t)pos->epochs_done, .epochs = o->epochs,
                            .loss = tr->last_loss, .steps = (size_t)pos->steps_done,
                            .val_loss = val, .val_accuracy = acc};
    if (stop)
        *stop = pos->stopped || pos->epochs_done >= o->epochs;
    return NB_OK;
}
