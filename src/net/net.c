/* The network: construction, initialisation, parameter access, forward and backward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/network.h"

static void free_workspace(nb_net *net)
{
    free(net->acts);
    free(net->gbuf[0]);
    free(net->gbuf[1]);
    free(net->drop);
    free(net->pre);
    net->acts = net->gbuf[0] = net->gbuf[1] = net->drop = net->pre = NULL;
    net->cap_batch = net->drop_cap = 0;
    net->ready = false;
}

void nb_net_free(nb_net *net)
{
    if (!net)
        return;
    free_workspace(net);
    nb__split_free(net);
    nb__bf16_free(net->bf16);
    free(net->params);
    free(net->grads);
    free(net->layers);
    free(net->act_off);
    free(net);
}

nb_status nb_net_create(nb_net **out, size_t inputs, const nb_layer_spec *specs, size_t n_layers,
                        uint64_t seed)
{
    if (!out || !specs)
        return NB_ERR_NULL;
    if (inputs == 0 || n_layers == 0)
        return NB_ERR_SHAPE;
    size_t n_params = 0, max_width = inputs, total_out = 0, in = inputs;
    for (size_t l = 0; l < n_layers; l++) {
        size_t u = specs[l].units;
        if (u == 0)
            return NB_ERR_SHAPE;
        if (!nb__act_valid(specs[l].act))
            return NB_ERR_ARG;
        float p = specs[l].dropout; /* hidden layers only: the loss reads the raw output */
        if (!(p >= 0.0f && p < 1.0f) || (p > 0.0f && l + 1 == n_layers))
            return NB_ERR_ARG;
        NB_TRY(nb__check_blas_dims(in, u, 0));
        if (u > (SIZE_MAX / sizeof(float) - n_params) / (in + 1)
            || total_out > SIZE_MAX / 2 - u)
            return NB_ERR_OVERFLOW;
        n_params += (in + 1) * u;
        total_out += u;
        max_width = u > max_width ? u : max_width;
        in = u;
    }

    nb_net *net = calloc(1, sizeof *net);
    if (!net)
        return NB_ERR_NOMEM;
    net->layers = calloc(n_layers, sizeof *net->layers);
    net->act_off = calloc(n_layers, sizeof *net->act_off);
    net->params = nb__alloc_floats(n_params);
    net->grads = nb__alloc_floats(n_params);
    if (!net->layers || !net->act_off || !net->params || !net->grads) {
        nb_net_free(net);
        return NB_ERR_NOMEM;
    }
    net->inputs = inputs;
    net->n_layers = n_layers;
    net->n_params = n_params;
    net->max_width = max_width;
    size_t off = 0, act_off = 0, z_off = 0;
    in = inputs;
    for (size_t l = 0; l < n_layers; l++) {
        nb_layer *L = &net->layers[l];
        L->in = in;
        L->out = specs[l].units;
        L->act = specs[l].act;
        L->dropout = specs[l].dropout;
        net->any_dropout |= L->dropout > 0.0f;
        L->w_off = off;
        L->b_off = off + in * L->out;
        off = L->b_off + L->out;
        net->act_off[l] = act_off;
        act_off += L->out;
        L->z_off = z_off;
        z_off += nb__act_needs_z(L->act) ? L->out : 0;
        in = L->out;
    }
    net->z_per_row = z_off;
    nb_net_init_params(net, seed);
    *out = net;
    return NB_OK;
}

nb_status nb_net_init_params(nb_net *net, uint64_t seed)
{
    if (!net)
        return NB_ERR_NULL;
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    for (size_t l = 0; l < net->n_layers; l++) {
        const nb_layer *L = &net->layers[l];
        float *W = net->params + L->w_off;
        size_t n = L->in * L->out;
        if (L->act == NB_ACT_RELU || L->act == NB_ACT_LEAKY_RELU) { /* He normal */
            double sd = sqrt(2.0 / (double)L->in);
            for (size_t i = 0; i < n; i++)
                W[i] = (float)(sd * nb_rng_normal(&rng));
        } else { /* Xavier/Glorot uniform */
            double a = sqrt(6.0 / (double)(L->in + L->out));
            for (size_t i = 0; i < n; i++)
                W[i] = (float)(a * (2.0 * nb_rng_uniform(&rng) - 1.0));
        }
        memset(net->params + L->b_off, 0, L->out * sizeof(float));
    }
    memset(net->grads, 0, net->n_params * sizeof(float));
    net->ready = false;
    return NB_OK;
}

