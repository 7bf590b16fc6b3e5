/* The checks of the MPI test programs (plain programs, not Criterion: its forked workers do
   not mix with MPI): a failed check prints one line naming the rank and counts; at the end
   every rank learns whether any rank failed. */
#ifndef NB_TESTS_MPI_CHECK_H
#define NB_TESTS_MPI_CHECK_H

#include <mpi.h>
#include "nablas.h"

extern int rank, size; /* in MPI_COMM_WORLD, set by mpi_check_init */

/* MPI_Init, the rank and size, and nb_set_threads(1) (one core per rank). */
void mpi_check_init(int *argc, char ***argv);
void fail(const char *fmt, ...);
#define CHECK(cond, ...)       \
    do {                       \
        if (!(cond))           \
            fail(__VA_ARGS__); \
    } while (0)
/* Checks that every rank holds rank 0's parameters, bit for bit (collective). */
void check_same_on_all(nb_net *net, const char *what);
/* Whether any rank failed a check (collective). */
int mpi_check_any_failed(void);

#endif
