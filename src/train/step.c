/* The training step, the single place where a step is put together:
       forward -> loss -> backward -> hook -> finiteness check -> update.
   Plain SGD with nothing between backward and update takes the fused path instead: the update
   runs inside backward, layer by layer, and the gradient buffer is never written.  That path
   checks the loss and the output gradient before the first update; a non-finite value that
   first appears deeper in that step shows in the next step's loss (the trainer then puts back
   the parameters it saved at the start of the epoch). */
#include <math.h>
#include <string.h>

#include "train/step.h"

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

nb_status nb__train_step(nb_net *net, const nb__step_cfg *cfg, const float *X, const float *T,
                         size_t rows, size_t global_rows, double *loss_out)
{
    size_t out = net->layers[net->n_layers - 1].out;
    bool fused = !cfg->update && !cfg->hook;
    double loss = 0.0;
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
    layer_call lc = {net, cfg, rows, global_rows};
    bool each = cfg->hook && cfg->layer_hook;
    if (rows > 0)
        nb__net_backward_each(net, net->grads, each ? layer_done : NULL, &lc);
    else /* nothing computed here: this process adds zeros to the global batch */
        memset(net->grads, 0, net->n_params * sizeof(float));
    for (size_t l = net->n_layers; rows == 0 && each && l-- > 0;)
        layer_done(&lc, l);
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
