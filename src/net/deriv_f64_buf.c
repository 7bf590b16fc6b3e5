/* The float buffers of the double-precision derivative calls (net/deriv_f64.c), made with a
   derivative context so that those calls allocate nothing. */
#include <stdint.h>
#include <stdlib.h>

#include "net/deriv.h"

/* floats per row of each buffer */
static size_t out_cols(const nb_deriv_ctx *ctx)
{
    size_t n = ctx->n_in, m = ctx->n_out, c = n * m; /* widths fit 32 bits each */
    if (c < n)
        c = n;
    return c < m ? m : c;
}

static size_t w_cols(const nb_deriv_ctx *ctx)
{
    return ctx->n_in > ctx->n_out ? ctx->n_in : ctx->n_out;
}

nb_status nb__deriv_f64_alloc(nb_deriv_ctx *ctx)
{
    size_t per_row = ctx->n_in + w_cols(ctx) + out_cols(ctx) + ctx->n_out;
    if (per_row < out_cols(ctx) || ctx->max_batch > SIZE_MAX / sizeof(float) / per_row)
        return NB_ERR_OVERFLOW;
    ctx->f64 = nb__alloc_floats(ctx->max_batch * per_row);
    return ctx->f64 ? NB_OK : NB_ERR_NOMEM;
}

nb__deriv_f64_bufs nb__deriv_f64_layout(const nb_deriv_ctx *ctx)
{
    nb__deriv_f64_bufs b;
    size_t mb = ctx->max_batch;
    b.x = ctx->f64;
    b.w = b.x + mb * ctx->n_in;
    b.out = b.w + mb * w_cols(ctx);
    b.y = b.out + mb * out_cols(ctx);
    return b;
}
