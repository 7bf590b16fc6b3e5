/* nablas: optimizers, learning-rate schedules and gradient clipping over flat buffers, with
   PyTorch 1.13's definitions (torch.optim.SGD, Adam, AdamW, RMSprop, torch.optim.lr_scheduler,
   torch.nn.utils.clip_grad_norm_).  docs/optim.md gives every rule as a formula.

   An optimizer updates one flat float buffer of n_params parameters (a network's, see
   nb_net_params, or the caller's own) from a gradient buffer of the same length and layout.
   Its state (moments, momentum buffers) lives in flat buffers of that same layout, allocated
   once by nb_optim_create; nb_optim_step allocates nothing.

   Hyper-parameters are doubles, as PyTorch's are Python floats: the per-step scalars (bias
   corrections, 1 - beta, lr / (1 - beta1^t)) are computed in double once per step and rounded
   to float once, in the order torch 1.13's single-tensor (foreach=False) code uses, so that
   nablas follows torch step for step. */
#ifndef NABLAS_OPTIM_H
#define NABLAS_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- optimizers ---------------------------------------------------------------------------- */

typedef enum nb_optim_kind {
    NB_OPTIM_SGD,      /* torch.optim.SGD: momentum, dampening, Nesterov, L2 weight decay */
    NB_OPTIM_ADAM,     /* torch.optim.Adam: L2 weight decay added to the gradient, amsgrad */
    NB_OPTIM_ADAMW,    /* torch.optim.AdamW: decoupled weight decay, amsgrad */
    NB_OPTIM_RMSPROP,  /* torch.optim.RMSprop: alpha, momentum, centered, weight decay */
    NB_OPTIM_KIND_COUNT /* number of kinds; not a kind */
} nb_optim_kind;

/* The hyper-parameters of all four kinds, in PyTorch's names.  Start from
   nb_optim_opts_default(kind) and change what you need.

   Ranges (nb_optim_create returns NB_ERR_ARG otherwise, for every field whatever the kind):
   every number finite; lr, weight_decay, eps >= 0; momentum, beta1, beta2 in [0, 1);
   dampening, alpha in [0, 1].  A feature the kind does not have must stay off: momentum > 0
   or dampening > 0 only for SGD and RMSprop (dampening: SGD only), nesterov only for SGD,
   amsgrad only for Adam and AdamW, centered only for RMSprop.  As in PyTorch, Nesterov needs
   momentum > 0 and dampening 0. */
typedef struct nb_optim_opts {
    nb_optim_kind kind;
    double lr;           /* learning rate */
    double momentum;     /* SGD, RMSprop */
    double dampening;    /* SGD */
    bool nesterov;       /* SGD */
    double weight_decay; /* SGD, Adam, RMSprop: L2 added to the gradient; AdamW: decoupled */
    double beta1, beta2; /* Adam, AdamW: torch's betas */
    double eps;          /* Adam, AdamW, RMSprop */
    bool amsgrad;        /* Adam, AdamW */
    double alpha;        /* RMSprop: smoothing constant */
    bool centered;       /* RMSprop */
} nb_optim_opts;

/* PyTorch 1.13's defaults for `kind`: lr 1e-3 (Adam, AdamW), 1e-2 (RMSprop; SGD, whose lr has
   no default in PyTorch), momentum 0, dampening 0, nesterov off, weight decay 0 (AdamW 1e-2),
   betas (0.9, 0.999), eps 1e-8, amsgrad off, alpha 0.99, centered off.  An unknown kind gives
   SGD's defaults with that kind (which nb_optim_create rejects). */
nb_optim_opts nb_optim_opts_default(nb_optim_kind kind);

typedef struct nb_optim nb_optim;

/* Creates an optimizer for n_params (>= 1) parameters: validates the options (NB_ERR_ARG, see
   nb_optim_opts) and allocates its zeroed state.  *opt is set only on success. */
