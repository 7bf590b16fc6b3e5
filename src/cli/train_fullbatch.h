/* `nablas train --optimizer lm|lbfgs`: the full-batch trainers' options, parsing and run. */
#ifndef NB_CLI_TRAIN_FULLBATCH_H
#define NB_CLI_TRAIN_FULLBATCH_H

#include "cli/cli.h"

/* The option rows `nablas train` adds to its table for the full-batch trainers. */
#define CLI_FULLBATCH_OPTS                                                                       \
    {"mu", "X", "lm: initial damping (default 0.001; x0.1 after a good step, x10 after a bad one)", NULL}, \
    {"mu-max", "X", "lm: stop once the damping exceeds X (default 1e10)", NULL},                 \
    {"goal", "X", "lm: stop at this training MSE (default 0)", NULL},                            \
    {"min-grad", "X", "lm: stop when the MSE gradient norm falls below X (default 1e-7)", NULL}, \
    {"max-fail", "N", "lm with --validation: stop after N iterations without a better "         \
                      "validation loss and keep the best parameters (default 6)", NULL},        \
    {"max-mem", "MIB", "refuse to train if the network's estimated memory needs more (default: " \
                       "the memory available); lm: also if J^T J and its factor do (default 256)", NULL}, \
    {"history", "N", "lbfgs: curvature pairs kept (default 100)", NULL},                         \
    {"line-search", "NAME", "lbfgs: strong-wolfe (default) or none (fixed step --lr)", NULL}

typedef struct cli_fb {
    bool lm;
    nb_lm_opts lm_opts;
    nb_lbfgs_opts lbfgs_opts;
} cli_fb;

/* True if `optimizer` names a full-batch trainer. */
bool cli_fullbatch_is(const char *optimizer);
/* Reads the options of trainer `optimizer` ("lm" or "lbfgs") for `iterations` iterations;
   prints a usage error and returns CLI_USAGE on bad values. */
int cli_fullbatch_parse(const cli_cmd *cmd, const char *optimizer, size_t iterations,
                        nb_loss loss, cli_fb *out);
/* Trains; Xv/Tv may be NULL (LM then runs without its validation stop).  on_epoch gets one call
   per iteration.  Prints the stop reason. */
nb_status cli_fullbatch_train(cli_fb *fb, nb_net *net, const nb_tensor *X, const nb_tensor *T,
                              const nb_tensor *Xv, const nb_tensor *Tv, nb_epoch_fn on_epoch,
                              void *user);

#endif
