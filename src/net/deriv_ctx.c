/* Derivative contexts: the workspace of one thread for a network that is only read (every
   layer's pre-activations and outputs, the tangent buffers), made once, and the forward pass
   that fills it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/deriv.h"

/* Floats per tangent buffer: two of them (512 KiB each) stay in a core's L2 cache between the
   layers of a block, where whole (rows * k) x width matrices of large batches would not. */
#define NB__DERIV_BLOCK_FLOATS ((size_t)128 * 1024)

nb_deriv_opts nb_deriv_opts_default(void)
{
    nb_deriv_opts o = {NULL, NULL, false, NB_DERIV_AUTO};
    return o;
}

void nb_deriv_ctx_free(nb_deriv_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->block);
    free(ctx->f64);
    free(ctx->t[0]);
    free(ctx->t[1]);
    free(ctx->z);
    free(ctx->a);
    free(ctx->d);
    free(ctx->kind);
    free(ctx);
}

/* a * b, or false if it overflows size_t */
static bool mul_ok(size_t a, size_t b, size_t *r)
{
    if (b && a > SIZE_MAX / b)
        return false;
    *r = a * b;
    return true;
}

/* The options against the network (NB_ERR_SHAPE, NB_ERR_ARG). */
static nb_status check_opts(const nb_net *net, const nb_deriv_opts *o, size_t max_batch)
{
    size_t L = net->n_layers, n_in = net->inputs, n_out = net->layers[L - 1].out;
    if (max_batch == 0)
        return NB_ERR_SHAPE;
    if ((unsigned)o->mode >= (unsigned)NB_DERIV_MODE_COUNT)
        return NB_ERR_ARG;
    if (o->norm && nb_norm_features(o->norm) != n_in)
        return NB_ERR_SHAPE;
    if (o->target_norm && nb_norm_features(o->target_norm) != n_out)
        return NB_ERR_SHAPE;
    if (o->probabilities && (net->layers[L - 1].act == NB_ACT_SOFTMAX || n_out < 2))
        return NB_ERR_ARG;
    return NB_OK;
}

/* The sizes in floats: *t_len of a tangent buffer (the tangents of a block of rows, up to
   NB__DERIV_BLOCK_FLOATS, at least one row's k of up to max_width values, at most max_batch
   rows'), *blk of the kept layers' block and *sm of its softmax part; NB_ERR_OVERFLOW. */
static nb_status plan_sizes(const nb_net *net, const nb_deriv_opts *o, size_t max_batch,
                            size_t k, size_t *t_len, size_t *blk, size_t *sm)
{
    size_t rows_t, row_t, acts = 0, n_in = net->inputs, n_out = nb_net_outputs(net);
    if (!mul_ok(max_batch, k, &rows_t) || !mul_ok(rows_t, net->max_width, t_len)
        || !mul_ok(k, net->max_width, &row_t))
        return NB_ERR_OVERFLOW;
    if (*t_len > NB__DERIV_BLOCK_FLOATS)
        *t_len = row_t > NB__DERIV_BLOCK_FLOATS ? row_t : NB__DERIV_BLOCK_FLOATS;
    NB_TRY(nb__check_blas_dims(*t_len / net->max_width, 0, 0));
    for (size_t l = 0; l < net->n_layers; l++)
        acts += net->layers[l].out; /* widths fit 32 bits each: no overflow */
    size_t per_row = 3 * acts + (o->probabilities ? n_out : 0) + (o->norm ? n_in : 0);
    if (!mul_ok(max_batch, per_row, blk) || !mul_ok(k ? k : 1, net->max_width, sm)
        || *blk > SIZE_MAX / sizeof(float) - *sm || *t_len > SIZE_MAX / sizeof(float))
        return NB_ERR_OVERFLOW;
    *blk += *sm;
    return NB_OK;
}

