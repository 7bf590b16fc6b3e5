/* The consistency of a checkpoint's optimizer state with its options and position (see
   checkpoint_state.h). */
#include "persist/checkpoint_state.h"

static bool all_zero(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0f)
            return false;
    return true;
}

static bool non_negative(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(v[i] >= 0.0f))
            return false;
    return true;
}

bool nb__ckpt_state_ok(nb_optim *opt, const nb_train_position *pos)
{
    if (!opt)
        return true;
    nb_optim_opts o;
    if (nb_optim_get_opts(opt, &o) != NB_OK || nb_optim_steps(opt) != pos->steps_done)
        return false;
    size_t n = nb_optim_num_params(opt), k = nb_optim_state_count(opt);
    if (nb_optim_steps(opt) == 0) {
        for (size_t i = 0; i < k; i++)
            if (!all_zero(nb_optim_state(opt, i), n))
                return false;
        return true;
    }
    switch (o.kind) {
    case NB_OPTIM_ADAM:
    case NB_OPTIM_ADAMW: { /* 0 exp_avg, 1 exp_avg_sq, 2 max_exp_avg_sq (amsgrad) */
        const float *v = nb_optim_state(opt, 1), *vmax = o.amsgrad ? nb_optim_state(opt, 2) : NULL;
        if (!v || !non_negative(v, n))
            return false;
        for (size_t i = 0; vmax && i < n; i++)
            if (!(vmax[i] >= v[i]))
                return false;
        return true;
    }
    case NB_OPTIM_RMSPROP: { /* 0 square_avg */
        const float *sq = nb_optim_state(opt, 0);
        return sq && non_negative(sq, n);
    }
    default: /* SGD's momentum buffer: any finite value */
        return true;
    }
}
