/* --threads N of train, eval and predict: the library's thread limit (include/nablas/threads.h). */
#ifndef NB_CLI_THREADS_OPT_H
#define NB_CLI_THREADS_OPT_H

#include <stdbool.h>

#include "cli/cli.h"

/* At most this many: more is a typo (nablas' pool makes N - 1 threads). */
#define CLI_MAX_THREADS 1024

#define CLI_THREADS_OPT                                                                         \
    {"threads", "N", "threads for the matrix products and the batch split, 1 to 1024 "          \
     "(default: OPENBLAS_NUM_THREADS, else every core)", NULL}

/* Applies --threads when given (nb_set_threads).  false after saying why (not a whole number
   in 1..CLI_MAX_THREADS, or the library refused it): the command exits with CLI_USAGE. */
bool cli_threads_apply(const cli_cmd *cmd);

#endif
