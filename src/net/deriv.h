/* Input derivatives of a network (include/nablas/deriv.h): the context's layout, the one
   place where each activation's derivative is defined, and the tangent sweeps. */
#ifndef NB_NET_DERIV_H
#define NB_NET_DERIV_H

#include "net/network.h"
#include "nablas/deriv.h"

/* How an activation's Jacobian acts on the tangents of a row. */
typedef enum nb__djac {
    NB__DJ_ONE,     /* the identity: nothing to do */
    NB__DJ_DIAG,    /* diagonal: each tangent times f'(z), elementwise */
    NB__DJ_SOFTMAX  /* softmax: t <- a * (t - a.t), from the row's output a (symmetric) */
} nb__djac;

/* The Jacobian of activation act at the n x cols pre-activations Z with outputs A: for a
   diagonal one, D (n x cols) gets f'(Z) (from nb__act_bwd, the one definition of every
   activation's derivative).  Returns the kind (net/deriv_act.c). */
nb__djac nb__act_deriv(nb_act act, const float *Z, const float *A, float *D, size_t rows,
                       size_t cols);

/* T (rows * k tangents of cols values; tangents b*k .. b*k+k-1 belong to row b) <- each
   times row b's activation Jacobian: D = f'(Z) for NB__DJ_DIAG, the output A for
   NB__DJ_SOFTMAX (rows x cols), with scratch (k x cols floats) for the latter. */
void nb__djac_apply(nb__djac kind, const float *D, float *T, size_t rows, size_t k, size_t cols,
                    float *scratch);

struct nb_deriv_ctx {
    const nb_net *net;
    const float *mx, *sx; /* input standardisation, or NULL */
    const float *my, *sy; /* target standardisation, or NULL */
    bool probs;
    bool jac_fwd;   /* the Jacobian runs in forward mode */
    size_t max_batch, n_in, n_out;
    size_t k_jac;   /* tangents per row of the Jacobian: inputs (forward) or outputs */
    float *xn;      /* max_batch x inputs: the standardised rows */
    float **z;      /* per layer, max_batch x out: the pre-activations */
    float **a;      /* per layer, max_batch x out: the activations */
    float **d;      /* per layer, max_batch x out: f'(Z) where the Jacobian is diagonal */
    float *sm;      /* max(k_jac, 1) x max_width: softmax's tangents' copies of a row's output */
    nb__djac *kind; /* per layer */
    float *p;       /* with probs: max_batch x outputs, softmax of the output */
    float *t[2];    /* t_cap floats each: the tangents of a block of rows, alternately */
    size_t t_cap;
    float *block;   /* the single allocation z, a, d, p, sm and xn live in */
    float *f64;     /* the _f64 calls' float copies of a chunk (net/deriv_f64_buf.c) */
};

/* Makes ctx->f64 for a context whose other fields are set (net/deriv_f64_buf.c):
   NB_ERR_OVERFLOW or NB_ERR_NOMEM; freed with the context. */
nb_status nb__deriv_f64_alloc(nb_deriv_ctx *ctx);
/* The _f64 calls' buffers in ctx->f64: x and the tangents in (max_batch x inputs each, or
   outputs for u), the results out (max_batch x max(inputs * outputs, inputs, outputs)), y
   (max_batch x outputs). */
typedef struct nb__deriv_f64_bufs {
    float *x, *w, *out, *y;
} nb__deriv_f64_bufs;
nb__deriv_f64_bufs nb__deriv_f64_layout(const nb_deriv_ctx *ctx);

/* n rows of x through the network, keeping what the sweeps need; the output s(f(.)) of each
   row (before the target standardisation) is returned (n x outputs, in the context). */
const float *nb__deriv_forward(nb_deriv_ctx *ctx, const float *x, size_t n);
/* The rows of a block for k tangents per row: the sweeps run block by block, so that a block's
   tangents stay in cache from one layer to the next (at least 1, at most max_batch). */
size_t nb__deriv_block(const nb_deriv_ctx *ctx, size_t k);
/* Reverse sweep over rows r0 .. r0+n-1 of the last forward (n at most a block), through
   layers top-1 .. 0: G (ctx->t[0], (n * k) x the output width of layer top-1, or x outputs
   when top is the number of layers) holds the cotangents there on entry; the input
   cotangents ((n * k) x inputs, with respect to the standardised input) go to dst, memory
   outside the context. */
void nb__deriv_reverse(nb_deriv_ctx *ctx, size_t r0, size_t n, size_t k, size_t top,
                       float *dst);
/* Forward sweep over the same: ctx->t[0] holds the first layer's product S W_0
   ((n * k) x out_0) of the tangents S of the standardised input; returns the output tangents
   ((n * k) x outputs, one of ctx->t). */
float *nb__deriv_forward_sweep(nb_deriv_ctx *ctx, size_t r0, size_t n, size_t k);

#endif
