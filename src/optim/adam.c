/* Adam and AdamW, with amsgrad, as torch 1.13's _single_tensor_adam / _single_tensor_adamw order
   the arithmetic (scalars computed in double once per step, rounded to float once; one
   rounding per tensor operation):
     AdamW: p = p * (1 - lr wd)             Adam: g = g + wd p
     m = m b1;  m = m + (1 - b1) g
     v = v b2;  v = v + ((1 - b2) g) g
     amsgrad: vmax = max(vmax, v), used for v below
     den = sqrt(v) / sqrt(1 - b2^t) + eps
     p = p + ((-lr / (1 - b1^t)) m) / den
   One pass over p, g, m, v (and vmax): 7 (9) streams of floats. */
#include <math.h>

#include "optim/optim.h"

typedef struct adam_k {
    float decay;   /* AdamW's 1 - lr wd; 1 for Adam (exact: p * 1 = p) */
    float wd;      /* Adam's L2 weight decay; 0 for AdamW */
    float b1, c1;  /* beta1, 1 - beta1 */
    float b2, c2;  /* beta2, 1 - beta2 */
    float bc2s;    /* sqrt(1 - beta2^t) */
    float eps;
    float step_neg; /* -lr / (1 - beta1^t) */
} adam_k;

NB_INLINE void adam_loop(float *restrict p, const float *restrict g, float *restrict m,
                         float *restrict v, float *restrict vmax, size_t n, adam_k k,
                         const bool ams)
{
    for (size_t i = 0; i < n; i++) {
        float pi = p[i] * k.decay;
        float gi = g[i] + k.wd * pi;
        float mi = m[i] * k.b1;
        mi = mi + k.c1 * gi;
        float vi = v[i] * k.b2;
        vi = vi + (k.c2 * gi) * gi;
        m[i] = mi;
        v[i] = vi;
        if (ams) {
            float vm = vmax[i];
            vm = vm >= vi ? vm : vi; /* a NaN v propagates, as torch.maximum */
            vmax[i] = vm;
            vi = vm;
        }
        float den = sqrtf(vi) / k.bc2s + k.eps;
        p[i] = pi + (k.step_neg * mi) / den;
    }
}

NB_CLONES
static void adam_plain(float *restrict p, const float *restrict g, float *restrict m,
                       float *restrict v, size_t n, adam_k k)
{
    adam_loop(p, g, m, v, NULL, n, k, false);
}

NB_CLONES
static void adam_ams(float *restrict p, const float *restrict g, float *restrict m,
                     float *restrict v, float *restrict vmax, size_t n, adam_k k)
{
    adam_loop(p, g, m, v, vmax, n, k, true);
}

void nb__optim_adam(const nb_optim *opt, float *p, const float *g, uint64_t step)
{
    const nb_optim_opts *o = &opt->o;
    bool decoupled = o->kind == NB_OPTIM_ADAMW;
    double t = (double)step;
    double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
    adam_k k = {
        .decay = decoupled ? (float)(1.0 - o->lr * o->weight_decay) : 1.0f,
        .wd = decoupled ? 0.0f : (float)o->weight_decay,
        .b1 = (float)o->beta1, .c1 = (float)(1.0 - o->beta1),
        .b2 = (float)o->beta2, .c2 = (float)(1.0 - o->beta2),
        .bc2s = (float)sqrt(bc2),
        .eps = (float)o->eps,
        .step_neg = (float)-(o->lr / bc1),
    };
    if (o->amsgrad)
        adam_ams(p, g, opt->state[0], opt->state[1], opt->state[2], opt->n, k);
    else
        adam_plain(p, g, opt->state[0], opt->state[1], opt->n, k);
}
