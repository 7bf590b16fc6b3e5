/* The optimizer object: options and their validation, state allocation, dispatch to the
   update rules (sgd.c, adam.c, rmsprop.c) and the state accessors for checkpoints. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "optim/optim.h"
#include "nablas/threads.h"

#if defined(__SSE2__) || defined(__x86_64__)
#include <xmmintrin.h>
#define NB_HAVE_MXCSR 1
#endif

nb_optim_opts nb_optim_opts_default(nb_optim_kind kind)
{
    nb_optim_opts o = {
        .kind = kind, .lr = 1e-2, .momentum = 0.0, .dampening = 0.0, .nesterov = false,
        .weight_decay = 0.0, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .amsgrad = false,
        .alpha = 0.99, .centered = false,
    };
    if (kind == NB_OPTIM_ADAM || kind == NB_OPTIM_ADAMW)
        o.lr = 1e-3;
    if (kind == NB_OPTIM_ADAMW)
        o.weight_decay = 1e-2;
    return o;
}

static bool in_range(double x, double lo, double hi) { return isfinite(x) && x >= lo && x <= hi; }
static bool below_one(double x) { return isfinite(x) && x >= 0.0 && x < 1.0; }

static nb_status check_opts(const nb_optim_opts *o)
{
    if ((unsigned)o->kind >= (unsigned)NB_OPTIM_KIND_COUNT)
        return NB_ERR_ARG;
    if (!in_range(o->lr, 0.0, INFINITY) || !in_range(o->weight_decay, 0.0, INFINITY) ||
        !in_range(o->eps, 0.0, INFINITY) || !below_one(o->momentum) ||
        !in_range(o->dampening, 0.0, 1.0) || !below_one(o->beta1) || !below_one(o->beta2) ||
        !in_range(o->alpha, 0.0, 1.0))
        return NB_ERR_ARG;
    bool sgd = o->kind == NB_OPTIM_SGD, rms = o->kind == NB_OPTIM_RMSPROP;
    bool adam = o->kind == NB_OPTIM_ADAM || o->kind == NB_OPTIM_ADAMW;
    /* a feature the kind lacks must stay off rather than be silently ignored */
    if ((o->momentum > 0.0 && !(sgd || rms)) || (o->dampening > 0.0 && !sgd) ||
        (o->nesterov && !sgd) || (o->amsgrad && !adam) || (o->centered && !rms))
        return NB_ERR_ARG;
    if (o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0)) /* PyTorch's rule */
        return NB_ERR_ARG;
    return NB_OK;
}

size_t nb__optim_state_count(const nb_optim_opts *o)
{
    switch (o->kind) {
    case NB_OPTIM_SGD:
        return o->momentum > 0.0;
    case NB_OPTIM_ADAM:
    case NB_OPTIM_ADAMW:
        return 2u + o->amsgrad;
    case NB_OPTIM_RMSPROP:
        return 1u + (o->momentum > 0.0) + o->centered;
    default:
        return 0;
    }
}

nb_status nb_optim_create(nb_optim **opt, size_t n_params, const nb_optim_opts *opts)
{
    if (!opt || !opts)
        return NB_ERR_NULL;
    if (n_params == 0)
        return NB_ERR_ARG;
    NB_TRY(check_opts(opts));
    size_t ns = nb__optim_state_count(opts);
    /* each buffer starts on a 64-byte boundary: a stride of whole 16-float lines */
    if (n_params > SIZE_MAX / sizeof(float) - 15)
        return NB_ERR_OVERFLOW;
    size_t stride = (n_params + 15) / 16 * 16;
    if (ns && stride > SIZE_MAX / sizeof(float) / ns)
        return NB_ERR_OVERFLOW;
    nb_optim *o = calloc(1, sizeof *o);
    if (!o)
        return NB_ERR_NOMEM;
    if (ns) {
        o->block = nb__alloc_floats(stride * ns);
        if (!o->block) {
            free(o);
            return NB_ERR_NOMEM;
        }
        for (size_t i = 0; i < ns; i++)
            o->state[i] = o->block + i * stride;
    }
    o->o = *opts;
    o->n = n_params;
    o->n_state = ns;
    *opt = o;
    return NB_OK;
}

void nb_optim_free(nb_optim *opt)
{
    if (!opt)
        return;
    free(opt->block);
    free(opt);
}

/* True if [a, a + n) and [b, b + n) share memory. */
static bool overlap(const float *a, const float *b, size_t n)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b, len = (uintptr_t)n * sizeof(float);
    return x < y + len && y < x + len;
}

