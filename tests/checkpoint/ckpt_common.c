#include <string.h>

#include "ckpt_common.h"

#ifndef VAL_SCALE
#define VAL_SCALE 0.3f
#endif

nb_tensor ck_X, ck_T, ck_Xv, ck_Tv;
static float x[CK_ROWS * CK_IN], t[CK_ROWS * CK_OUT], xv[CK_VAL * CK_IN], tv[CK_VAL * CK_OUT];

static void fill(float *X, float *T, size_t rows, nb_rng *r, float scale)
{
    for (size_t i = 0; i < rows * CK_IN; i++)
        X[i] = (float)(2.0 * nb_rng_uniform(r) - 1.0);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < CK_OUT; j++)
            T[i * CK_OUT + j] = scale * (2.0f * X[i * CK_IN + j] * X[i * CK_IN + j + 1]
                                         + 0.3f * (float)j + 0.2f * (float)nb_rng_uniform(r));
}

void ck_data(void)
{
    nb_rng r;
    nb_rng_seed(&r, 21);
    fill(x, t, CK_ROWS, &r, 1.0f);
    /* validation targets at VAL_SCALE of the training ones: their loss falls, then rises as
       the network fits the training targets, so patience stops runs and restore_best has a
       best epoch to go back to */
    fill(xv, tv, CK_VAL, &r, VAL_SCALE);
    ck_X = nb_tensor_view(x, CK_ROWS, CK_IN);
    ck_T = nb_tensor_view(t, CK_ROWS, CK_OUT);
    ck_Xv = nb_tensor_view(xv, CK_VAL, CK_IN);
    ck_Tv = nb_tensor_view(tv, CK_VAL, CK_OUT);
}

nb_net *ck_net(void)
{
    static const nb_layer_spec layers[] = {
        {12, NB_ACT_RELU, 0.25f}, {8, NB_ACT_TANH, 0.0f}, {CK_OUT, NB_ACT_IDENTITY, 0.0f}};
    nb_net *net = NULL;
    if (nb_net_create(&net, CK_IN, layers, 3, 11) != NB_OK)
        return NULL;
    return net;
}

void ck_fix(ck_run *r)
{
    r->o.optim = r->optim.lr != 0.0 ? &r->optim : NULL; /* lr 0: none (plain SGD) */
    r->o.schedule = &r->sched;
    if (r->o.X_val) {
        r->o.X_val = &ck_Xv;
        r->o.T_val = &ck_Tv;
    }
}

void ck_opts(ck_run *r, ck_optim k, bool validation, size_t epochs)
{
    memset(r, 0, sizeof *r);
    r->o = nb_train_opts_default();
    r->o.batch_size = CK_BATCH;
    r->o.epochs = epochs;
    r->o.lr = 0.05f;
    r->o.seed = 77;
    r->o.shuffle = true;
    r->o.clip_norm = k == CK_PLAIN ? 0.0 : 0.5;
    r->sched = nb_schedule_default(NB_SCHED_COSINE);
    r->sched.warmup_steps = 5;
    r->sched.eta_min = 1e-4;
    switch (k) {
    case CK_SGD:
        r->optim = nb_optim_opts_default(NB_OPTIM_SGD);
        r->optim.lr = 0.05;
        r->optim.momentum = 0.9;
        r->optim.nesterov = true;
        r->optim.weight_decay = 1e-3;
        break;
    case CK_ADAM:
        r->optim = nb_optim_opts_default(NB_OPTIM_ADAM);
        r->optim.lr = 0.01;
        r->optim.amsgrad = true;
        break;
    case CK_ADAMW:
        r->optim = nb_optim_opts_default(NB_OPTIM_ADAMW);
        r->optim.lr = 0.01;
        break;
    case CK_RMSPROP:
        r->optim = nb_optim_opts_default(NB_OPTIM_RMSPROP);
        r->optim.lr = 0.005;
        r->optim.centered = true;
        r->optim.momentum = 0.5;
        break;
    default: /* plain SGD: no optimizer options (lr 0 marks none for ck_fix) */
        break;
    }
    if (validation) {
        r->o.X_val = &ck_Xv;
        r->o.patience = 2;
        r->o.restore_best = true;
    }
    ck_fix(r);
}

const char *ck_name(ck_optim k)
{
    static const char *const names[] = {"plain", "plain+clip", "sgd", "adam", "adamw",
                                        "rmsprop"};
    return (unsigned)k < CK_OPTIM_COUNT ? names[k] : "?";
}
