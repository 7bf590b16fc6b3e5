/* Error messages under mpirun, said once: every rank but 0 holds its message until the ranks
   agree (mpi_cli.c), which has one rank say it.  Below opts.c (which holds) and mpi_cli.c
   (which decides), so that neither calls back into the other. */
#ifndef NB_CLI_HELD_H
#define NB_CLI_HELD_H

#include <stdarg.h>
#include <stdbool.h>

/* From now on, messages of this process are held (rank: named in them); mpi_cli.c calls it on
   every rank but 0 once MPI has started. */
void cli_held_begin(int rank);
/* Holds "nablas CMD: rank N: MESSAGE" (the first one only: what follows is its consequence)
   and returns true, when holding is on; else false (the caller prints). */
bool cli_held_take(const char *cmd, const char *fmt, va_list ap);
bool cli_held_any(void);
/* Prints the held message to stderr, if any, and forgets it. */
void cli_held_say(void);
void cli_held_drop(void);

#endif
