/* Data-parallel training on the trainer (src/train): every rank runs nb_trainer_run on slice
   `rank` of `size` of every global batch, and the step hook, called after the local backward
   and before any finiteness decision or update, turns the local means into the global batch's:
   it weights the gradients by local rows / global rows and sums them in place across ranks
   with one MPI_Allreduce, then sums the weighted loss and a count of failing ranks with a
   second, two-number one.  Every rank then makes the same decision and the same update. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/train_mpi.h"
#include "train/trainer.h"

typedef struct mpi_run {
    MPI_Comm c;
    int rank, size;
    nb__mpi_cfg cfg;
    size_t hook_calls;
    const nb_train_opts *user_opts; /* the caller's callback */
    nb_status mpi_failed;           /* an MPI call in a hook or the callback failed */
    MPI_Request *reqs;              /* overlap: the step's outstanding per-layer sums */
    size_t n_reqs, cap_reqs;
} mpi_run;

/* Pieces of at most cfg.bucket floats (0: one piece). */
static size_t piece(const mpi_run *r, size_t left)
{
    return r->cfg.bucket && left > r->cfg.bucket ? r->cfg.bucket : left;
}

/* Overlap: starts summing count gradients at g across ranks, to be waited for in the hook. */
static void start_sum(mpi_run *r, float *g, size_t count)
{
    if (count == 0 && (!r->cfg.progress || r->n_reqs == 0))
        return; /* between two products: progress only if asked and something is under way */
    for (size_t done = 0, n; done < count; done += n) {
        n = piece(r, count - done);
        if (r->n_reqs == r->cap_reqs || MPI_Iallreduce(MPI_IN_PLACE, g + done, (int)n, MPI_FLOAT,
                                                       MPI_SUM, r->c, &r->reqs[r->n_reqs]) !=
                                            MPI_SUCCESS) {
            r->mpi_failed = NB_ERR_MPI;
            return;
        }
        r->n_reqs++;
    }
    int flag; /* lets the earlier layers' sums progress while this rank computes */
    if (MPI_Testall((int)r->n_reqs, r->reqs, &flag, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        r->mpi_failed = NB_ERR_MPI;
}

static void layer_hook(void *ctx, float *grads, size_t count, size_t local_rows,
                       size_t global_rows)
{
    (void)local_rows; /* the step already weighed them: this rank's share of the mean */
    (void)global_rows;
    start_sum(ctx, grads, count);
}

/* The collectives of one step.  g: np weighted gradients (zeros from a rank that failed),
   already being summed in overlap mode; tail: the weighted loss and 1 if this rank failed,
   else 0.  `mine` is this rank's status. */
static nb_status reduce_step(mpi_run *r, float *g, size_t np, double tail[2], nb_status mine)
{
    r->hook_calls++;
    if (r->cfg.overlap) {
        if (MPI_Waitall((int)r->n_reqs, r->reqs, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            r->mpi_failed = NB_ERR_MPI;
        r->n_reqs = 0;
    } else {
        for (size_t done = 0, n; done < np && r->mpi_failed == NB_OK; done += n) {
            n = piece(r, np - done);
            if (MPI_Allreduce(MPI_IN_PLACE, g + done, (int)n, MPI_FLOAT, MPI_SUM, r->c) !=
                MPI_SUCCESS)
                r->mpi_failed = NB_ERR_MPI;
        }
    }
    if (r->mpi_failed != NB_OK ||
        MPI_Allreduce(MPI_IN_PLACE, tail, 2, MPI_DOUBLE, MPI_SUM, r->c) != MPI_SUCCESS)
        return r->mpi_failed = NB_ERR_MPI;
    if (tail[1] != 0.0) /* some rank failed: every rank learns which status */
        return nb__mpi_agree(r->c, mine);
    return NB_OK;
}

static nb_status hook(void *ctx, float *grads, size_t n_params, size_t local_rows,
                      size_t global_rows, double *loss)
{
    /* grads and loss come as this rank's share of the global batch's mean (local sum / global
       rows, step.h): their sums over the ranks are the single-process values */
    (void)local_rows;
    (void)global_rows;
    double tail[2] = {*loss, 0.0};
    NB_TRY(reduce_step(ctx, grads, n_params, tail, NB_OK));
    *loss = tail[0]; /* the same on every rank: NaN anywhere reaches every rank */
    return NB_OK;
}

/* Overlap: one request per piece of every layer. */
static nb_status alloc_reqs(mpi_run *r, const nb_net *net)
{
    size_t in = nb_net_inputs(net), total = 0;
    for (size_t l = 0; l < nb_net_num_layers(net); l++) {
        nb_layer_spec L;
        NB_TRY(nb_net_layer(net, l, &L));
        size_t count = in * L.units + L.units;
        total += r->cfg.bucket ? (count + r->cfg.bucket - 1) / r->cfg.bucket : 1;
        in = L.units;
    }
    r->reqs = malloc(total * sizeof *r->reqs);
    if (!r->reqs)
        return NB_ERR_NOMEM;
    r->cap_reqs = total;
    return NB_OK;
}

/* Training stops when the caller's callback says so on any rank. */
static int on_epoch(const nb_epoch_info *info, void *user)
{
    mpi_run *r = user;
    const nb_train_opts *o = r->user_opts;
    int stop = o->on_epoch ? o->on_epoch(info, o->user) != 0 : 0, any = 0;
    if (MPI_Allreduce(&stop, &any, 1, MPI_INT, MPI_MAX, r->c) != MPI_SUCCESS) {
        r->mpi_failed = NB_ERR_MPI;
        return 1;
    }
    return any;
}

/* Checks this rank's arguments before any collective (the trainer checks them again). */
static nb_status check_local(const nb_net *net, const nb_tensor *X, const nb_tensor *T,
                             size_t rows, bool local, const nb_train_opts *o, int rank, int size)
{
    if (!net || !o || !X || !T)
        return NB_ERR_NULL;
    if (o->batch_size == 0 || o->epochs == 0 || !isfinite(o->lr) || o->lr < 0.0 ||
        (local && o->shuffle) || rows == 0 || (unsigned)o->loss >= (unsigned)NB_LOSS_COUNT)
        return NB_ERR_ARG;
    if (nb_net_num_params(net) > INT32_MAX)
        return NB_ERR_LIMIT; /* one MPI call counts in int */
    size_t mine = rows;
    if (local)
        NB_TRY(nb_mpi_local_rows(&mine, NULL, rows, o->batch_size, rank, size));
    if (mine == 0) /* a rank without rows (local mode, tiny data): it only adds zeros */
        return X->rows == 0 && T->rows == 0 ? NB_OK : NB_ERR_SHAPE;
    NB_TRY(nb__check_shape(X, mine, nb_net_inputs(net)));
    return nb__check_shape(T, mine, nb_net_outputs(net));
}

/* A rank without rows (local mode) passes empty X and T; the trainer, which wants tensors,
   gets a one-row placeholder it never reads (this rank's slices are all empty). */
typedef struct held_data {
    float *ph;
    nb_tensor x, t;
} held_data;

static nb_status hold_empty(held_data *h, const nb_net *net)
{
    size_t in = nb_net_inputs(net), out = nb_net_outputs(net);
    if (!(h->ph = nb__alloc_floats(in > out ? in : out)))
        return NB_ERR_NOMEM;
    h->x = nb_tensor_view(h->ph, 1, in);
    h->t = nb_tensor_view(h->ph, 1, out);
    return NB_OK;
}

/* The same data set, network, options and (resuming) position on every rank, or no rank
   starts (s: this rank's status so far); then rank 0's parameters on every rank. */
static nb_status agree(mpi_run *r, nb_status s, const nb_net *net, size_t rows, bool local,
                       const nb_train_opts *opts, const nb_train_position *pos)
{
    uint64_t lr_bits = 0, optim_lr = 0, clip = 0, optim = 0, sched = 0;
    if (opts) {
        memcpy(&lr_bits, &opts->lr, sizeof lr_bits);
        memcpy(&clip, &opts->clip_norm, sizeof clip);
        if (opts->optim) {
            optim = (uint64_t)opts->optim->kind + 1;
            memcpy(&optim_lr, &opts->optim->lr, sizeof optim_lr);
        }
        sched = opts->schedule ? (uint64_t)opts->schedule->kind + 1 : 0;
    }
    bool resume = opts && opts->resume;
    uint64_t same[] = {
        rows, nb_net_inputs(net), nb_net_outputs(net), nb_net_num_params(net),
        nb_net_num_layers(net), opts ? opts->batch_size : 0, opts ? opts->epochs : 0,
        opts ? (uint64_t)opts->loss : 0, opts ? opts->seed : 0, opts ? opts->shuffle : 0,
        lr_bits, local, r->cfg.overlap, r->cfg.bucket, optim, optim_lr, clip, sched,
        r->cfg.progress, resume, resume ? pos->epochs_done : 0, resume ? pos->steps_done : 0,
        resume ? pos->stopped : 0,
    };
    s = nb__mpi_agree_same(r->c, s, same, sizeof same / sizeof *same);
    if (s == NB_OK && MPI_Bcast(nb_net_params((nb_net *)net), (int)nb_net_num_params(net),
                                MPI_FLOAT, 0, r->c) != MPI_SUCCESS)
        s = NB_ERR_MPI;
    return s;
}

/* A rank that failed before its first step (e.g. no memory for the loop's buffers) takes
   part in the step the others are waiting in, as a failing rank, so that all stop alike. */
static nb_status fail_first_step(mpi_run *r, nb_net *net, nb_status s)
{
    size_t np = nb_net_num_params(net), off = np;
    float *g = nb_net_grads(net);
    memset(g, 0, np * sizeof *g);
    for (size_t l = nb_net_num_layers(net); r->cfg.overlap && l-- > 0;) {
        nb_layer_spec L; /* the layers' pieces, last layer first, as the step sends them */
        nb_net_layer(net, l, &L);
        size_t in = l ? 0 : nb_net_inputs(net), count;
        if (l) {
            nb_layer_spec P;
            nb_net_layer(net, l - 1, &P);
            in = P.units;
        }
        count = in * L.units + L.units;
        off -= count;
        start_sum(r, g + off, count);
    }
    double tail[2] = {0.0, 1.0};
    return reduce_step(r, g, np, tail, s);
}

/* Trains net on a new trainer (mine NULL) or on the caller's trainer `mine` (net = its
   network): the trainer's stages with this rank's slice of every batch and the sums as the
   step's hooks. */
static nb_status run(nb_net *net, nb_trainer *mine, mpi_run *r, const nb_tensor *X,
                     const nb_tensor *T, size_t rows, bool local, const nb_train_opts *opts,
                     nb_train_report *report)
{
    nb_trainer *tr = mine;
    nb_train_position pos = {0, 0, 0, NAN, 0, false};
    held_data held = {0};
    nb_status s = check_local(net, X, T, rows, local, opts, r->rank, r->size);
    bool hold = s == NB_OK && X->rows == 0;
    if (hold)
        s = hold_empty(&held, net);
    if (s == NB_OK && !mine)
        s = nb_trainer_create(&tr, net);
    if (s == NB_OK)
        s = nb_trainer_position(tr, &pos);
    if (s == NB_OK && r->cfg.overlap)
        s = alloc_reqs(r, net);
    s = agree(r, s, net, rows, local, opts, &pos);
    if (s == NB_OK) {
        nb_train_opts o = *opts;
        o.on_epoch = on_epoch;
        o.user = r;
        nb__run_hooks h = {(size_t)r->rank, (size_t)r->size, local ? rows : 0,
                           {hook, r->cfg.overlap ? layer_hook : NULL, r}};
        s = nb__trainer_run_with(tr, hold ? &held.x : X, hold ? &held.t : T, &o, &h, report);
        /* whether the others take steps: the same answer on every rank (options and
           position agreed above) */
        bool steps = !opts->resume || (!pos.stopped && opts->epochs > pos.epochs_done);
        if (s != NB_OK && steps && r->hook_calls == 0 && r->mpi_failed == NB_OK)
            s = fail_first_step(r, net, s);
        if (r->mpi_failed != NB_OK)
            s = r->mpi_failed;
        else /* a rank that failed where the others took no step (a resume with nothing left) */
            s = nb__mpi_agree(r->c, s);
    }
    free(held.ph);
    free(r->reqs);
    if (!mine) /* the caller's trainer stays as the run left it */
        nb_trainer_free(tr);
    return s;
}

/* The default: one in-place allreduce over the whole gradient per step.  On this project's
   2-core host (docs/scaling.md) it is as fast as Open MPI's best algorithm, pieces only add
   handshakes, and the per-layer non-blocking sums lose to libnbc's binomial choice on 2-3
   ranks (and only tie under its ring): with no spare core, nothing overlaps. */
static const nb__mpi_cfg default_cfg = {false, 0, false};

nb_status nb__mpi_train_cfg(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                            size_t rows, bool local, const nb_train_opts *opts,
                            nb_train_report *report, const nb__mpi_cfg *cfg)
{
    mpi_run r = {.mpi_failed = NB_OK, .cfg = cfg ? *cfg : default_cfg};
    NB_TRY(nb__mpi_dup(&r.c, comm, &r.rank, &r.size));
    r.user_opts = opts;
    nb_status s = run(net, NULL, &r, X, T, rows, local, opts, report);
    MPI_Comm_free(&r.c);
    return s;
}

nb_status nb_mpi_train(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                       const nb_train_opts *opts, nb_train_report *report)
{
    return nb__mpi_train_cfg(net, comm, X, T, X ? X->rows : 0, false, opts, report, NULL);
}

nb_status nb_mpi_train_local(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                             size_t global_rows, const nb_train_opts *opts,
                             nb_train_report *report)
{
    return nb__mpi_train_cfg(net, comm, X, T, global_rows, true, opts, report, NULL);
}

nb_status nb_mpi_trainer_run(nb_trainer *tr, MPI_Comm comm, const nb_tensor *X,
                             const nb_tensor *T, const nb_train_opts *opts,
                             nb_train_report *report)
{
    mpi_run r = {.mpi_failed = NB_OK, .cfg = default_cfg};
    NB_TRY(nb__mpi_dup(&r.c, comm, &r.rank, &r.size));
    r.user_opts = opts;
    /* a NULL trainer still takes part in the agreement (run checks it), so that the others
       do not wait */
    nb_status s = run(tr ? tr->net : NULL, tr, &r, X, T, X ? X->rows : 0, false, opts, report);
    MPI_Comm_free(&r.c);
    return s;
}
