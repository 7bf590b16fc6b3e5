/* Data-parallel training: each rank computes its slice of every global batch, an allreduce
   sums the weighted gradients in place, a second one the loss and an error count, and every
   rank takes the same step. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mpi/comm.h"

typedef struct run {
    MPI_Comm c;
    int rank, size;
    nb_net *net;
    const nb_tensor *X, *T;
    bool local;  /* X and T hold only this rank's rows (nb_mpi_local_rows) */
    size_t rows; /* of the whole data set */
    size_t in, out, np, bs, cap;
    const nb_train_opts *o;
    size_t *perm;
    float *xb, *tb; /* this rank's gathered slice when shuffling */
    float *grads;   /* the network's gradient buffer, summed in place */
} run;

static nb_status check_local(run *r)
{
    const nb_train_opts *o = r->o;
    if (!r->net || !o || !r->X || !r->T)
        return NB_ERR_NULL;
    if (o->batch_size == 0 || o->epochs == 0 || !isfinite(o->lr) || o->lr < 0.0f ||
        (r->local && o->shuffle) || r->rows == 0)
        return NB_ERR_ARG;
    if ((unsigned)o->loss >= (unsigned)NB_LOSS_COUNT)
        return NB_ERR_ARG;
    size_t rows = r->rows;
    if (r->local)
        NB_TRY(nb_mpi_local_rows(&rows, NULL, r->rows, o->batch_size, r->rank, r->size));
    if (rows == 0) /* a rank without rows (local mode, tiny data): it only adds zeros */
        return r->X->rows == 0 && r->T->rows == 0 ? NB_OK : NB_ERR_SHAPE;
    NB_TRY(nb__check_shape(r->X, rows, r->in));
    NB_TRY(nb__check_shape(r->T, rows, r->out));
    return nb__check_blas_dims(rows, 0, 0);
}

/* Everything the loop needs, before the first step. */
static nb_status alloc_run(run *r)
{
    size_t bs = r->o->batch_size < r->rows ? r->o->batch_size : r->rows;
    r->bs = bs;
    r->cap = bs / (size_t)r->size + 1; /* the largest slice of any batch */
    NB_TRY(nb_net_reserve(r->net, r->cap));
    if (r->np > INT32_MAX)
        return NB_ERR_LIMIT; /* one MPI call counts in int */
    r->grads = nb_net_grads(r->net);
    if (!r->o->shuffle)
        return NB_OK;
    if (r->rows > SIZE_MAX / sizeof *r->perm)
        return NB_ERR_OVERFLOW;
    r->perm = malloc(r->rows * sizeof *r->perm);
    r->xb = nb__alloc_floats(r->cap * r->in);
    r->tb = nb__alloc_floats(r->cap * r->out);
    if (!r->perm || !r->xb || !r->tb)
        return NB_ERR_NOMEM;
    for (size_t i = 0; i < r->rows; i++)
        r->perm[i] = i;
    return NB_OK;
}

static void gather(float *dst, const float *src, const size_t *idx, size_t n, size_t cols)
{
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * cols, src + idx[i] * cols, cols * sizeof(float));
}

/* This rank's part of one step on global rows [start, start + n), `*next` local rows already
   used (local mode): weighted gradients in the gradient buffer, the weighted loss in *loss. */
static nb_status local_grads(run *r, size_t start, size_t n, size_t *next, double *loss)
{
    size_t first, m;
    NB_TRY(nb_mpi_slice(&first, &m, n, r->rank, r->size));
    *loss = 0.0;
    if (m == 0) { /* fewer rows than ranks: this rank adds nothing */
        memset(r->grads, 0, r->np * sizeof *r->grads);
        return NB_OK;
    }
    const float *x, *t;
    if (r->local) {
        x = r->X->data + *next * r->in;
        t = r->T->data + *next * r->out;
        *next += m;
    } else if (r->perm) {
        gather(r->xb, r->X->data, r->perm + start + first, m, r->in);
        gather(r->tb, r->T->data, r->perm + start + first, m, r->out);
        x = r->xb;
        t = r->tb;
    } else {
        x = r->X->data + (start + first) * r->in;
        t = r->T->data + (start + first) * r->out;
    }
    nb_tensor xv = nb_tensor_view((float *)x, m, r->in), tv = nb_tensor_view((float *)t, m, r->out);
    float l = 0.0f;
    NB_TRY(nb_net_forward(r->net, &xv, NULL));
    NB_TRY(nb_net_backward(r->net, r->o->loss, &tv, &l));
    /* local mean x m / n: the sum over ranks is the mean over the global batch */
    float w = (float)((double)m / (double)n);
    float *g = r->grads;
    for (size_t i = 0; i < r->np; i++)
        g[i] *= w;
    *loss = (double)l * (double)m / (double)n;
    return NB_OK;
}

/* NaN when any of v[0..n) is NaN or infinite (x * 0 is 0 for every finite x). */
static bool all_finite(const float *v, size_t n)
{
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++)
        acc += v[i] * 0.0f;
    return acc == 0.0f;
}

