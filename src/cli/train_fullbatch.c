/* `nablas train --optimizer lm|lbfgs`: Levenberg–Marquardt and L-BFGS on the full batch, with
   the training loop's progress callback called once per iteration. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/train_fullbatch.h"

bool cli_fullbatch_is(const char *optimizer)
{
    return optimizer && (!strcmp(optimizer, "lm") || !strcmp(optimizer, "lbfgs"));
}

int cli_fullbatch_parse(const cli_cmd *cmd, const char *optimizer, size_t iterations,
                        nb_loss loss, cli_fb *out)
{
    out->lm = !strcmp(optimizer, "lm");
    if (out->lm) {
        nb_lm_opts *o = &out->lm_opts;
        *o = nb_lm_opts_default();
        o->iterations = iterations;
        size_t mib;
        if (loss != NB_LOSS_MSE)
            return cli_usage_error(cmd->name, "--optimizer lm minimises the MSE: add --loss mse "
                                              "(with one output per class for labels)");
        if (!cli_double(cmd, "mu", o->mu, 1e-300, 1e300, &o->mu)
            || !cli_double(cmd, "mu-max", o->mu_max, 1e-300, 1e300, &o->mu_max)
            || !cli_double(cmd, "goal", o->goal, 0.0, 1e300, &o->goal)
            || !cli_double(cmd, "min-grad", o->min_grad, 0.0, 1e300, &o->min_grad)
            || !cli_size(cmd, "max-fail", o->max_fail, 1, &o->max_fail)
            || !cli_size(cmd, "max-mem", 256, 1, &mib))
            return CLI_USAGE;
        if (mib > SIZE_MAX >> 21)
            return cli_usage_error(cmd->name, "--max-mem %zu MiB is too large", mib);
        o->max_bytes = mib << 20;
        return CLI_OK;
    }
    nb_lbfgs_opts *o = &out->lbfgs_opts;
    *o = nb_lbfgs_opts_default();
    o->loss = loss;
    o->iterations = iterations;
    /* --epochs counts iterations: no cap on evaluations below what they can use (25 each) */
    o->max_eval = iterations > SIZE_MAX / 32 ? SIZE_MAX : iterations * 25 + 1;
    o->line_search = NB_LINE_SEARCH_STRONG_WOLFE;
    const char *ls = cli_get(cmd, "line-search");
    if (ls && !strcmp(ls, "none"))
        o->line_search = NB_LINE_SEARCH_NONE;
    else if (ls && strcmp(ls, "strong-wolfe") && strcmp(ls, "strong_wolfe"))
        return cli_usage_error(cmd->name, "--line-search: unknown '%s' (strong-wolfe, none)", ls);
    if (!cli_double(cmd, "lr", 1.0, 1e-300, 1e300, &o->lr)
        || !cli_size(cmd, "history", o->history, 1, &o->history))
        return CLI_USAGE;
    return CLI_OK;
}

typedef struct relay {
    nb_epoch_fn on_epoch;
    void *user;
} relay;

static int relay_iteration(const nb_fb_info *i, void *user)
{
    const relay *r = user;
    nb_epoch_info e = {i->iteration, i->iterations, i->loss, i->evals, NAN, NAN};
    return r->on_epoch ? r->on_epoch(&e, r->user) : 0;
}

nb_status cli_fullbatch_train(cli_fb *fb, nb_net *net, const nb_tensor *X, const nb_tensor *T,
                              const nb_tensor *Xv, const nb_tensor *Tv, nb_epoch_fn on_epoch,
                              void *user)
{
    relay r = {on_epoch, user};
    nb_status st;
    if (fb->lm) {
        nb_lm_report rep;
        fb->lm_opts.X_val = Xv;
        fb->lm_opts.T_val = Xv ? Tv : NULL;
        fb->lm_opts.on_iteration = relay_iteration;
        fb->lm_opts.user = &r;
        st = nb_net_train_lm(net, X, T, &fb->lm_opts, &rep);
        if (st == NB_OK)
            printf("Levenberg-Marquardt stopped (%s) after %zu iterations: MSE %.6g, mu %.3g%s\n",
                   nb_fb_stop_name(rep.stop), rep.iterations, rep.loss, rep.mu,
                   Xv && rep.best_iteration != rep.iterations ? ", best validation kept" : "");
        return st;
    }
    nb_lbfgs_report rep;
    fb->lbfgs_opts.on_iteration = relay_iteration;
    fb->lbfgs_opts.user = &r;
    st = nb_net_train_lbfgs(net, X, T, &fb->lbfgs_opts, &rep);
    if (st == NB_OK)
        printf("L-BFGS stopped (%s) after %zu iterations, %zu evaluations: loss %.6g\n",
               nb_fb_stop_name(rep.stop), rep.iterations, rep.evals, rep.loss);
    return st;
}