/* The per-layer arrays and the block's parts: z, a, d of each layer, sm, p, xn. */
static void lay_out(nb_deriv_ctx *c, size_t sm)
{
    float *p = c->block;
    for (size_t l = 0; l < c->net->n_layers; l++) {
        size_t len = c->max_batch * c->net->layers[l].out;
        c->z[l] = p;
        c->a[l] = p + len;
        c->d[l] = p + 2 * len;
        p += 3 * len;
    }
    c->sm = p;
    p += sm;
    if (c->probs) {
        c->p = p;
        p += c->max_batch * c->n_out;
    }
    if (c->mx)
        c->xn = p;
}

nb_status nb_deriv_ctx_create(nb_deriv_ctx **out, const nb_net *net, const nb_deriv_opts *opts,
                              size_t max_batch)
{
    if (!out || !net)
        return NB_ERR_NULL;
    nb_deriv_opts o = opts ? *opts : nb_deriv_opts_default();
    NB_TRY(check_opts(net, &o, max_batch));
    size_t L = net->n_layers, n_in = net->inputs, n_out = net->layers[L - 1].out;
    bool fwd = o.mode == NB_DERIV_FORWARD || (o.mode == NB_DERIV_AUTO && n_in <= n_out);
    size_t k = fwd ? n_in : n_out, t_len, blk, sm;
    NB_TRY(plan_sizes(net, &o, max_batch, k, &t_len, &blk, &sm));
    nb_deriv_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NB_ERR_NOMEM;
    *c = (nb_deriv_ctx){
        .net = net, .probs = o.probabilities, .jac_fwd = fwd, .max_batch = max_batch,
        .n_in = n_in, .n_out = n_out, .k_jac = k, .t_cap = t_len,
        .mx = o.norm ? nb_norm_mean(o.norm) : NULL, .sx = o.norm ? nb_norm_std(o.norm) : NULL,
        .my = o.target_norm ? nb_norm_mean(o.target_norm) : NULL,
        .sy = o.target_norm ? nb_norm_std(o.target_norm) : NULL,
    };
    c->block = nb__alloc_floats(blk);
    c->t[0] = nb__alloc_floats(t_len);
    c->t[1] = nb__alloc_floats(t_len);
    c->z = calloc(L, sizeof *c->z);
    c->a = calloc(L, sizeof *c->a);
    c->d = calloc(L, sizeof *c->d);
    c->kind = calloc(L, sizeof *c->kind);
    if (!c->block || !c->t[0] || !c->t[1] || !c->z || !c->a || !c->d || !c->kind) {
        nb_deriv_ctx_free(c);
        return NB_ERR_NOMEM;
    }
    lay_out(c, sm);
    nb_status st = nb__deriv_f64_alloc(c);
    if (st != NB_OK) {
        nb_deriv_ctx_free(c);
        return st;
    }
    *out = c;
    return NB_OK;
}

const float *nb__deriv_forward(nb_deriv_ctx *ctx, const float *x, size_t n)
{
    const nb_net *net = ctx->net;
    const float *in = x;
    if (ctx->mx) { /* as nb_norm_apply_to */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < ctx->n_in; j++)
                ctx->xn[i * ctx->n_in + j] = (x[i * ctx->n_in + j] - ctx->mx[j]) / ctx->sx[j];
        in = ctx->xn;
    }
    for (size_t l = 0; l < net->n_layers; l++) {
        const nb_layer *L = &net->layers[l];
        /* Z is kept apart from A: the derivatives of some activations need it */
        nb__dense_fwd(in, net->params + L->w_off, net->params + L->b_off, ctx->z[l], n, L->in,
                      L->out);
        nb__act_fwd_to(L->act, ctx->z[l], ctx->a[l], n, L->out);
        ctx->kind[l] = nb__act_deriv(L->act, ctx->z[l], ctx->a[l], ctx->d[l], n, L->out);
        in = ctx->a[l];
    }
    if (ctx->probs) {
        memcpy(ctx->p, in, n * ctx->n_out * sizeof(float));
        nb__act_fwd(NB_ACT_SOFTMAX, ctx->p, n, ctx->n_out);
        in = ctx->p;
    }
    return in;
}
