/* Inference contexts: a private copy of the workspace per thread, the network only read.
   The network's one forward loop (nb__forward) writes into the context's ping-pong buffers,
   so several contexts can run the same network at once, bit-identical to nb_net_predict. */
#include <stdlib.h>
#include <string.h>

#include "net/network.h"
#include "nablas/infer.h"

struct nb_infer_ctx {
    const nb_net *net;
    const nb_norm *norm;
    size_t max_batch;
    float *buf[2]; /* max_batch x max_width each: layer outputs, alternately */
    float *xn;     /* max_batch x inputs: the standardised input, when norm is set */
};

void nb_infer_ctx_free(nb_infer_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->buf[0]);
    free(ctx->buf[1]);
    free(ctx->xn);
    free(ctx);
}

nb_status nb_infer_ctx_create(nb_infer_ctx **out, const nb_net *net, const nb_norm *norm,
                              size_t max_batch)
{
    if (!net || !out)
        return NB_ERR_NULL;
    if (max_batch == 0)
        return NB_ERR_SHAPE;
    if (norm && nb_norm_features(norm) != net->inputs)
        return NB_ERR_SHAPE;
    NB_TRY(nb__check_blas_dims(max_batch, 0, 0));
    if (max_batch > SIZE_MAX / sizeof(float) / net->max_width)
        return NB_ERR_OVERFLOW;
    nb_infer_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NB_ERR_NOMEM;
    ctx->net = net;
    ctx->norm = norm;
    ctx->max_batch = max_batch;
    ctx->buf[0] = nb__alloc_floats(max_batch * net->max_width);
    ctx->buf[1] = nb__alloc_floats(max_batch * net->max_width);
    if (norm)
        ctx->xn = nb__alloc_floats(max_batch * net->inputs);
    if (!ctx->buf[0] || !ctx->buf[1] || (norm && !ctx->xn)) {
        nb_infer_ctx_free(ctx);
        return NB_ERR_NOMEM;
    }
    *out = ctx;
    return NB_OK;
}

nb_status nb_infer_predict(nb_infer_ctx *ctx, const nb_tensor *X, nb_tensor *Y)
{
    if (!ctx)
        return NB_ERR_NULL;
    const nb_net *net = ctx->net;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != net->inputs)
        return NB_ERR_SHAPE;
    size_t out = net->layers[net->n_layers - 1].out;
    NB_TRY(nb__check_shape(Y, X->rows, out));
    if (nb__overlap(X, Y))
        return NB_ERR_ALIAS;
    for (size_t start = 0; start < X->rows; start += ctx->max_batch) {
        size_t n = X->rows - start < ctx->max_batch ? X->rows - start : ctx->max_batch;
        const float *x = X->data + start * net->inputs;
        if (ctx->norm) {
            nb_tensor src = nb_tensor_view((float *)x, n, net->inputs); /* only read */
            nb_tensor dst = nb_tensor_view(ctx->xn, n, net->inputs);
            NB_TRY(nb_norm_apply_to(ctx->norm, &src, &dst));
            x = ctx->xn;
        }
        nb__fwd_ws ws = {NULL, 0, NULL, {ctx->buf[0], ctx->buf[1]}, NULL, NULL, 0, 0};
        memcpy(Y->data + start * out, nb__forward(net, &ws, x, n), n * out * sizeof(float));
    }
    return NB_OK;
}
