/* The training loop: epochs of (shuffled) mini-batches through the one step path, with the
   buffers kept in a trainer object rather than in the network. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nablas/rng.h"
#include "train/trainer.h"

nb_train_opts nb_train_opts_default(void)
{
    nb_train_opts o = {
        .loss = NB_LOSS_MSE, .batch_size = 32, .epochs = 10, .lr = 0.01f,
        .seed = 0, .shuffle = true, .on_epoch = NULL, .user = NULL,
        .optim = NULL, .schedule = NULL, .clip_norm = 0.0,
        .X_val = NULL, .T_val = NULL, .patience = 0, .restore_best = false, .resume = false,
    };
    return o;
}

nb_status nb_trainer_create(nb_trainer **out, nb_net *net)
{
    if (!out || !net)
        return NB_ERR_NULL;
    nb_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NB_ERR_NOMEM;
    tr->net = net;
    tr->parts = 1;
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

nb_status nb__trainer_set_part(nb_trainer *tr, size_t part, size_t parts)
{
    if (!tr)
        return NB_ERR_NULL;
    if (parts == 0 || part >= parts)
        return NB_ERR_ARG;
    tr->part = part;
    tr->parts = parts;
    return NB_OK;
}

nb_status nb_trainer_position(const nb_trainer *tr, nb_train_position *pos)
{
    if (!tr || !pos)
        return NB_ERR_NULL;
    *pos = tr->pos;
    return NB_OK;
}

void nb__trainer_set_local(nb_trainer *tr, size_t global_rows) { tr->global_rows = global_rows; }

void nb__trainer_set_hook(nb_trainer *tr, nb__step_hook hook, void *ctx)
{
    tr->hook = hook;
    tr->hook_ctx = ctx;
}

void nb__trainer_set_layer_hook(nb_trainer *tr, nb__layer_hook layer_hook)
{
    tr->layer_hook = layer_hook;
}

void nb__trainer_set_update(nb_trainer *tr, nb__update_fn update, void *ctx)
{
    tr->update = update;
    tr->update_ctx = ctx;
}

/* Grows the trainer's buffers: a permutation of rows (if shuffling), a gathered batch of bs
   rows (if shuffling) and a copy of the parameters; they stay for later runs. */
static nb_status reserve(nb_trainer *tr, size_t rows, size_t bs, bool shuffle)
{
    nb_net *net = tr->net;
    if (tr->snap_cap < net->n_params) {
        float *p = nb__alloc_floats(net->n_params);
        if (!p)
            return NB_ERR_NOMEM;
        free(tr->snap);
        tr->snap = p;
        tr->snap_cap = net->n_params;
    }
    if (!shuffle)
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

static void gather_rows(float *dst, const float *src, const size_t *idx, size_t n, size_t cols)
{
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * cols, src + idx[i] * cols, cols * sizeof(float));
}

static nb_status check_run(const nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                           const nb_train_opts *opts)
{
    if (!tr || !opts || !T)
        return NB_ERR_NULL;
    const nb_net *net = tr->net;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != net->inputs)
        return NB_ERR_SHAPE;
    NB_TRY(nb__net_check_targets(net, opts->loss, T, X->rows));
    NB_TRY(nb__check_blas_dims(X->rows, 0, 0));
    if (opts->batch_size == 0 || opts->epochs == 0 || !isfinite(opts->lr) || opts->lr < 0.0f ||
        !isfinite(opts->clip_norm) || opts->clip_norm < 0.0)
        return NB_ERR_ARG;
    if (tr->global_rows && opts->shuffle) /* only this part's rows: no permutation of all */
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

/* After a non-finite stop, or at the end: the parameters leave the loop finite.  If they are
   not, the copy from the start of the epoch goes back (it was checked when taken). */