size_t nb_net_inputs(const nb_net *net) { return net ? net->inputs : 0; }
size_t nb_net_outputs(const nb_net *net) { return net ? net->layers[net->n_layers - 1].out : 0; }
size_t nb_net_num_layers(const nb_net *net) { return net ? net->n_layers : 0; }
size_t nb_net_num_params(const nb_net *net) { return net ? net->n_params : 0; }
float *nb_net_params(nb_net *net) { return net ? net->params : NULL; }
float *nb_net_grads(nb_net *net) { return net ? net->grads : NULL; }

nb_status nb_net_layer(const nb_net *net, size_t layer, nb_layer_spec *spec)
{
    if (!net || !spec)
        return NB_ERR_NULL;
    if (layer >= net->n_layers)
        return NB_ERR_ARG;
    spec->units = net->layers[layer].out;
    spec->act = net->layers[layer].act;
    spec->dropout = net->layers[layer].dropout;
    return NB_OK;
}

nb_status nb_net_set_dropout(nb_net *net, size_t layer, float p)
{
    if (!net)
        return NB_ERR_NULL;
    if (layer >= net->n_layers || !(p >= 0.0f && p < 1.0f) || (p > 0.0f && layer + 1 == net->n_layers))
        return NB_ERR_ARG;
    net->layers[layer].dropout = p;
    net->any_dropout = false;
    for (size_t l = 0; l < net->n_layers; l++)
        net->any_dropout |= net->layers[l].dropout > 0.0f;
    net->ready = false;
    return NB_OK;
}

nb_status nb_net_set_dropout_masks(nb_net *net, bool on, uint64_t seed)
{
    if (!net)
        return NB_ERR_NULL;
    net->drop_on = on;
    net->drop_seed = seed;
    net->drop_row0 = 0;
    net->ready = false;
    return NB_OK;
}

static nb_status layer_views(nb_net *net, float *base, size_t layer, nb_tensor *W, nb_tensor *b)
{
    if (!net || !W || !b)
        return NB_ERR_NULL;
    if (layer >= net->n_layers)
        return NB_ERR_ARG;
    const nb_layer *L = &net->layers[layer];
    *W = nb_tensor_view(base + L->w_off, L->in, L->out);
    *b = nb_tensor_view(base + L->b_off, 1, L->out);
    return NB_OK;
}

nb_status nb_net_layer_params(nb_net *net, size_t layer, nb_tensor *W, nb_tensor *b)
{
    return layer_views(net, net ? net->params : NULL, layer, W, b);
}

nb_status nb_net_layer_grads(nb_net *net, size_t layer, nb_tensor *dW, nb_tensor *db)
{
    return layer_views(net, net ? net->grads : NULL, layer, dW, db);
}

/* The dropped outputs, laid out as the activations, when a layer has dropout. */
static nb_status reserve_drop(nb_net *net, size_t batch, size_t per_row)
{
    if (!net->any_dropout || batch <= net->drop_cap)
        return NB_OK;
    float *d = nb__alloc_floats(batch * per_row);
    if (!d)
        return NB_ERR_NOMEM;
    free(net->drop);
    net->drop = d;
    net->drop_cap = batch;
    return NB_OK;
}

nb_status nb__net_reserve(nb_net *net, size_t batch)
{
    size_t per_row = net->act_off[net->n_layers - 1] + net->layers[net->n_layers - 1].out;
    if (batch <= net->cap_batch)
        return reserve_drop(net, net->cap_batch, per_row);
    if (batch > SIZE_MAX / sizeof(float) / per_row || batch > SIZE_MAX / sizeof(float) / net->max_width)
        return NB_ERR_OVERFLOW;
    float *acts = nb__alloc_floats(batch * per_row);
    float *g0 = nb__alloc_floats(batch * net->max_width);
    float *g1 = nb__alloc_floats(batch * net->max_width);
    /* z_per_row <= per_row: no overflow */
    float *pre = net->z_per_row ? nb__alloc_floats(batch * net->z_per_row) : NULL;
    if (!acts || !g0 || !g1 || (net->z_per_row && !pre)) {
        free(acts);
        free(g0);
        free(g1);
        free(pre);
        return NB_ERR_NOMEM; /* the old workspace stays as it was */
    }
    free_workspace(net);
    net->acts = acts;
    net->pre = pre;
    net->gbuf[0] = g0;
    net->gbuf[1] = g1;
    net->cap_batch = batch;
    return reserve_drop(net, batch, per_row);
}

