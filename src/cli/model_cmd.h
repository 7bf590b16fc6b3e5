/* The first lines of the subcommands that run a saved model (eval, predict); defined in
   cmd_eval.c. */
#ifndef NB_CLI_MODEL_CMD_H
#define NB_CLI_MODEL_CMD_H

#include "cli/cli.h"

/* cli_begin, then --threads, then the required --model: true when the command goes on with
   *model its path; false when it ends here, with *rc its exit status (CLI_OK after --help,
   CLI_USAGE after a usage error, said on stderr). */
bool cli_model_cmd_begin(cli_cmd *cmd, int argc, char **argv, int *rc, const char **model);

#endif
