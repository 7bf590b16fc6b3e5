/* nablas train's optimizer, schedule and clipping options: --optimizer and its
   hyper-parameters, --schedule and its parameters, --warmup, --clip-norm.  Every bad value,
   and every option the chosen optimizer or schedule does not use, is a one-line usage error
   (exit 2): an ignored option would train something other than what was asked. */
#include <math.h>
#include <string.h>

#include "cli/cli.h"

/* The mini-batch optimizers.  lm and lbfgs, the full-batch trainers, are also --optimizer
   values; train_fullbatch.c parses their options. */
static const struct {
    const char *name;
    nb_optim_kind kind;
} OPTIMIZERS[] = {
    {"sgd", NB_OPTIM_SGD}, {"adam", NB_OPTIM_ADAM}, {"adamw", NB_OPTIM_ADAMW},
    {"rmsprop", NB_OPTIM_RMSPROP},
};

static const struct {
    const char *name;
    nb_schedule_kind kind;
} SCHEDULES[] = {
    {"constant", NB_SCHED_CONSTANT}, {"step", NB_SCHED_STEP}, {"cosine", NB_SCHED_COSINE},
    {"linear", NB_SCHED_LINEAR},     {"onecycle", NB_SCHED_ONECYCLE},
};

/* --name VALUE in [0, 1): the betas and momentum */
static bool below_one(const cli_cmd *cmd, const char *name, double dflt, double *out)
{
    if (!cli_double(cmd, name, dflt, -INFINITY, INFINITY, out))
        return false;
    if (*out < 0.0 || *out >= 1.0) {
        cli_usage_error(cmd->name, "--%s must be at least 0 and below 1", name);
        return false;
    }
    return true;
}

/* A usage error if option `name` is given although `applies` is false. */
static bool only_for(const cli_cmd *cmd, const char *name, bool applies, const char *what,
                     const char *chosen)
{
    if (!applies && cli_get(cmd, name)) {
        cli_usage_error(cmd->name, "--%s applies to %s, not to %s", name, what, chosen);
        return false;
    }
    return true;
}

/* The options of this file, which the full-batch trainers do not take. */
static const char *const MINIBATCH_ONLY[] = {
    "momentum", "dampening", "nesterov", "weight-decay", "beta1", "beta2", "eps", "amsgrad",
    "alpha", "centered", "schedule", "step-size", "gamma", "min-lr", "warmup", "clip-norm",
};

/* --schedule and its parameters, --warmup, against the rate lr. */
static int parse_schedule(const cli_cmd *cmd, double lr, cli_train_optim_t *out)
{
    const char *sname = cli_get(cmd, "schedule");
    nb_schedule_kind sk = NB_SCHED_CONSTANT;
    if (sname) {
        size_t i = 0, n = sizeof SCHEDULES / sizeof SCHEDULES[0];
        while (i < n && strcmp(SCHEDULES[i].name, sname) != 0)
            i++;
        if (i == n)
            return cli_usage_error(cmd->name, "--schedule: unknown '%s' (constant, step, cosine, "
                                              "linear, onecycle)", sname);
        sk = SCHEDULES[i].kind;
    } else {
        sname = "constant";
    }
    if (!only_for(cmd, "step-size", sk == NB_SCHED_STEP, "--schedule step", sname) ||
        !only_for(cmd, "gamma", sk == NB_SCHED_STEP, "--schedule step", sname) ||
        !only_for(cmd, "min-lr", sk == NB_SCHED_COSINE || sk == NB_SCHED_LINEAR,
                  "--schedule cosine and linear", sname) ||
        !only_for(cmd, "warmup", sk != NB_SCHED_ONECYCLE, "every schedule but onecycle "
                  "(it has its own rise)", sname))
        return CLI_USAGE;
    nb_schedule s = nb_schedule_default(sk);
    uint64_t step_size = 0;
    double min_lr = 0.0;
    if (!cli_u64(cmd, "warmup", 0, &s.warmup_steps) || !cli_u64(cmd, "step-size", 1, &step_size) ||
        !cli_double(cmd, "gamma", s.gamma, 0.0, 1e6, &s.gamma) ||
        !cli_double(cmd, "min-lr", 0.0, 0.0, lr, &min_lr))
        return CLI_USAGE;
    if (step_size == 0)
        return cli_usage_error(cmd->name, "--step-size must be at least 1");
    s.step_size = step_size;
    s.base_lr = lr;
    s.eta_min = min_lr;
    if (sk == NB_SCHED_LINEAR) { /* decay from the rate to --min-lr */
        s.start_factor = 1.0;
        s.end_factor = lr > 0.0 ? min_lr / lr : 0.0;
    }
    out->schedule = s;
    out->use_schedule = sk != NB_SCHED_CONSTANT || s.warmup_steps > 0;
    return CLI_OK;
}