nb_status nb_net_reserve(nb_net *net, size_t max_batch)
{
    if (!net)
        return NB_ERR_NULL;
    if (max_batch == 0)
        return NB_ERR_SHAPE;
    return nb__net_reserve(net, max_batch);
}

const float *nb__forward(const nb_net *net, const nb__fwd_ws *ws, const float *X, size_t n)
{
    const float *in = X;
    float *A = NULL;
    for (size_t l = 0; l < net->n_layers; l++) {
        const nb_layer *L = &net->layers[l];
        A = ws->acts ? ws->acts + ws->cap * net->act_off[l] : ws->buf[l & 1];
        const float *W = net->params + L->w_off, *b = net->params + L->b_off;
        if (ws->pre && nb__act_needs_z(L->act)) { /* Z kept for backward, A = f(Z) beside it */
            float *Z = ws->pre + ws->cap * L->z_off;
            nb__dense_act_fwd_p(ws->bf16, l, in, W, b, Z, n, L->in, L->out, NB_ACT_IDENTITY);
            nb__act_fwd_to(L->act, Z, A, n, L->out);
        } else {
            nb__dense_act_fwd_p(ws->bf16, l, in, W, b, A, n, L->in, L->out, L->act);
        }
        in = A;
        if (ws->drop && L->dropout > 0.0f) { /* never the last layer (nb_net_create) */
            float *D = ws->drop + ws->cap * net->act_off[l];
            nb__dropout_fwd(A, D, n * L->out, L->dropout, nb__dropout_key(ws->drop_seed, 0, l),
                            ws->drop_row0 * L->out);
            in = D;
        }
    }
    return A;
}

const float *nb__net_layer_input(const nb_net *net, size_t l)
{
    if (l == 0)
        return net->x_last;
    if (net->dropped_last && net->layers[l - 1].dropout > 0.0f)
        return net->drop + net->cap_batch * net->act_off[l - 1];
    return nb__net_act(net, l - 1);
}

void nb__net_forward(nb_net *net, const float *X, size_t batch)
{
    nb__fwd_ws ws = {net->acts, net->cap_batch, net->pre, {NULL, NULL}, NULL, NULL, 0, 0};
    nb__forward(net, &ws, X, batch);
    net->x_last = X;
    net->batch_last = batch;
    net->dropped_last = false;
    net->ready = true;
}

void nb__net_forward_train(nb_net *net, const float *X, size_t batch)
{
    /* nb__net_prepare made drop as large as acts (drop_cap == cap_batch) */
    bool drop = net->drop_on && net->any_dropout && net->drop;
    nb__fwd_ws ws = {net->acts, net->cap_batch, net->pre, {NULL, NULL}, net->bf16,
                     drop ? net->drop : NULL, net->drop_seed, net->drop_row0};
    nb__forward(net, &ws, X, batch);
    net->x_last = X;
    net->batch_last = batch;
    net->dropped_last = drop;
    net->ready = true;
}

nb_status nb__net_prepare(nb_net *net, size_t batch)
{
    NB_TRY(nb__net_reserve(net, batch));
    NB_TRY(nb__split_reserve(net, batch));
    return net->bf16 ? nb__bf16_prepare(net->bf16, batch) : NB_OK;
}

nb_status nb_net_forward(nb_net *net, const nb_tensor *X, nb_tensor *Y)
{
    if (!net)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != net->inputs)
        return NB_ERR_SHAPE;
    NB_TRY(nb__check_blas_dims(X->rows, 0, 0));
    NB_TRY(nb__net_prepare(net, X->rows));
    nb__net_forward_train(net, X->data, X->rows);
    if (Y)
        *Y = nb_tensor_view(nb__net_act(net, net->n_layers - 1), X->rows, nb_net_outputs(net));
    return NB_OK;
}

nb_status nb__net_check_loss(const nb_net *net, nb_loss loss)
{
    if (!nb__loss_valid(loss))
        return NB_ERR_ARG;
    if (loss == NB_LOSS_SOFTMAX_CE && net->layers[net->n_layers - 1].act != NB_ACT_IDENTITY)
        return NB_ERR_LOSS_ACT;
    return NB_OK;
}

double nb__net_loss_grad_n(nb_net *net, nb_loss loss, const float *T, bool want_loss,
                           size_t total_rows)
{
    size_t batch = net->batch_last, out = net->layers[net->n_layers - 1].out;
    const float *Y = nb__net_act(net, net->n_layers - 1);
    double value = want_loss ? nb__loss_fwd(loss, Y, T, batch, out) : 0.0;
    nb__loss_bwd_n(loss, Y, T, net->gbuf[0], batch, out, total_rows);
    return value;
}

