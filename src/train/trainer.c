/* The trainer: its life (create, free), the last stage of a run (nb_trainer_end), the state
   record checkpoints go through, and nb_trainer_run, the loop over the stages on data in
   memory ((shuffled) mini-batches, in the order nb_net_train documents). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nablas/rng.h"
#include "train/trainer.h"

nb_status nb_trainer_create(nb_trainer **out, nb_net *net)
{
    if (!out || !net)
        return NB_ERR_NULL;
    nb_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NB_ERR_NOMEM;
    tr->net = net;
    tr->pos.best_val_loss = NAN;
    tr->last_loss = NAN;
    *out = tr;
    return NB_OK;
}

void nb_trainer_free(nb_trainer *tr)
{
    if (!tr)
        return;
    free(tr->perm);
    free(tr->xb);
    free(tr->tb);
    free(tr->snap);
    free(tr->best);
    nb_optim_free(tr->optim);
    free(tr);
}

nb_status nb_trainer_position(const nb_trainer *tr, nb_train_position *pos)
{
    if (!tr || !pos)
        return NB_ERR_NULL;
    *pos = tr->pos;
    return NB_OK;
}

nb_status nb__trainer_state_get(const nb_trainer *tr, nb__trainer_state *s)
{
    s->net = tr->net;
    if (!tr->recorded || tr->epoch_rows != 0)
        return NB_ERR_STATE;
    bool best = tr->rec.restore_best && tr->pos.best_epoch > 0;
    if (best && (!tr->best || tr->best_cap < tr->net->n_params))
        return NB_ERR_STATE;
    *s = (nb__trainer_state){tr->net, tr->pos, tr->rec, tr->last_loss, tr->optim,
                             best ? tr->best : NULL};
    return NB_OK;
}

nb_status nb__trainer_state_restore(nb_trainer *tr, const nb__trainer_state *s)
{
    if (tr->active)
        return NB_ERR_STATE;
    size_t n = tr->net->n_params;
    if (s->best) {
        if (tr->best_cap < n) {
            float *p = nb__alloc_floats(n);
            if (!p)
                return NB_ERR_NOMEM;
            free(tr->best);
            tr->best = p;
            tr->best_cap = n;
        }
        memcpy(tr->best, s->best, n * sizeof(float));
    }
    if (tr->optim != s->optim)
        nb_optim_free(tr->optim);
    tr->optim = s->optim;
    tr->pos = s->pos;
    tr->rec = s->rec;
    tr->last_loss = s->last_loss;
    tr->recorded = true;
    return NB_OK;
}

/* The parameters leave a run finite: if they are not, the copy from the start of the epoch
   goes back (it was checked when taken). */
static nb_status keep_finite(nb_trainer *tr, nb_status st)
{
    nb_net *net = tr->net;
    if (nb__all_finite(net->params, net->n_params))
        return st;
    memcpy(net->params, tr->snap, net->n_params * sizeof(float));
    net->ready = false;
    return NB_ERR_NONFINITE;
}

nb_status nb_trainer_end(nb_trainer *tr, nb_train_report *report)
{
    if (!tr)
        return NB_ERR_NULL;
    if (!tr->active)
        return NB_ERR_STATE;
    nb_net *net = tr->net;
    const nb_train_position *pos = &tr->pos;
    nb_status st = tr->failed;
    if (st == NB_OK && tr->epoch_rows != 0)
        st = NB_ERR_STATE; /* half an epoch: no position to record */
    nb_train_report rep = {(size_t)pos->epochs_done, (size_t)pos->steps_done, tr->last_loss,
                           pos->stopped && pos->epochs_done < tr->opts.epochs, pos->best_epoch,
                           pos->best_val_loss, false};
    if (st == NB_OK && tr->opts.restore_best && rep.best_epoch > 0
        && nb__all_finite(tr->best, net->n_params)) {
        memcpy(net->params, tr->best, net->n_params * sizeof(float));
        net->ready = false;
        rep.restored = true;
    }
    if (st == NB_OK || st == NB_ERR_NONFINITE || st == NB_ERR_STATE)
        st = keep_finite(tr, st);
    if (st != NB_OK)
        tr->recorded = false; /* the state is mid-epoch or broken: nothing to continue */
    tr->active = false;
    tr->epoch_rows = 0;
    if (report)
        *report = rep;
    return st;
}

