/* The checks of the MPI test programs (mpi_check.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"

int rank, size;
static int failures;

void mpi_check_init(int *argc, char ***argv)
{
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    nb_set_threads(1);
}

void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rank %d/%d: FAIL: ", rank, size);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

void check_same_on_all(nb_net *net, const char *what)
{
    size_t n = nb_net_num_params(net);
    float *mine = nb_net_params(net), *root = malloc(n * sizeof *root);
    memcpy(root, mine, n * sizeof *root);
    MPI_Bcast(root, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CHECK(memcmp(root, mine, n * sizeof *root) == 0, "%s: parameters differ from rank 0's", what);
    free(root);
}

int mpi_check_any_failed(void)
{
    int any = 0;
    MPI_Allreduce(&failures, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return any != 0;
}
