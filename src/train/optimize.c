/* The training loop's optimizer: the trainer owns an nb_optim for the runs that ask for one
   (or for clipping, which needs the gradient), and the step's update is
   clip -> set the step's rate -> nb_optim_step, after the step hooks and the finiteness
   check (train/step.c). */
#include <math.h>

#include "train/trainer.h"

bool nb__run_optim(const nb_optim_opts *optim, double clip_norm, float lr, nb_optim_opts *o)
{
    if (optim) {
        *o = *optim;
        return true;
    }
    if (clip_norm > 0.0) { /* the optimizer's plain SGD is the fused update's arithmetic */
        *o = nb_optim_opts_default(NB_OPTIM_SGD);
        o->lr = lr;
        return true;
    }
    return false;
}

/* Plain SGD as an optimizer: no momentum, no weight decay, every other field its default
   (dampening acts on the momentum buffer only) and nothing nb_optim_create would refuse, at a
   rate that float can hold. */
static bool plain_sgd(const nb_optim_opts *o)
{
    nb_optim_opts p = nb_optim_opts_default(NB_OPTIM_SGD);
    p.lr = o->lr;
    p.dampening = o->dampening;
    return nb__optim_opts_equal(o, &p, true) && o->lr >= 0.0 && isfinite((float)o->lr)
           && o->dampening >= 0.0 && o->dampening <= 1.0;
}

nb_train_opts nb__run_opts(const nb_train_opts *opts)
{
    nb_train_opts run = *opts;
    if (opts->optim && plain_sgd(opts->optim)) {
        run.lr = (double)(float)opts->optim->lr;
        run.optim = NULL;
    }
    return run;
}

static bool wanted(const nb_train_opts *opts, nb_optim_opts *o)
{
    nb_train_opts run = nb__run_opts(opts);
    return nb__run_optim(run.optim, run.clip_norm, (float)run.lr, o);
}

bool nb__optim_opts_equal(const nb_optim_opts *a, const nb_optim_opts *b, bool with_lr)
{
    return a->kind == b->kind && (!with_lr || a->lr == b->lr) && a->momentum == b->momentum &&
           a->dampening == b->dampening && a->nesterov == b->nesterov &&
           a->weight_decay == b->weight_decay && a->beta1 == b->beta1 && a->beta2 == b->beta2 &&
           a->eps == b->eps && a->amsgrad == b->amsgrad && a->alpha == b->alpha &&
           a->centered == b->centered;
}

static bool schedule_equal(const nb_schedule *a, const nb_schedule *b)
{
    return a->kind == b->kind && a->base_lr == b->base_lr && a->total_steps == b->total_steps &&
           a->warmup_steps == b->warmup_steps &&
           a->warmup_start_factor == b->warmup_start_factor && a->step_size == b->step_size &&
           a->gamma == b->gamma && a->eta_min == b->eta_min &&
           a->start_factor == b->start_factor && a->end_factor == b->end_factor &&
           a->pct_start == b->pct_start && a->div_factor == b->div_factor &&
           a->final_div_factor == b->final_div_factor && a->anneal == b->anneal &&
           a->three_phase == b->three_phase;
}

bool nb__run_record_equal(const nb__run_record *a, const nb__run_record *b)
{
    return a->loss == b->loss && a->batch_size == b->batch_size && a->seed == b->seed &&
           a->shuffle == b->shuffle && a->rows == b->rows && a->lr == b->lr &&
           a->has_optim == b->has_optim && nb__optim_opts_equal(&a->optim, &b->optim, true) &&
           a->has_schedule == b->has_schedule && schedule_equal(&a->schedule, &b->schedule) &&
           a->clip_norm == b->clip_norm && a->patience == b->patience &&
           a->restore_best == b->restore_best && a->val_rows == b->val_rows;
}

nb_status nb__trainer_prepare_optim(nb_trainer *tr, const nb_train_opts *opts)
{
    nb_optim_opts o;
    if (!wanted(opts, &o))
        return NB_OK;
    size_t n = tr->net->n_params;
    nb_optim_opts have;
    if (tr->optim && nb_optim_num_params(tr->optim) == n &&
        nb_optim_get_opts(tr->optim, &have) == NB_OK && nb__optim_opts_equal(&have, &o, false))
        /* resumed: kept exactly as recorded (every step sets its own rate anyway) */
        return opts->resume ? NB_OK : nb_optim_set_lr(tr->optim, o.lr);
    if (opts->resume) /* the recorded run's optimizer (and its state) is never replaced */
        return NB_ERR_ARG;
    nb_optim *fresh;
    NB_TRY(nb_optim_create(&fresh, n, &o)); /* validates: NB_ERR_ARG before anything changes */
    nb_optim_free(tr->optim);
    tr->optim = fresh;
    return NB_OK;
}

nb_status nb_trainer_optim(nb_trainer *tr, const nb_train_opts *opts, nb_optim **opt)
{
    if (!tr || !opts || !opt)
        return NB_ERR_NULL;
    NB_TRY(nb__trainer_prepare_optim(tr, opts));
    nb_optim_opts o;
    *opt = wanted(opts, &o) ? tr->optim : NULL;
    return NB_OK;
}

nb_status nb__optim_update(void *ctx, float *params, float *grads, size_t n_params, double lr)
{
    nb_trainer *tr = ctx;
    if (tr->opts.clip_norm > 0.0) /* the gradient is finite here: the norm is too */
        NB_TRY(nb_clip_grad_norm(grads, n_params, tr->opts.clip_norm, NULL));
    NB_TRY(nb_optim_set_lr(tr->optim, lr));
    return nb_optim_step(tr->optim, params, grads);
}