nb_status nb_optim_create(nb_optim **opt, size_t n_params, const nb_optim_opts *opts);
void nb_optim_free(nb_optim *opt); /* NULL is a no-op */

/* One update of params (n_params floats) from grads (same length and layout); the step count
   goes up by one.  Allocates nothing.  NB_ERR_NULL for a NULL pointer, NB_ERR_ALIAS if the
   two buffers overlap.  Non-finite gradients are not checked here (the training loop does):
   they propagate into params and state as they would in PyTorch.  On x86 the update runs with
   flush-to-zero and denormals-are-zero (the caller's mode is restored): moments that decay
   below FLT_MIN become 0 instead of slowing every later step down (PyTorch keeps them). */
nb_status nb_optim_step(nb_optim *opt, float *params, const float *grads);

/* The learning rate the next steps use (finite, >= 0; NB_ERR_ARG otherwise).  Schedules set
   it before every step.  nb_optim_lr returns NaN for a NULL optimizer. */
nb_status nb_optim_set_lr(nb_optim *opt, double lr);
double nb_optim_lr(const nb_optim *opt);

uint64_t nb_optim_steps(const nb_optim *opt); /* steps taken; 0 for NULL */

/* Back to the state of a new optimizer: state buffers zeroed, step count 0 (the options,
   including a changed lr, stay). */
nb_status nb_optim_reset(nb_optim *opt);

/* ---- state, for checkpoints -----------------------------------------------------------------

   The state is the step count plus nb_optim_state_count buffers of nb_optim_num_params floats
   each, in the parameters' layout, in PyTorch's state order:
     SGD:      momentum > 0: 0 momentum_buffer; otherwise none.  (PyTorch creates the buffer
               at the first step as a copy of the gradient; nablas knows the first step by the
               step count being 0, so restore the count with the buffer.)
     Adam, AdamW: 0 exp_avg, 1 exp_avg_sq, and with amsgrad 2 max_exp_avg_sq.
     RMSprop:  0 square_avg, then momentum_buffer if momentum > 0, then grad_avg if centered
               (1 to 3 buffers).
   Saving: nb_optim_get_opts, nb_optim_steps and the buffers.  Restoring: nb_optim_create with
   those options, copy the buffers in, nb_optim_set_steps. */
size_t nb_optim_state_count(const nb_optim *opt);   /* 0 for NULL */
size_t nb_optim_num_params(const nb_optim *opt);    /* 0 for NULL */
float *nb_optim_state(nb_optim *opt, size_t i);     /* NULL if opt is NULL or i is out of range */
nb_status nb_optim_get_opts(const nb_optim *opt, nb_optim_opts *out); /* current lr included */
nb_status nb_optim_set_steps(nb_optim *opt, uint64_t steps);

/* ---- learning-rate schedules ----------------------------------------------------------------

   A schedule is a pure function of the step: nb_schedule_lr(s, t) is the learning rate of the
   update that follows t completed updates, i.e. what torch's optimizer holds after t calls of
   scheduler.step() (one per optimizer step).  Rates match torch.optim.lr_scheduler within
   1e-6 relative (torch composes its rates recursively; nablas uses the closed forms).

   Warm-up (warmup_steps W > 0): the rate rises linearly from base_lr * warmup_start_factor to
   base_lr over the first W steps, then the main schedule starts from its step 0 and runs over
   the remaining total_steps - W steps.  This is torch's
     SequentialLR([LinearLR(start_factor=warmup_start_factor, end_factor=1, total_iters=W),
                   main], milestones=[W]),
   main built with T_max / total_iters / total_steps = total_steps - W.  One-cycle has its own
   warm-up (pct_start) and takes none. */