static nb_status keep_finite(nb_trainer *tr, nb_status st)
{
    nb_net *net = tr->net;
    if (nb__all_finite(net->params, net->n_params))
        return st;
    memcpy(net->params, tr->snap, net->n_params * sizeof(float));
    net->ready = false;
    return NB_ERR_NONFINITE;
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
    r->lr = opts->lr;
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

/* After an epoch's validation loss: the early-stopping state in the position. */
static void track_best(nb_trainer *tr, const nb_train_opts *opts, double val)
{
    nb_train_position *pos = &tr->pos;
    if (!isnan(val) && (pos->best_epoch == 0 || val < pos->best_val_loss)) {
        pos->best_val_loss = val; /* a NaN loss never improves */
        pos->best_epoch = (size_t)pos->epochs_done;
        pos->bad_epochs = 0;
        if (opts->restore_best)
            memcpy(tr->best, tr->net->params, tr->net->n_params * sizeof(float));
    } else {
        pos->bad_epochs++;
    }
}

nb_status nb_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                         const nb_train_opts *opts, nb_train_report *report)
{
    NB_TRY(check_run(tr, X, T, opts));
    nb_net *net = tr->net;
    size_t rows = tr->global_rows ? tr->global_rows : X->rows, in = net->inputs;
    size_t out = nb_net_outputs(net), next = 0; /* next: local rows used (global_rows mode) */
    size_t bs = opts->batch_size < rows ? opts->batch_size : rows;
    size_t lo, hi;
    /* The rate: the optimizer's own, or plain SGD's; a schedule sets it step by step. */
    double base = opts->optim ? opts->optim->lr : (double)opts->lr;
    nb_schedule sched;
    uint64_t batches = (rows + bs - 1) / bs; /* steps per epoch */
    if (opts->epochs > UINT64_MAX / batches)
        return NB_ERR_OVERFLOW;
    if (opts->schedule) {
        sched = *opts->schedule;
        sched.base_lr = base;
        if (sched.total_steps == 0)
            sched.total_steps = (uint64_t)opts->epochs * batches;
        NB_TRY(nb_schedule_check(&sched));
    }
    nb__run_record rec;
    make_record(&rec, opts, rows, opts->schedule ? &sched : NULL);
    if (opts->resume) { /* checked before anything changes */
        if (!tr->recorded)
            return NB_ERR_STATE;
        if (!nb__run_record_equal(&rec, &tr->rec) || opts->epochs < tr->pos.epochs_done)
            return NB_ERR_ARG;
    } else {
        tr->recorded = false; /* a fresh run: the previous one can no longer be continued */
    }
    nb__slice(bs, tr->part, tr->parts, &lo, &hi); /* the largest local slice */
    /* Everything the loop needs is allocated here, before the first step. */
    NB_TRY(nb__trainer_prepare_optim(tr, opts));
    NB_TRY(nb__net_prepare(net, hi - lo ? hi - lo : 1));
    if (rows % bs) { /* the last, shorter batch of each epoch */
        size_t tlo, thi;
        nb__slice(rows % bs, tr->part, tr->parts, &tlo, &thi);
        if (thi > tlo)
            NB_TRY(nb__net_prepare(net, thi - tlo));
    }
    NB_TRY(reserve(tr, rows, hi - lo, opts->shuffle));
    if (opts->restore_best && tr->best_cap < net->n_params) {
        float *p = nb__alloc_floats(net->n_params);
        if (!p)
            return NB_ERR_NOMEM;
        free(tr->best);
        tr->best = p;
        tr->best_cap = net->n_params;
    }
    nb_eval ev;
    if (opts->X_val) /* once now: the evaluation's workspace is reserved before the first step */
        NB_TRY(nb_net_evaluate(net, opts->X_val, opts->T_val, opts->loss, &ev));
    if (!nb__all_finite(net->params, net->n_params))
        return NB_ERR_NONFINITE; /* nothing finite to keep: refuse to start */

    if (!opts->resume) { /* a new recorded run, from epoch 1 */
        tr->rec = rec;
        memset(&tr->pos, 0, sizeof tr->pos);
        tr->pos.best_val_loss = NAN;
        tr->last_loss = NAN;
    }
    tr->recorded = true;
    nb_train_position *pos = &tr->pos;
    nb__step_cfg cfg = {opts->loss, opts->lr, tr->update,  tr->update_ctx,
                        tr->hook,   tr->hook_ctx, tr->layer_hook};
    if (opts->optim || opts->clip_norm > 0.0) { /* the gradient goes through the optimizer */
        cfg.update = nb__optim_update;
        cfg.update_ctx = tr;
    }
    tr->clip_norm = opts->clip_norm;
    tr->rate = base;
    nb_status st = NB_OK;
    bool drop_on = net->drop_on; /* the caller's nb_net_set_dropout_masks, put back below */
    uint64_t drop_seed = net->drop_seed;
    size_t drop_row0 = net->drop_row0;
    net->drop_on = net->any_dropout;
    /* epochs are numbered globally: a resumed run starts after those done */
    size_t first = (size_t)pos->epochs_done + 1;
    bool stopped = pos->stopped;
    for (size_t epoch = first; !stopped && epoch <= opts->epochs && st == NB_OK; epoch++) {
        if (epoch > first && !nb__all_finite(net->params, net->n_params)) {
            st = NB_ERR_NONFINITE; /* the callback left them broken: last epoch's copy goes back */
            break;
        }
        /* one copy per epoch, of finite parameters: what a non-finite stop falls back to */
        memcpy(tr->snap, net->params, net->n_params * sizeof(float));
        if (opts->shuffle)
            nb_rng_shuffle(tr->perm, rows, opts->seed, epoch - 1);
        double sum = 0.0, weight = 0.0;
        next = 0;
        for (size_t start = 0; start < rows; start += bs) {
            size_t n = rows - start < bs ? rows - start : bs;
            nb__slice(n, tr->part, tr->parts, &lo, &hi);
            size_t first_row = tr->global_rows ? next : start + lo;
            if (tr->global_rows && (next += hi - lo) > X->rows) {
                st = NB_ERR_SHAPE; /* fewer local rows than this part's slices need */
                break;
            }
            uint64_t step = pos->steps_done; /* the step's place in the whole run */
            if (hi == lo && !tr->hook) { /* nothing to compute and no one to tell */
                pos->steps_done++;
                continue;
            }
            const float *x = X->data + first_row * in, *t = T->data + first_row * out;
            if (opts->shuffle) {
                gather_rows(tr->xb, X->data, tr->perm + start + lo, hi - lo, in);
                gather_rows(tr->tb, T->data, tr->perm + start + lo, hi - lo, out);
                x = tr->xb;
                t = tr->tb;
            }
            if (net->any_dropout) { /* masks from (seed, step); a slice takes its rows' part of
                                       the whole batch's masks */
                net->drop_seed = nb__dropout_key(opts->seed, step, ~(uint64_t)0);
                net->drop_row0 = lo;
            }
            if (opts->schedule) { /* the step's place in the run, whatever this part skips */
                tr->rate = nb_schedule_lr(&sched, step);
                cfg.lr = (float)tr->rate;
            }
            double loss;
            st = nb__train_step(net, &cfg, x, t, hi - lo, n, &loss);
            if (st != NB_OK)
                break;
            /* with a hook the loss is the global batch's mean, else this slice's */
            double w = (double)(tr->hook ? n : hi - lo);
            sum += loss * w;
            weight += w;
            pos->steps_done++;
        }
        if (st == NB_OK && !nb__all_finite(net->params, net->n_params))
            st = NB_ERR_NONFINITE; /* broken by a fused step whose loss still looked finite */
        if (st != NB_OK)
            break;
        /* the position before the callback: a checkpoint saved there is this epoch's end */
        pos->epochs_done = epoch;
        tr->last_loss = weight > 0.0 ? sum / weight : 0.0;
        double val = NAN;
        if (opts->X_val) {
            if ((st = nb_net_evaluate(net, opts->X_val, opts->T_val, opts->loss, &ev)) != NB_OK)
                break;
            val = ev.loss;
            track_best(tr, opts, val);
        }
        /* patience decides first, so that the callback's checkpoint knows the run ends here */
        stopped = opts->patience > 0 && pos->bad_epochs >= opts->patience;
        pos->stopped = stopped;
        if (opts->on_epoch) {
            nb_epoch_info info = {epoch, opts->epochs, tr->last_loss, (size_t)pos->steps_done,
                                  val};
            if (opts->on_epoch(&info, opts->user)) {
                stopped = true; /* the callback's stop at the last epoch ends nothing early */
                pos->stopped = pos->stopped || epoch < opts->epochs;
            }
        }
    }
    net->drop_on = drop_on;
    net->drop_seed = drop_seed;
    net->drop_row0 = drop_row0;
    nb_train_report rep = {(size_t)pos->epochs_done, (size_t)pos->steps_done, tr->last_loss,
                           pos->stopped && pos->epochs_done < opts->epochs, pos->best_epoch,
                           pos->best_val_loss, false};
    if (st == NB_OK && opts->restore_best && rep.best_epoch > 0
        && nb__all_finite(tr->best, net->n_params)) {
        memcpy(net->params, tr->best, net->n_params * sizeof(float));
        net->ready = false;
        rep.restored = true;
    }
    if (st == NB_OK || st == NB_ERR_NONFINITE)
        st = keep_finite(tr, st);
    if (st != NB_OK)
        tr->recorded = false; /* the state is mid-epoch or broken: nothing to continue */
    if (report)
        *report = rep;
    return st;
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
