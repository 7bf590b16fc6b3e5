/* RMSprop with weight decay, momentum and the centered variant, as torch 1.13's
   _single_tensor_rmsprop orders the arithmetic (one rounding per tensor operation):
     g = g + wd p
     s = s a;  s = s + ((1 - a) g) g
     centered: ga = ga a;  ga = ga + (1 - a) g;  avg = sqrt(s + (-ga) ga)
     else:     avg = sqrt(s)
     avg = avg + eps
     momentum: b = b mu;  b = b + g / avg;  p = p + (-lr) b
     else:     p = p + ((-lr) g) / avg
   The momentum buffer starts at zero (unlike SGD's).  One pass over all buffers. */
#include <math.h>

#include "optim/optim.h"

typedef struct rms_k {
    float wd, a, c, eps, mu, lr_neg;
} rms_k;

NB_INLINE void rms_loop(float *restrict p, const float *restrict g, float *restrict s,
                        float *restrict b, float *restrict ga, size_t n, rms_k k,
                        const bool mom, const bool centered)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + k.wd * p[i];
        float si = s[i] * k.a;
        si = si + (k.c * gi) * gi;
        s[i] = si;
        float avg;
        if (centered) {
            float gai = ga[i] * k.a;
            gai = gai + k.c * gi;
            ga[i] = gai;
            avg = sqrtf(si + (-gai) * gai);
        } else {
            avg = sqrtf(si);
        }
        avg = avg + k.eps;
        if (mom) {
            float bi = b[i] * k.mu;
            bi = bi + gi / avg;
            b[i] = bi;
            p[i] = p[i] + k.lr_neg * bi;
        } else {
            p[i] = p[i] + (k.lr_neg * gi) / avg;
        }
    }
}

NB_CLONES
static void rms_plain(float *restrict p, const float *restrict g, float *restrict s, size_t n,
                      rms_k k)
{
    rms_loop(p, g, s, NULL, NULL, n, k, false, false);
}

NB_CLONES
static void rms_mom(float *restrict p, const float *restrict g, float *restrict s,
                    float *restrict b, size_t n, rms_k k)
{
    rms_loop(p, g, s, b, NULL, n, k, true, false);
}

NB_CLONES
static void rms_centered(float *restrict p, const float *restrict g, float *restrict s,
                         float *restrict ga, size_t n, rms_k k)
{
    rms_loop(p, g, s, NULL, ga, n, k, false, true);
}

NB_CLONES
static void rms_mom_centered(float *restrict p, const float *restrict g, float *restrict s,
                             float *restrict b, float *restrict ga, size_t n, rms_k k)
{
    rms_loop(p, g, s, b, ga, n, k, true, true);
}

void nb__optim_rmsprop(const nb_optim *opt, float *p, const float *g, uint64_t step)
{
    (void)step; /* RMSprop has no bias correction */
    const nb_optim_opts *o = &opt->o;
    rms_k k = {(float)o->weight_decay, (float)o->alpha, (float)(1.0 - o->alpha), (float)o->eps,
               (float)o->momentum, (float)-o->lr};
    /* state order: square_avg, momentum_buffer (momentum > 0), grad_avg (centered) */
    bool mom = o->momentum > 0.0;
    float *s = opt->state[0], *b = mom ? opt->state[1] : NULL;
    float *ga = o->centered ? opt->state[mom ? 2 : 1] : NULL;
    if (mom && o->centered)
        rms_mom_centered(p, g, s, b, ga, opt->n, k);
    else if (mom)
        rms_mom(p, g, s, b, opt->n, k);
    else if (o->centered)
        rms_centered(p, g, s, ga, opt->n, k);
    else
        rms_plain(p, g, s, opt->n, k);
}