typedef enum nb_schedule_kind {
    NB_SCHED_CONSTANT, /* base_lr */
    NB_SCHED_STEP,     /* StepLR: base_lr * gamma^floor(t / step_size) */
    NB_SCHED_COSINE,   /* CosineAnnealingLR, T_max = total_steps - W, floor eta_min */
    NB_SCHED_LINEAR,   /* LinearLR: base_lr * factor, factor linear from start_factor to
                          end_factor over total_steps - W steps, then constant */
    NB_SCHED_ONECYCLE, /* OneCycleLR with max_lr = base_lr (learning rate only: momentum is
                          not cycled, torch's cycle_momentum=False) */
    NB_SCHED_KIND_COUNT /* number of kinds; not a kind */
} nb_schedule_kind;

typedef enum nb_anneal {
    NB_ANNEAL_COS,    /* OneCycleLR anneal_strategy='cos' */
    NB_ANNEAL_LINEAR, /* OneCycleLR anneal_strategy='linear' */
    NB_ANNEAL_COUNT
} nb_anneal;

typedef struct nb_schedule {
    nb_schedule_kind kind;
    double base_lr;             /* the optimizer's learning rate (one-cycle: its peak) */
    uint64_t total_steps;       /* cosine, linear, one-cycle: the run's steps, warm-up included */
    uint64_t warmup_steps;      /* W; 0: no warm-up */
    double warmup_start_factor; /* (0, 1]: the warm-up starts at base_lr times this */
    uint64_t step_size;         /* step: >= 1 */
    double gamma;               /* step: decay factor, >= 0 */
    double eta_min;             /* cosine: floor, >= 0 */
    double start_factor;        /* linear: (0, 1] */
    double end_factor;          /* linear: [0, 1] */
    double pct_start;           /* one-cycle: fraction of the steps spent rising, (0, 1) */
    double div_factor;          /* one-cycle: initial lr = base_lr / div_factor, > 0 */
    double final_div_factor;    /* one-cycle: final lr = initial lr / final_div_factor, > 0 */
    nb_anneal anneal;           /* one-cycle */
    bool three_phase;           /* one-cycle */
} nb_schedule;

/* Torch's defaults where it has them: base_lr 0.01, total_steps 0 (set it for cosine, linear
   and one-cycle), no warm-up (warmup_start_factor 0.01 when W is set), step_size 1,
   gamma 0.1, eta_min 0, start_factor 1/3, end_factor 1, pct_start 0.3, div_factor 25,
   final_div_factor 1e4, anneal cos, three_phase off. */
nb_schedule nb_schedule_default(nb_schedule_kind kind);

/* NB_OK if s describes a schedule; NB_ERR_NULL for NULL; NB_ERR_ARG for an unknown kind or
   anneal, a non-finite or out-of-range field (see nb_schedule), total_steps <= warmup_steps for
   cosine, linear and one-cycle, a warm-up with one-cycle, or a one-cycle whose phases would
   be empty (pct_start * total_steps must exceed 1, and 2 for three phases, and leave steps
   after it). */
nb_status nb_schedule_check(const nb_schedule *s);

/* The learning rate after `step` completed steps (see above); NaN if nb_schedule_check(s)
   fails.  Past total_steps: cosine continues along its cosine as torch's does, linear keeps
   its end rate, one-cycle keeps its rate at total_steps (torch raises there). */
double nb_schedule_lr(const nb_schedule *s, uint64_t step);

/* ---- gradient clipping ---------------------------------------------------------------------- */

/* torch.nn.utils.clip_grad_norm_ over one buffer: total = ||grads||_2 (accumulated in double),
   coef = max_norm / (total + 1e-6); if coef < 1 every gradient is multiplied by coef.
   *total_norm (may be NULL) gets the norm before clipping.  NB_ERR_NULL for NULL grads,
   NB_ERR_ARG for n == 0 or max_norm not finite and > 0, NB_ERR_NONFINITE if the norm is not
   finite (the gradients are then left untouched). */
nb_status nb_clip_grad_norm(float *grads, size_t n, double max_norm, double *total_norm);

#ifdef __cplusplus
}
#endif
#endif
