/* The training step, the single place where a step is put together:
       forward -> loss -> backward -> hook -> finiteness check -> update.
   Plain SGD with nothing between backward and update takes the fused path instead: the update
   runs inside backward, layer by layer, and the gradient buffer is never written.  That path
   checks the loss and the output gradient before the first update; a non-finite value that
   first appears deeper in that step shows in the next step's loss (the trainer then puts back
   the parameters it saved at the start of the epoch). */
#include <math.h>
#include <string.h>

#include "core/pool.h"
#include "train/step.h"
#include "train/trainer.h"

typedef struct layer_call {
    const nb_net *net;
    const nb__step_cfg *cfg;
    size_t rows, global_rows;
} layer_call;

static void layer_done(void *ctx, size_t l)
{
    const layer_call *c = ctx;
    if (l == NB__NET_BETWEEN) { /* between two products: a chance to progress the sums */
        c->cfg->layer_hook(c->cfg->hook_ctx, NULL, 0, c->rows, c->global_rows);
        return;
    }
    const nb_layer *L = &c->net->layers[l];
    c->cfg->layer_hook(c->cfg->hook_ctx, c->net->grads + L->w_off, L->in * L->out + L->out,
                       c->rows, c->global_rows);
}

static nb_status finish(nb_net *net, const nb__step_cfg *cfg, size_t rows, size_t global_rows,
                        double loss, double *loss_out);

/* A split step (net/split.c): part k computes rows [lo, hi) of the step's rows on nets[k]
   into its gradient buffer, with the gradient of the mean over denom rows (the step's rows,
   or with a hook the global batch's), so that the buffers' sum is the step's gradient. */
typedef struct split_run {
    nb_net *nets[NB_POOL_MAX];
    const float *X, *T;
    nb_loss loss;
    size_t rows, denom;
    double part_loss[NB_POOL_MAX]; /* part k's loss, weighted by its rows / denom */
} split_run;

static void split_part(void *ctx, int k, int parts)
{
    split_run *r = ctx;
    nb_net *s = r->nets[k];
    size_t lo, hi, in = s->inputs, out = s->layers[s->n_layers - 1].out;
    nb__slice(r->rows, (size_t)k, (size_t)parts, &lo, &hi);
    nb__net_forward_train(s, r->X + lo * in, hi - lo);
    double l = nb__net_loss_grad_n(s, r->loss, r->T + lo * out, true, r->denom);
    r->part_loss[k] = l * (double)(hi - lo) / (double)r->denom;
    nb__net_backward(s, s->grads, 0.0f);
}

/* The step's gradient (into net->grads) and loss by `parts` parts on the pool; false (nothing
   done) if the shards were not reserved for it. */
static bool split_grads(nb_net *net, const nb__step_cfg *cfg, const float *X, const float *T,
                        size_t rows, size_t denom, int parts, double *loss)
{
    split_run r = {{net}, X, T, cfg->loss, rows, denom, {0}};
    for (int k = 1; k < parts; k++) {
        size_t lo, hi;
        nb__slice(rows, (size_t)k, (size_t)parts, &lo, &hi);
        if (!(r.nets[k] = nb__split_shard(net, k, hi - lo, lo)))
            return false;
    }
    nb__pool_run(split_part, &r, parts);
    /* in part order, whatever the timing: the same bits every run (on the caller: a second
       fork-join for a pass over the parameters costs more than it saves) */
    *loss = r.part_loss[0];
    for (int k = 1; k < parts; k++) {
        nb__vadd(net->grads, r.nets[k]->grads, net->n_params);
        *loss += r.part_loss[k];
    }
    return true;
}

nb_status nb__train_step(nb_net *net, const nb__step_cfg *cfg, const float *X, const float *T,
                         size_t rows, size_t global_rows, double *loss_out)
{
    size_t out = net->layers[net->n_layers - 1].out;
    bool fused = !cfg->update && !cfg->hook;
    double loss = 0.0;
    layer_call lc = {net, cfg, rows, global_rows};
    bool each = cfg->hook && cfg->layer_hook;
    /* Small networks on two or more threads: the batch splits across the pool (the fused
       SGD step gives way to gradients, one sum and one update). */
    int parts = rows > 0 ? nb__split_parts(net, rows) : 1;
    if (parts > 1 && split_grads(net, cfg, X, T, rows, cfg->hook ? global_rows : rows, parts,
                                 &loss)) {
        for (size_t l = net->n_layers; each && l-- > 0;)
            layer_done(&lc, l); /* the sums are complete only now */
        return finish(net, cfg, rows, global_rows, loss, loss_out);
    }
    if (rows > 0) {
        nb__net_forward_train(net, X, rows);
        loss = nb__net_loss_grad(net, cfg->loss, T, true);
    }
    if (fused) {
        *loss_out = loss;
        if (rows == 0)
            return NB_OK;
        if (!isfinite(loss) || !nb__all_finite(nb__net_out_grad(net), rows * out)) {
            net->ready = false;
            return NB_ERR_NONFINITE;
        }
        nb__net_backward(net, NULL, cfg->lr);
        return NB_OK;
    }

    if (cfg->hook && rows > 0 && rows != global_rows) {
        /* the hook sums across processes: hand it this process's share of the global mean */
        double w = (double)rows / (double)global_rows;
        float *G = nb__net_out_grad(net), wf = (float)w;
        for (size_t i = 0; i < rows * out; i++)
            G[i] *= wf;
        loss *= w;
    }
    if (rows > 0)
        nb__net_backward_each(net, net->grads, each ? layer_done : NULL, &lc);
    else /* nothing computed here: this process adds zeros to the global batch */
        memset(net->grads, 0, net->n_params * sizeof(float));
    for (size_t l = net->n_layers; rows == 0 && each && l-- > 0;)
        layer_done(&lc, l);
    return finish(net, cfg, rows, global_rows, loss, loss_out);
}

/* The end of a non-fused step: hook, finiteness check, update. */
static nb_status finish(nb_net *net, const nb__step_cfg *cfg, size_t rows, size_t global_rows,
                        double loss, double *loss_out)
{
    nb_status st = cfg->hook
        ? cfg->hook(cfg->hook_ctx, net->grads, net->n_params, rows, global_rows, &loss) : NB_OK;
    *loss_out = loss;
    if (st != NB_OK)
        return st;
    if (!isfinite(loss) || !nb__all_finite(net->grads, net->n_params))
        return NB_ERR_NONFINITE;
    if (cfg->update)
        return cfg->update(cfg->update_ctx, net->params, net->grads, net->n_params);
    nb__sgd(net->params, net->grads, net->n_params, cfg->lr);
    return NB_OK;
}

nb_status nb_net_train_step(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                            float lr, float *loss_out)
{
    if (!net)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != net->inputs)
        return NB_ERR_SHAPE;
    NB_TRY(nb__net_check_targets(net, loss, T, X->rows));
    if (!isfinite(lr) || lr < 0.0f)
        return NB_ERR_ARG;
    NB_TRY(nb__check_blas_dims(X->rows, 0, 0));
    NB_TRY(nb__net_prepare(net, X->rows));
    nb__step_cfg cfg = {loss, lr, NULL, NULL, NULL, NULL, NULL};
    double value;
    nb_status st = nb__train_step(net, &cfg, X->data, T->data, X->rows, X->rows, &value);
    if (loss_out)
        *loss_out = (float)value;
    return st;
}
