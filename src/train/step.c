/* The training step, the single place where a step is put together:
       forward -> loss -> backward -> hooks -> finiteness check -> update.
   A fused step (plain SGD, no hooks) runs the update inside backward, layer by layer, and
   never writes the gradient buffer; it checks the loss and the output gradient before the
   first update, so a non-finite value that first appears deeper in that step shows in the
   next step's loss (the trainer then puts back the parameters it saved at the start of the
   epoch).  Small networks on two or more threads split the batch across the pool instead
   (gradients, one sum, one update). */
#include <math.h>
#include <string.h>

#include "core/pool.h"
#include "train/step.h"

typedef struct layer_call {
    const nb_net *net;
    const nb__step_hooks *hooks;
    size_t rows, global_rows;
} layer_call;

/* Tells the layer hook that layer l's gradients are written (NB__NET_BETWEEN: a point
   between two products, a chance to progress the sums). */
static void layer_done(void *ctx, size_t l)
{
    const layer_call *c = ctx;
    const nb__step_hooks *h = c->hooks;
    if (l == NB__NET_BETWEEN) {
        h->layer(h->ctx, NULL, 0, c->rows, c->global_rows);
        return;
    }
    const nb_layer *L = &c->net->layers[l];
    h->layer(h->ctx, c->net->grads + L->w_off, L->in * L->out + L->out, c->rows,
             c->global_rows);
}

/* Every layer's gradients at once, last layer first (they were complete only now). */
static void all_layers_done(const layer_call *lc)
{
    for (size_t l = lc->net->n_layers; lc->hooks && lc->hooks->layer && l-- > 0;)
        layer_done((void *)lc, l);
}

/* A split step (net/split.c): part k computes rows [lo, hi) of the step's rows on nets[k]
   into its gradient buffer, with the gradient of the mean over denom rows (the global
   batch's), so that the buffers' sum is the step's gradient. */
typedef struct split_run {
    nb_net *nets[NB_POOL_MAX];
    const float *X, *T;
    nb_loss loss;
    nb__drop_at drop;
    size_t rows, denom;
    double part_loss[NB_POOL_MAX]; /* part k's loss, weighted by its rows / denom */
} split_run;

static void split_part(void *ctx, int k, int parts)
{
    split_run *r = ctx;
    nb_net *s = r->nets[k];
    size_t lo, hi, in = s->inputs, out = s->layers[s->n_layers - 1].out;
    nb__slice(r->rows, (size_t)k, (size_t)parts, &lo, &hi);
    nb__drop_at d = r->drop;
    d.row0 += lo; /* the part's rows take their share of the whole batch's masks */
    nb__net_forward_train(s, r->X + lo * in, hi - lo, &d);
    double l = nb__net_loss_grad_n(s, r->loss, r->T + lo * out, true, r->denom);
    r->part_loss[k] = l * (double)(hi - lo) / (double)r->denom;
    nb__net_backward(s, s->grads, 0.0f);
}

/* The step's gradient (into net->grads) and loss by `parts` parts on the pool; false (nothing
   done) if the shards were not reserved for it. */
static bool split_grads(nb_net *net, nb_loss loss_kind, const nb__step_at *at, const float *X,
                        const float *T, size_t rows, size_t denom, int parts, double *loss)
{
    split_run r = {{net}, X, T, loss_kind, at->drop, rows, denom, {0}};
    for (int k = 1; k < parts; k++) {
        size_t lo, hi;
        nb__slice(rows, (size_t)k, (size_t)parts, &lo, &hi);
        if (!(r.nets[k] = nb__split_shard(net, k, hi - lo, at->drop.on)))
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

/* The gradient of this process's rows into net->grads, as its share of the global batch's
   mean (zeros without rows), the layer hook told as each layer is written; returns the
   loss share. */
static double local_grads(nb_net *net, const nb__step_cfg *cfg, const nb__step_at *at,
                          const float *X, const float *T, size_t rows, size_t global_rows)
{
    layer_call lc = {net, cfg->hooks, rows, global_rows};
    if (rows == 0) { /* nothing computed here: this process adds zeros to the global batch */
        memset(net->grads, 0, net->n_params * sizeof(float));
        all_layers_done(&lc);
        return 0.0;
    }
    nb__net_forward_train(net, X, rows, &at->drop);
    double loss = nb__net_loss_grad(net, cfg->loss, T, true);
    if (rows != global_rows) { /* the hooks sum across processes: hand them this share */
        double w = (double)rows / (double)global_rows;
        float *G = nb__net_out_grad(net), wf = (float)w;
        for (size_t i = 0; i < rows * net->layers[net->n_layers - 1].out; i++)
            G[i] *= wf;
        loss *= w;
    }
    bool each = cfg->hooks && cfg->hooks->layer;
    nb__net_backward_each(net, net->grads, each ? layer_done : NULL, &lc);
    return loss;
}

/* The fused plain-SGD step: the loss and the output gradient are checked before backward
   updates the first layer. */
static nb_status fused_step(nb_net *net, const nb__step_cfg *cfg, const nb__step_at *at,
                            const float *X, const float *T, size_t rows, double *loss_out)
{
    nb__net_forward_train(net, X, rows, &at->drop);
    *loss_out = nb__net_loss_grad(net, cfg->loss, T, true);
    size_t out = net->layers[net->n_layers - 1].out;
    if (!isfinite(*loss_out) || !nb__all_finite(nb__net_out_grad(net), rows * out)) {
        net->ready = false;
        return NB_ERR_NONFINITE;
    }
    nb__net_backward(net, NULL, (float)at->lr);
    return NB_OK;
}

nb_status nb__train_step(nb_net *net, const nb__step_cfg *cfg, const nb__step_at *at,
                         const float *X, const float *T, size_t rows, size_t global_rows,
                         double *loss_out)
{
    double loss;
    int parts = rows > 0 ? nb__split_parts(net, rows) : 1;
    bool split = parts > 1 && split_grads(net, cfg->loss, at, X, T, rows, global_rows, parts,
                                          &loss);
    if (split) {
        layer_call lc = {net, cfg->hooks, rows, global_rows};
        all_layers_done(&lc);
    } else if (cfg->fused && !cfg->hooks && rows > 0) {
        return fused_step(net, cfg, at, X, T, rows, loss_out);
    } else {
        loss = local_grads(net, cfg, at, X, T, rows, global_rows);
    }
    nb_status st = NB_OK;
    if (cfg->hooks)
        st = cfg->hooks->sum(cfg->hooks->ctx, net->grads, net->n_params, rows, global_rows,
                             &loss);
    *loss_out = loss;
    if (st != NB_OK)
        return st;
    if (!isfinite(loss) || !nb__all_finite(net->grads, net->n_params))
        return NB_ERR_NONFINITE;
    return cfg->update(cfg->update_ctx, net->params, net->grads, net->n_params, at->lr);
}

nb_status nb__sgd_update(void *ctx, float *params, float *grads, size_t n_params, double lr)
{
    (void)ctx;
    nb__sgd(params, grads, n_params, (float)lr);
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
    nb__step_cfg cfg = {loss, true, nb__sgd_update, NULL, NULL};
    nb__step_at at = {lr, net->masks}; /* the caller's masks (nb_net_set_dropout_masks) */
    double value;
    nb_status st = nb__train_step(net, &cfg, &at, X->data, T->data, X->rows, X->rows, &value);
    if (loss_out)
        *loss_out = (float)value;
    return st;
}