int cli_train_optim(const cli_cmd *cmd, cli_train_optim_t *out)
{
    memset(out, 0, sizeof *out);
    const char *name = cli_get(cmd, "optimizer");
    nb_optim_kind kind = NB_OPTIM_SGD;
    if (name && (!strcmp(name, "lm") || !strcmp(name, "lbfgs"))) {
        for (size_t i = 0; i < sizeof MINIBATCH_ONLY / sizeof MINIBATCH_ONLY[0]; i++)
            if (!only_for(cmd, MINIBATCH_ONLY[i], false, "sgd, adam, adamw and rmsprop", name))
                return CLI_USAGE;
        out->optim = nb_optim_opts_default(NB_OPTIM_SGD);
        return CLI_OK; /* nothing here for them: train_fullbatch.c takes over */
    }
    if (name) {
        size_t i = 0, n = sizeof OPTIMIZERS / sizeof OPTIMIZERS[0];
        while (i < n && strcmp(OPTIMIZERS[i].name, name) != 0)
            i++;
        if (i == n)
            return cli_usage_error(cmd->name, "--optimizer: unknown '%s' (sgd, adam, adamw, "
                                              "rmsprop, lm, lbfgs)", name);
        kind = OPTIMIZERS[i].kind;
    } else {
        name = "sgd";
    }
    bool sgd = kind == NB_OPTIM_SGD, rms = kind == NB_OPTIM_RMSPROP, adam = !sgd && !rms;
    if (!only_for(cmd, "momentum", sgd || rms, "sgd and rmsprop", name) ||
        !only_for(cmd, "dampening", sgd, "sgd", name) ||
        !only_for(cmd, "nesterov", sgd, "sgd", name) ||
        !only_for(cmd, "beta1", adam, "adam and adamw", name) ||
        !only_for(cmd, "beta2", adam, "adam and adamw", name) ||
        !only_for(cmd, "amsgrad", adam, "adam and adamw", name) ||
        !only_for(cmd, "eps", !sgd, "adam, adamw and rmsprop", name) ||
        !only_for(cmd, "alpha", rms, "rmsprop", name) ||
        !only_for(cmd, "centered", rms, "rmsprop", name))
        return CLI_USAGE;
    nb_optim_opts o = nb_optim_opts_default(kind);
    if (!cli_double(cmd, "lr", o.lr, 0.0, 1e6, &o.lr) ||
        !below_one(cmd, "momentum", o.momentum, &o.momentum) ||
        !cli_double(cmd, "dampening", o.dampening, 0.0, 1.0, &o.dampening) ||
        !cli_double(cmd, "weight-decay", o.weight_decay, 0.0, 1e6, &o.weight_decay) ||
        !below_one(cmd, "beta1", o.beta1, &o.beta1) ||
        !below_one(cmd, "beta2", o.beta2, &o.beta2) ||
        !cli_double(cmd, "eps", o.eps, 0.0, 1e6, &o.eps) ||
        !cli_double(cmd, "alpha", o.alpha, 0.0, 1.0, &o.alpha))
        return CLI_USAGE;
    if (cli_get(cmd, "eps") && o.eps == 0.0) /* the training would stop as "diverged" */
        return cli_usage_error(cmd->name, "--eps 0 divides by zero wherever a gradient and its "
                                          "moment are 0 (a dead unit, a constant input): give "
                                          "a small positive value such as 1e-8");
    o.nesterov = cli_flag(cmd, "nesterov");
    o.amsgrad = cli_flag(cmd, "amsgrad");
    o.centered = cli_flag(cmd, "centered");
    if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0))
        return cli_usage_error(cmd->name, "--nesterov needs --momentum above 0 and no "
                                          "--dampening");
    out->optim = o;
    /* what the run's first lines and its record name (the trainer decides the update) */
    out->use_optim = cli_get(cmd, "optimizer") || o.momentum > 0.0 || o.weight_decay > 0.0;

    int rc = parse_schedule(cmd, o.lr, out);
    if (rc != CLI_OK)
        return rc;
    if (!cli_double(cmd, "clip-norm", 0.0, 0.0, INFINITY, &out->clip_norm))
        return CLI_USAGE;
    if (cli_get(cmd, "clip-norm") && out->clip_norm <= 0.0)
        return cli_usage_error(cmd->name, "--clip-norm must be above 0");
    return CLI_OK;
}