/* The update of parameters [lo, hi): every optimizer is element-wise, so a range is a view of
   the optimizer with its state buffers offset, and ranges give the same bits as one pass. */
static void update_range(const nb_optim *opt, float *params, const float *grads, uint64_t step,
                         size_t lo, size_t hi)
{
    nb_optim part = *opt;
    part.n = hi - lo;
    for (size_t j = 0; j < part.n_state; j++)
        part.state[j] += lo;
#ifdef NB_HAVE_MXCSR
    /* Flush-to-zero and denormals-are-zero for the update: a moment of a parameter whose
       gradient stays 0 (a dead ReLU unit) decays geometrically into the denormal range, where
       every multiplication by beta or momentum takes a microcode assist, 10-100 times slower;
       one W2 epoch with Adam ran 1.6x slower for it.  What changes: values below FLT_MIN
       (1.2e-38) count as 0, where PyTorch keeps them; their effect on any update is below
       1e-30 of the learning rate. */
    unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
#endif
    switch (opt->o.kind) {
    case NB_OPTIM_SGD:
        nb__optim_sgd(&part, params + lo, grads + lo, step);
        break;
    case NB_OPTIM_ADAM:
    case NB_OPTIM_ADAMW:
        nb__optim_adam(&part, params + lo, grads + lo, step);
        break;
    default: /* validated at creation: RMSprop */
        nb__optim_rmsprop(&part, params + lo, grads + lo, step);
        break;
    }
#ifdef NB_HAVE_MXCSR
    _mm_setcsr(csr); /* per thread: each part sets and restores its own */
#endif
}

typedef struct update_run {
    const nb_optim *opt;
    float *params;
    const float *grads;
    uint64_t step;
} update_run;

static void update_part(void *ctx, int k, int parts)
{
    const update_run *u = ctx;
    size_t lo, hi;
    nb__pool_range(u->opt->n, 16, k, parts, &lo, &hi);
    update_range(u->opt, u->params, u->grads, u->step, lo, hi);
}

nb_status nb_optim_step(nb_optim *opt, float *params, const float *grads)
{
    if (!opt || !params || !grads)
        return NB_ERR_NULL;
    if (overlap(params, grads, opt->n))
        return NB_ERR_ALIAS;
    uint64_t step = opt->steps + 1;
    /* large buffers: one range per thread on the pool (memory-bound passes a second core
       speeds up; measured with nablas-bench-optim --threads-ab, docs/performance.md) */
    int parts = opt->n >= NB_OPTIM_SPLIT_MIN ? nb_get_threads() : 1;
    parts = parts < NB_POOL_MAX ? parts : NB_POOL_MAX;
    if (parts > 1 && !nb__pool_inside()) {
        update_run u = {opt, params, grads, step};
        nb__pool_run(update_part, &u, parts);
    } else {
        update_range(opt, params, grads, step, 0, opt->n);
    }
    opt->steps = step;
    return NB_OK;
}

nb_status nb_optim_set_lr(nb_optim *opt, double lr)
{
    if (!opt)
        return NB_ERR_NULL;
    if (!in_range(lr, 0.0, INFINITY))
        return NB_ERR_ARG;
    opt->o.lr = lr;
    return NB_OK;
}

double nb_optim_lr(const nb_optim *opt) { return opt ? opt->o.lr : NAN; }

uint64_t nb_optim_steps(const nb_optim *opt) { return opt ? opt->steps : 0; }

nb_status nb_optim_reset(nb_optim *opt)
{
    if (!opt)
        return NB_ERR_NULL;
    for (size_t i = 0; i < opt->n_state; i++)
        memset(opt->state[i], 0, opt->n * sizeof(float));
    opt->steps = 0;
    return NB_OK;
}

size_t nb_optim_state_count(const nb_optim *opt) { return opt ? opt->n_state : 0; }

size_t nb_optim_num_params(const nb_optim *opt) { return opt ? opt->n : 0; }

float *nb_optim_state(nb_optim *opt, size_t i)
{
    return opt && i < opt->n_state ? opt->state[i] : NULL;
}

nb_status nb_optim_get_opts(const nb_optim *opt, nb_optim_opts *out)
{
    if (!opt || !out)
        return NB_ERR_NULL;
    *out = opt->o;
    return NB_OK;
}

nb_status nb_optim_set_steps(nb_optim *opt, uint64_t steps)
{
    if (!opt)
        return NB_ERR_NULL;
    if (steps == UINT64_MAX) /* the next step's count must not wrap to 0 */
        return NB_ERR_ARG;
    opt->steps = steps;
    return NB_OK;
}
