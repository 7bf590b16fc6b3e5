/* nb_trainer_run's loop written with the stages of include/nablas/net.h (begin, step, end of
   epoch, end), with a call after every step: the terminal's progress within an epoch.  Epoch e
   (1-based) visits the rows in the order nb_rng_shuffle(perm, rows, seed, e - 1) gives, or in
   their order without shuffling, as nb_net_train documents. */
#include <stdlib.h>
#include <string.h>

#include "cli/train_loop.h"

typedef struct loop {
    size_t *perm;
    nb_tensor Xb, Tb; /* the gathered batch (its rows: the batch's) */
} loop;

static void gather(float *dst, const nb_tensor *src, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * src->cols, src->data + idx[i] * src->cols, src->cols * sizeof(float));
}

/* One epoch's steps; on_batch after each. */
static nb_status epoch(nb_trainer *tr, loop *l, const nb_tensor *X, const nb_tensor *T,
                       const nb_train_opts *o, uint64_t done, cli_batch_fn on_batch)
{
    size_t rows = X->rows, bs = o->batch_size < rows ? o->batch_size : rows;
    size_t batches = (rows + bs - 1) / bs;
    if (o->shuffle) {
        nb_status st = nb_rng_shuffle(l->perm, rows, o->seed, done);
        if (st != NB_OK)
            return st;
    }
    for (size_t b = 0, start = 0; start < rows; b++, start += bs) {
        size_t n = rows - start < bs ? rows - start : bs;
        nb_tensor x = nb_tensor_view(X->data + start * X->cols, n, X->cols);
        nb_tensor t = nb_tensor_view(T->data + start * T->cols, n, T->cols);
        if (o->shuffle) {
            gather(l->Xb.data, X, l->perm + start, n);
            gather(l->Tb.data, T, l->perm + start, n);
            x.data = l->Xb.data;
            t.data = l->Tb.data;
        }
        nb_status st = nb_trainer_step(tr, &x, &t, NULL);
        if (st != NB_OK)
            return st;
        if (on_batch)
            on_batch(b + 1, batches);
    }
    return NB_OK;
}

nb_status cli_train_loop(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                         const nb_train_opts *opts, cli_batch_fn on_batch,
                         nb_train_report *report)
{
    if (!tr || !X || !T || !opts || !X->data || !T->data)
        return NB_ERR_NULL;
    size_t rows = X->rows, bs = opts->batch_size < rows ? opts->batch_size : rows;
    loop l = {0};
    nb_status st = nb_trainer_begin(tr, rows, opts); /* checks the data's rows and options */
    if (st != NB_OK)
        return st;
    l.perm = malloc((rows ? rows : 1) * sizeof *l.perm);
    if (!l.perm || nb_tensor_alloc(&l.Xb, bs, X->cols) != NB_OK
        || nb_tensor_alloc(&l.Tb, bs, T->cols) != NB_OK)
        st = NB_ERR_NOMEM;
    nb_train_position pos;
    bool stop = st != NB_OK;
    if (!stop && (st = nb_trainer_position(tr, &pos)) == NB_OK)
        stop = pos.stopped || pos.epochs_done >= opts->epochs;
    while (!stop && st == NB_OK) {
        nb_epoch_info info;
        st = nb_trainer_position(tr, &pos);
        if (st == NB_OK)
            st = epoch(tr, &l, X, T, opts, pos.epochs_done, on_batch);
        if (st == NB_OK)
            st = nb_trainer_end_epoch(tr, &info, &stop);
        if (st == NB_OK && opts->on_epoch && opts->on_epoch(&info, opts->user))
            stop = true;
    }
    free(l.perm);
    nb_tensor_free(&l.Xb);
    nb_tensor_free(&l.Tb);
    nb_status end = nb_trainer_end(tr, report);
    return st != NB_OK ? st : end;
}
