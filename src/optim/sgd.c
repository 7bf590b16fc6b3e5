/* SGD with momentum, dampening, Nesterov and L2 weight decay, as torch 1.13's
   _single_tensor_sgd orders it (every scalar rounded to float once, one rounding per tensor
   operation):
     d = g + wd p
     momentum: b = d at the first step, else b = b mu + (1 - dampening) d
               d = nesterov ? d + mu b : b
     p = p + (-lr) d
   One pass over p, g (and b); the variants are separate loops so that each vectorises. */
#include "optim/optim.h"

typedef struct sgd_k {
    float lr_neg, wd, mu, damp1;
} sgd_k;

NB_CLONES
static void sgd_plain(float *restrict p, const float *restrict g, size_t n, sgd_k k)
{
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + k.wd * p[i];
        p[i] = p[i] + k.lr_neg * d;
    }
}

/* first: the buffer starts as a copy of d (PyTorch's clone at the first step) */
NB_INLINE void sgd_mom(float *restrict p, const float *restrict g, float *restrict b, size_t n,
                       sgd_k k, const bool first, const bool nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + k.wd * p[i];
        float bi;
        if (first) {
            bi = d;
        } else {
            bi = b[i] * k.mu;
            bi = bi + k.damp1 * d;
        }
        b[i] = bi;
        d = nesterov ? d + k.mu * bi : bi;
        p[i] = p[i] + k.lr_neg * d;
    }
}

NB_CLONES
static void sgd_mom_first(float *restrict p, const float *restrict g, float *restrict b, size_t n,
                          sgd_k k)
{
    sgd_mom(p, g, b, n, k, true, false);
}

NB_CLONES
static void sgd_mom_next(float *restrict p, const float *restrict g, float *restrict b, size_t n,
                         sgd_k k)
{
    sgd_mom(p, g, b, n, k, false, false);
}

NB_CLONES
static void sgd_nest_first(float *restrict p, const float *restrict g, float *restrict b,
                           size_t n, sgd_k k)
{
    sgd_mom(p, g, b, n, k, true, true);
}

NB_CLONES
static void sgd_nest_next(float *restrict p, const float *restrict g, float *restrict b, size_t n,
                          sgd_k k)
{
    sgd_mom(p, g, b, n, k, false, true);
}

void nb__optim_sgd(const nb_optim *opt, float *p, const float *g, uint64_t step)
{
    const nb_optim_opts *o = &opt->o;
    sgd_k k = {(float)-o->lr, (float)o->weight_decay, (float)o->momentum,
               (float)(1.0 - o->dampening)};
    if (o->momentum == 0.0) {
        sgd_plain(p, g, opt->n, k);
        return;
    }
    float *b = opt->state[0];
    bool first = step == 1;
    if (o->nesterov)
        (first ? sgd_nest_first : sgd_nest_next)(p, g, b, opt->n, k);
    else
        (first ? sgd_mom_first : sgd_mom_next)(p, g, b, opt->n, k);
}
