/* Learning-rate schedules as pure functions of the step, in the closed forms of
   torch.optim.lr_scheduler (StepLR, CosineAnnealingLR, LinearLR, OneCycleLR), with an optional
   linear warm-up composed as torch's SequentialLR([LinearLR, main], milestones=[W]) does. */
#include <math.h>

#include "optim/optim.h"

static const double PI = 3.14159265358979323846;

nb_schedule nb_schedule_default(nb_schedule_kind kind)
{
    nb_schedule s = {
        .kind = kind, .base_lr = 0.01, .total_steps = 0, .warmup_steps = 0,
        .warmup_start_factor = 0.01, .step_size = 1, .gamma = 0.1, .eta_min = 0.0,
        .start_factor = 1.0 / 3.0, .end_factor = 1.0, .pct_start = 0.3, .div_factor = 25.0,
        .final_div_factor = 1e4, .anneal = NB_ANNEAL_COS, .three_phase = false,
    };
    return s;
}

static bool finite_ge0(double x) { return isfinite(x) && x >= 0.0; }

/* One-cycle's phase ends, as torch computes them (float(pct_start * total) - 1 etc.). */
static size_t onecycle_phases(const nb_schedule *s, double T, double end[3], double from[3],
                              double to[3])
{
    double lr0 = s->base_lr / s->div_factor, lr_min = lr0 / s->final_div_factor;
    double rise = s->pct_start * T - 1.0;
    if (s->three_phase) {
        end[0] = rise;               from[0] = lr0;        to[0] = s->base_lr;
        end[1] = 2.0 * rise;         from[1] = s->base_lr; to[1] = lr0;
        end[2] = T - 1.0;            from[2] = lr0;        to[2] = lr_min;
        return 3;
    }
    end[0] = rise;    from[0] = lr0;        to[0] = s->base_lr;
    end[1] = T - 1.0; from[1] = s->base_lr; to[1] = lr_min;
    return 2;
}

nb_status nb_schedule_check(const nb_schedule *s)
{
    if (!s)
        return NB_ERR_NULL;
    if ((unsigned)s->kind >= (unsigned)NB_SCHED_KIND_COUNT ||
        (unsigned)s->anneal >= (unsigned)NB_ANNEAL_COUNT)
        return NB_ERR_ARG;
    if (!finite_ge0(s->base_lr) || !isfinite(s->warmup_start_factor) ||
        s->warmup_start_factor <= 0.0 || s->warmup_start_factor > 1.0)
        return NB_ERR_ARG;
    bool needs_total = s->kind == NB_SCHED_COSINE || s->kind == NB_SCHED_LINEAR ||
                       s->kind == NB_SCHED_ONECYCLE;
    if (needs_total && s->total_steps <= s->warmup_steps)
        return NB_ERR_ARG;
    switch (s->kind) {
    case NB_SCHED_STEP:
        if (s->step_size == 0 || !finite_ge0(s->gamma))
            return NB_ERR_ARG;
        break;
    case NB_SCHED_COSINE:
        if (!finite_ge0(s->eta_min))
            return NB_ERR_ARG;
        break;
    case NB_SCHED_LINEAR: /* torch's LinearLR ranges */
        if (!isfinite(s->start_factor) || s->start_factor <= 0.0 || s->start_factor > 1.0 ||
            !isfinite(s->end_factor) || s->end_factor < 0.0 || s->end_factor > 1.0)
            return NB_ERR_ARG;
        break;
    case NB_SCHED_ONECYCLE: {
        if (s->warmup_steps != 0 || !isfinite(s->pct_start) || s->pct_start <= 0.0 ||
            s->pct_start >= 1.0 || !isfinite(s->div_factor) || s->div_factor <= 0.0 ||
            !isfinite(s->final_div_factor) || s->final_div_factor <= 0.0)
            return NB_ERR_ARG;
        double end[3], from[3], to[3];
        size_t n = onecycle_phases(s, (double)s->total_steps, end, from, to);
        double start = 0.0;
        for (size_t i = 0; i < n; i++) { /* every phase must span steps: no 0/0 */
            if (!(end[i] > start))
                return NB_ERR_ARG;
            start = end[i];
        }
        break;
    }
    default:
        break;
    }
    return NB_OK;
}

static double onecycle(const nb_schedule *s, uint64_t t)
{
    double T = (double)s->total_steps, end[3], from[3], to[3];
    size_t n = onecycle_phases(s, T, end, from, to);
    double x = t < s->total_steps ? (double)t : T, start = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (x <= end[i] || i == n - 1) {
            double pct = (x - start) / (end[i] - start);
            if (s->anneal == NB_ANNEAL_COS)
                return to[i] + (from[i] - to[i]) / 2.0 * (cos(PI * pct) + 1.0);
            return (to[i] - from[i]) * pct + from[i];
        }
        start = end[i];
    }
    return NAN; /* not reached */
}

double nb_schedule_lr(const nb_schedule *s, uint64_t step)
{
    if (nb_schedule_check(s) != NB_OK)
        return NAN;
    uint64_t W = s->warmup_steps;
    if (step < W) /* LinearLR(warmup_start_factor, 1, W), closed form */
        return s->base_lr * (s->warmup_start_factor +
                             (1.0 - s->warmup_start_factor) * (double)step / (double)W);
    uint64_t t = step - W;
    double span = (double)(s->total_steps - W); /* used only where total_steps > W */
    switch (s->kind) {
    case NB_SCHED_STEP:
        return s->base_lr * pow(s->gamma, (double)(t / s->step_size));
    case NB_SCHED_COSINE:
        return s->eta_min + (s->base_lr - s->eta_min) * (1.0 + cos(PI * (double)t / span)) / 2.0;
    case NB_SCHED_LINEAR: {
        double u = (double)t < span ? (double)t : span;
        return s->base_lr * (s->start_factor + (s->end_factor - s->start_factor) * u / span);
    }
    case NB_SCHED_ONECYCLE:
        return onecycle(s, t);
    default:
        return s->base_lr;
    }
}
