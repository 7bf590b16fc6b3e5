/* The MPI layer's private helpers: nablas' own communicator and status agreement. */
#ifndef NB_MPI_COMM_H
#define NB_MPI_COMM_H

#include "nablas/mpi.h"
#include "core/base.h"

/* Duplicates comm with MPI_ERRORS_RETURN on the duplicate (collective).  NB_ERR_ARG for
   MPI_COMM_NULL, NB_ERR_STATE when MPI is not initialised, NB_ERR_MPI when MPI fails. */
nb_status nb__mpi_dup(MPI_Comm *out, MPI_Comm comm, int *rank, int *size);
/* Largest status over the ranks of c (every rank gets the same answer). */
nb_status nb__mpi_agree(MPI_Comm c, nb_status local);
/* Agrees on `local` and that the n values v[] are equal on every rank: NB_ERR_ARG if not. */
nb_status nb__mpi_agree_same(MPI_Comm c, nb_status local, const uint64_t *v, size_t n);

#endif