static nb_status step(run *r, size_t start, size_t n, size_t *next, double *loss)
{
    double tail[2] = {0.0, 0.0}; /* the weighted loss, the count of failing ranks */
    nb_status s = local_grads(r, start, n, next, &tail[0]);
    tail[1] = s != NB_OK;
    if (s != NB_OK) /* still takes part, so that no rank waits for it */
        memset(r->grads, 0, r->np * sizeof *r->grads);
    if (MPI_Allreduce(MPI_IN_PLACE, r->grads, (int)r->np, MPI_FLOAT, MPI_SUM, r->c) !=
            MPI_SUCCESS ||
        MPI_Allreduce(MPI_IN_PLACE, tail, 2, MPI_DOUBLE, MPI_SUM, r->c) != MPI_SUCCESS)
        return NB_ERR_MPI;
    if (tail[1] != 0.0) /* some rank failed: every rank learns which status */
        return nb__mpi_agree(r->c, s);
    /* decided on the sums, the same on every rank: a NaN anywhere reaches all */
    if (!isfinite(tail[0]) || !all_finite(r->grads, r->np))
        return NB_ERR_NONFINITE;
    nb__sgd(nb_net_params(r->net), r->grads, r->np, r->o->lr);
    *loss = tail[0];
    return NB_OK;
}

static nb_status train(run *r, nb_train_report *report)
{
    const nb_train_opts *o = r->o;
    nb_train_report rep = {0, 0, NAN, false};
    nb_status s = NB_OK;
    if (MPI_Bcast(nb_net_params(r->net), (int)r->np, MPI_FLOAT, 0, r->c) != MPI_SUCCESS)
        return NB_ERR_MPI;
    nb_rng rng;
    nb_rng_seed(&rng, o->seed);
    for (size_t epoch = 1; epoch <= o->epochs && s == NB_OK; epoch++) {
        if (r->perm) /* the single-process order: Fisher-Yates over the previous one */
            for (size_t i = r->rows - 1; i > 0; i--) {
                size_t j = (size_t)nb_rng_below(&rng, i + 1), t = r->perm[i];
                r->perm[i] = r->perm[j];
                r->perm[j] = t;
            }
        double sum = 0.0;
        size_t next = 0;
        for (size_t start = 0; start < r->rows && s == NB_OK; start += r->bs) {
            size_t n = r->rows - start < r->bs ? r->rows - start : r->bs;
            double loss = 0.0;
            s = step(r, start, n, &next, &loss);
            sum += loss * (double)n;
            rep.steps += s == NB_OK;
        }
        if (s != NB_OK)
            break;
        rep.epochs_run = epoch;
        rep.last_loss = sum / (double)r->rows;
        if (o->on_epoch) {
            nb_epoch_info info = {epoch, o->epochs, rep.last_loss, rep.steps};
            int stop = o->on_epoch(&info, o->user) != 0, any = 0;
            if (MPI_Allreduce(&stop, &any, 1, MPI_INT, MPI_MAX, r->c) != MPI_SUCCESS)
                return NB_ERR_MPI;
            if (any) {
                rep.stopped_early = epoch < o->epochs;
                break;
            }
        }
    }
    if (report)
        *report = rep;
    return s;
}

static nb_status train_over(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                            size_t rows, bool local, const nb_train_opts *opts,
                            nb_train_report *report)
{
    run r = {.net = net, .X = X, .T = T, .local = local, .rows = rows, .o = opts};
    NB_TRY(nb__mpi_dup(&r.c, comm, &r.rank, &r.size));
    r.in = nb_net_inputs(net);
    r.out = nb_net_outputs(net);
    r.np = nb_net_num_params(net);
    nb_status s = check_local(&r);
    if (s == NB_OK)
        s = alloc_run(&r);
    /* the same data set, network and options on every rank, or no rank starts */
    uint32_t lr_bits = 0;
    if (opts)
        memcpy(&lr_bits, &opts->lr, sizeof lr_bits);
    uint64_t same[] = {
        rows, r.in, r.out, r.np, nb_net_num_layers(net), opts ? opts->batch_size : 0,
        opts ? opts->epochs : 0, opts ? (uint64_t)opts->loss : 0, opts ? opts->seed : 0,
        opts ? opts->shuffle : 0, lr_bits, local,
    };
    s = nb__mpi_agree_same(r.c, s, same, sizeof same / sizeof *same);
    if (s == NB_OK)
        s = train(&r, report);
    free(r.perm);
    free(r.xb);
    free(r.tb);
    MPI_Comm_free(&r.c);
    return s;
}

nb_status nb_mpi_train(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                       const nb_train_opts *opts, nb_train_report *report)
{
    return train_over(net, comm, X, T, X ? X->rows : 0, false, opts, report);
}

nb_status nb_mpi_train_local(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                             size_t global_rows, const nb_train_opts *opts,
                             nb_train_report *report)
{
    return train_over(net, comm, X, T, global_rows, true, opts, report);
}
