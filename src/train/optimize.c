/* The training loop's optimizer (issue 12): the trainer owns an nb_optim for the runs that ask
   for one (or for clipping, which needs the gradient), and the step's update is
   clip -> set the scheduled rate -> nb_optim_step, after the step hook and the finiteness
   check (train/step.c). */
#include "train/trainer.h"

/* The options of a run's optimizer: the caller's, or plain SGD at opts->lr when only clipping
   asks for the gradient (the optimizer's plain SGD is the fused update's arithmetic). */
static bool wanted(const nb_train_opts *opts, nb_optim_opts *o)
{
    if (opts->optim) {
        *o = *opts->optim;
        return true;
    }
    if (opts->clip_norm > 0.0) {
        *o = nb_optim_opts_default(NB_OPTIM_SGD);
        o->lr = opts->lr;
        return true;
    }
    return false;
}

/* Same options but for the learning rate (which schedules and runs change freely). */
static bool same_but_lr(nb_optim_opts a, nb_optim_opts b)
{
    return a.kind == b.kind && a.momentum == b.momentum && a.dampening == b.dampening &&
           a.nesterov == b.nesterov && a.weight_decay == b.weight_decay && a.beta1 == b.beta1 &&
           a.beta2 == b.beta2 && a.eps == b.eps && a.amsgrad == b.amsgrad &&
           a.alpha == b.alpha && a.centered == b.centered;
}

nb_status nb__trainer_prepare_optim(nb_trainer *tr, const nb_train_opts *opts)
{
    nb_optim_opts o;
    if (!wanted(opts, &o))
        return NB_OK;
    size_t n = tr->net->n_params;
    nb_optim_opts have;
    if (tr->optim && nb_optim_num_params(tr->optim) == n &&
        nb_optim_get_opts(tr->optim, &have) == NB_OK && same_but_lr(have, o))
        return nb_optim_set_lr(tr->optim, o.lr);
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

nb_status nb__optim_update(void *ctx, float *params, float *grads, size_t n_params)
{
    nb_trainer *tr = ctx;
    if (tr->clip_norm > 0.0) /* the gradient is finite here: the norm is too */
        NB_TRY(nb_clip_grad_norm(grads, n_params, tr->clip_norm, NULL));
    NB_TRY(nb_optim_set_lr(tr->optim, tr->rate));
    return nb_optim_step(tr->optim, params, grads);
}