static void gather_rows(float *dst, const float *src, const size_t *idx, size_t n, size_t cols)
{
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * cols, src + idx[i] * cols, cols * sizeof(float));
}

/* One epoch's steps over X and T: batches in row order or in the epoch's permutation, this
   part's slice of each. */
static nb_status run_epoch(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T)
{
    const nb_train_opts *o = &tr->opts;
    const nb__run_hooks *h = &tr->hooks;
    size_t rows = tr->rows, bs = o->batch_size < rows ? o->batch_size : rows, next = 0;
    size_t in = X->cols, out = T->cols, lo, hi;
    if (o->shuffle) /* epoch e (1-based) draws permutation e - 1 */
        nb_rng_shuffle(tr->perm, rows, o->seed, tr->pos.epochs_done);
    for (size_t start = 0; start < rows; start += bs) {
        size_t n = rows - start < bs ? rows - start : bs;
        nb__slice(n, h->part, h->parts, &lo, &hi);
        size_t first = h->global_rows ? next : start + lo;
        if (h->global_rows && (next += hi - lo) > X->rows)
            return NB_ERR_SHAPE; /* fewer local rows than this part's slices need */
        const float *x = X->data + first * in, *t = T->data + first * out;
        if (o->shuffle) {
            gather_rows(tr->xb, X->data, tr->perm + start + lo, hi - lo, in);
            gather_rows(tr->tb, T->data, tr->perm + start + lo, hi - lo, out);
            x = tr->xb;
            t = tr->tb;
        }
        NB_TRY(nb__trainer_step_rows(tr, x, t, hi - lo, n, lo, NULL));
    }
    return NB_OK;
}

static nb_status check_data(const nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                            const nb_train_opts *opts)
{
    if (!tr || !opts || !T)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != tr->net->inputs)
        return NB_ERR_SHAPE;
    NB_TRY(nb__net_check_targets(tr->net, opts->loss, T, X->rows));
    return nb__check_blas_dims(X->rows, 0, 0);
}

nb_status nb__trainer_run_with(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                               const nb_train_opts *opts, const nb__run_hooks *hooks,
                               nb_train_report *report)
{
    NB_TRY(check_data(tr, X, T, opts));
    size_t rows = hooks && hooks->global_rows ? hooks->global_rows : X->rows;
    NB_TRY(nb__trainer_begin_with(tr, rows, opts, hooks));
    bool stop = tr->pos.stopped || tr->pos.epochs_done >= opts->epochs;
    nb_status st = NB_OK;
    while (!stop && st == NB_OK) {
        nb_epoch_info info;
        st = run_epoch(tr, X, T);
        if (st == NB_OK)
            st = nb_trainer_end_epoch(tr, &info, &stop);
        if (st == NB_OK && opts->on_epoch && opts->on_epoch(&info, opts->user)) {
            stop = true; /* the callback's stop at the last epoch ends nothing early */
            tr->pos.stopped = tr->pos.stopped || info.epoch < opts->epochs;
        }
    }
    if (st != NB_OK && tr->failed == NB_OK)
        tr->failed = st;
    return nb_trainer_end(tr, report);
}

nb_status nb_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                         const nb_train_opts *opts, nb_train_report *report)
{
    return nb__trainer_run_with(tr, X, T, opts, NULL, report);
}

nb_status nb_net_train(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                       const nb_train_opts *opts, nb_train_report *report)
{
    if (!net)
        return NB_ERR_NULL;
    nb_trainer *tr;
    NB_TRY(nb_trainer_create(&tr, net));
    nb_status st = nb_trainer_run(tr, X, T, opts, report);
    nb_trainer_free(tr);
    return st;
}
