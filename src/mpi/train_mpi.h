/* nb_mpi_train with the way gradients are summed chosen (the benchmark compares them). */
#ifndef NB_MPI_TRAIN_MPI_H
#define NB_MPI_TRAIN_MPI_H

#include "mpi/comm.h"

typedef struct nb__mpi_cfg {
    bool overlap;  /* false: sum all gradients after backward, in blocking MPI_Allreduce calls;
                      true: start an MPI_Iallreduce per layer as soon as backward has written
                      it, overlapped with the earlier layers' backward, waited for in the hook */
    size_t bucket; /* at most this many floats per call (0: no limit) */
    bool progress; /* overlap: also MPI_Testall between backward's products (Open MPI moves a
                      non-blocking sum on only inside MPI calls); false: only as a layer's
                      sum starts */
} nb__mpi_cfg;

/* nb_mpi_train (local false, rows = X->rows) or nb_mpi_train_local (local true, rows = the
   global rows); cfg NULL: the default, as nb_mpi_train uses.  Every rank must pass the same
   cfg (checked: NB_ERR_ARG). */
nb_status nb__mpi_train_cfg(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                            size_t rows, bool local, const nb_train_opts *opts,
                            nb_train_report *report, const nb__mpi_cfg *cfg);

#endif