double nb__net_loss_grad(nb_net *net, nb_loss loss, const float *T, bool want_loss)
{
    return nb__net_loss_grad_n(net, loss, T, want_loss, net->batch_last);
}

float *nb__net_out_grad(const nb_net *net) { return net->gbuf[0]; }

/* With grads NULL (the fused SGD step), W <- W - lr A_prev^T G and b <- b - lr colsum(G) run
   as one sgemm (alpha = -lr, beta = 1) and one column sum, so the weight gradient is never
   written out and the separate SGD pass over all parameters disappears. */
static void backward(nb_net *net, float *grads, float lr, void (*done)(void *, size_t), void *ctx);

void nb__net_backward(nb_net *net, float *grads, float lr) { backward(net, grads, lr, NULL, NULL); }

void nb__net_backward_each(nb_net *net, float *grads, void (*done)(void *ctx, size_t layer),
                           void *ctx)
{
    backward(net, grads, 0.0f, done, ctx);
}

static void backward(nb_net *net, float *grads, float lr, void (*done)(void *, size_t), void *ctx)
{
    size_t batch = net->batch_last;
    float *G = net->gbuf[0], *G_prev = net->gbuf[1];
    for (size_t l = net->n_layers; l-- > 0;) {
        const nb_layer *L = &net->layers[l];
        const float *A_prev = nb__net_layer_input(net, l);
        float *W = net->params + L->w_off;
        if (net->dropped_last && L->dropout > 0.0f) /* the forward's mask, regenerated */
            nb__dropout_bwd(G, batch * L->out, L->dropout, nb__dropout_key(net->drop_seed, 0, l),
                            net->drop_row0 * L->out);
        nb__act_bwd(L->act, nb__net_pre(net, l), nb__net_act(net, l), G, batch, L->out);
        /* the first layer's input gradient is never needed */
        if (grads && done) { /* the weight gradient first, so that its sum can start */
            nb__dense_bwd_p(net->bf16, l, A_prev, W, G, grads + L->w_off, grads + L->b_off,
                            NULL, batch, L->in, L->out);
            done(ctx, l);
            if (l) {
                nb__dense_dx_p(net->bf16, l, G, W, G_prev, batch, L->in, L->out);
                done(ctx, NB__NET_BETWEEN);
            }
        } else if (grads) {
            nb__dense_bwd_p(net->bf16, l, A_prev, W, G, grads + L->w_off, grads + L->b_off,
                            l ? G_prev : NULL, batch, L->in, L->out);
        } else {
            if (l) /* taken before the update: it needs the old weights */
                nb__dense_dx_p(net->bf16, l, G, W, G_prev, batch, L->in, L->out);
            nb__dense_update_p(net->bf16, l, A_prev, G, W, net->params + L->b_off, batch, L->in,
                               L->out, lr);
        }
        float *t = G;
        G = G_prev;
        G_prev = t;
    }
    net->ready = false; /* one backward per forward; a fused step also changed the weights */
}

nb_status nb__net_check_targets(const nb_net *net, nb_loss loss, const nb_tensor *T, size_t rows)
{
    NB_TRY(nb__check_tensor(T));
    NB_TRY(nb__net_check_loss(net, loss));
    return nb__check_shape(T, rows, nb_net_outputs(net));
}

nb_status nb_net_backward(nb_net *net, nb_loss loss, const nb_tensor *T, float *loss_out)
{
    if (!net)
        return NB_ERR_NULL;
    if (!net->ready)
        return NB_ERR_STATE;
    NB_TRY(nb__net_check_targets(net, loss, T, net->batch_last));
    double value = nb__net_loss_grad(net, loss, T->data, loss_out != NULL);
    nb__net_backward(net, net->grads, 0.0f); /* the header's contract: one backward per forward */
    if (loss_out)
        *loss_out = (float)value;
    return NB_OK;
}

nb_status nb_net_sgd_step(nb_net *net, float lr)
{
    if (!net)
        return NB_ERR_NULL;
    if (!isfinite(lr) || lr < 0.0f)
        return NB_ERR_ARG;
    nb__sgd(net->params, net->grads, net->n_params, lr);
    net->ready = false; /* activations no longer match the parameters */
    return NB_OK;
}
