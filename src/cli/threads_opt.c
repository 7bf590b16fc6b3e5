/* --threads N: checked here (a whole number in 1..CLI_MAX_THREADS), set by the library. */
#include "cli/threads_opt.h"

bool cli_threads_apply(const cli_cmd *cmd)
{
    const char *v = cli_get(cmd, "threads");
    if (!v)
        return true;
    if (v[0] == '-' || v[0] == '+')
        return cli_usage_error(cmd->name, "--threads %s: give a whole number from 1 to %d", v,
                               CLI_MAX_THREADS) == CLI_OK;
    size_t n;
    if (!cli_size_range(cmd, "threads", 1, 1, CLI_MAX_THREADS, &n))
        return false;
    nb_status st = nb_set_threads((int)n);
    if (st != NB_OK)
        return cli_usage_error(cmd->name, "--threads %zu: %s", n, nb_status_str(st)) == CLI_OK;
    return true;
}
