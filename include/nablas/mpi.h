/* nablas: data-parallel training over MPI (built and installed only with -Dmpi; link with
   nablas-mpi: `pkg-config --cflags --libs nablas-mpi`).  Not included by nablas.h, because it
   needs <mpi.h> and the MPI compiler flags: include it yourself after nablas.h.

   Model.  Every rank holds the same network layout and the same training options.  Rank 0's
   parameters are broadcast to all ranks before the first step.  Every step, each rank runs
   forward and backward on its slice of the global batch (opts->batch_size rows, the single-
   process batch), with its output gradient weighted by its rows / the global batch's rows;
   the gradients are then summed in place across ranks with one MPI_Allreduce over the flat
   gradient buffer, which gives every rank the single-process mean gradient, and the batch loss
   and a count of failing ranks with a second, two-number allreduce.  Every rank
   then makes the same finiteness decision and the same update.  So P ranks give the
   parameters of one process training on the whole data with the same options, to rounding
   (the sums are taken in another order; the tests see 2e-7 of the parameters' scale), for any
   P, and every rank ends with the same parameters, bit for bit.

   Optimizers, schedules, clipping (of the summed gradient) and early stopping (every rank
   evaluates the same parameters on the whole validation set) give the single run's result too,
   and so does dropout: the masks are keyed by (seed, step) and count elements from the start
   of the global batch, so each rank draws exactly the single process's masks for its rows
   (tests/unit/test_trainer.c checks sliced runs with dropout against one process).

   Rows.  The global row order is the single-process order: rows 0..R-1, or with opts->shuffle
   the permutation that nb_net_train draws from opts->seed for each epoch.  Each global batch
   of n rows is cut into `size` contiguous slices in rank order, of n / size rows each, the
   first n % size ranks taking one row more (nb_mpi_slice).  A slice may be empty (fewer rows
   than ranks in the last batch); that rank then contributes zeros.

   Errors.  Every collective nablas makes carries a status: an argument error (also options or
   shapes that differ between ranks), a failed allocation, or a non-finite loss or gradient on
   any one rank ends the call on every rank with the same status (the largest code any rank
   saw), and no rank is left waiting in a collective.  nablas works on its own duplicate of
   `comm` with MPI_ERRORS_RETURN set on it, never calls MPI_Abort and never exits; a failing
   MPI call gives NB_ERR_MPI (after which the other ranks may block in MPI itself: MPI cannot
   recover a lost rank).  The caller initialises and finalises MPI.

   Memory.  nablas allocates before the first step and nothing during training, as
   nb_net_train; what MPI allocates inside its own calls is MPI's. */
#ifndef NABLAS_MPI_H
#define NABLAS_MPI_H

#include <mpi.h>

#include "nablas/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Collective: the largest of the ranks' `local` statuses (NB_OK when all are NB_OK), so that
   every rank takes the same branch after a step only some ranks could fail (reading a file,
   saving a model); NB_ERR_MPI if the MPI call fails. */
nb_status nb_mpi_agree(MPI_Comm comm, nb_status local);

/* Rows [*first, *first + *count) of a global batch of `n` rows are rank `rank`'s of `size`. */
nb_status nb_mpi_slice(size_t *first, size_t *count, size_t n, int rank, int size);

/* Data-parallel nb_net_train: every rank passes the whole data set, X (rows x inputs) and
   T (rows x outputs), the same on every rank (e.g. every rank reads the same file), and uses
   only the rows of its slices.  Collective over comm.  On return every rank's network holds
   the same parameters and *report (if not NULL) the same report.  opts->on_epoch is called
   on every rank; training stops when it returns non-zero on any rank. */
nb_status nb_mpi_train(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                       const nb_train_opts *opts, nb_train_report *report);

/* The rows rank `rank` of `size` needs from a data set of `global_rows` rows trained without
   shuffling in batches of `batch` rows: *count rows, whose global indices (ascending) go to
   index[0..*count) if index is not NULL. */
nb_status nb_mpi_local_rows(size_t *count, size_t *index, size_t global_rows, size_t batch,
                            int rank, int size);

/* For a data set too large for one rank's memory: each rank passes only its own rows
   (nb_mpi_local_rows, in that order) in X and T, and `global_rows`, the size of the whole set.
   Shuffling is not possible without the whole set (opts->shuffle must be false: NB_ERR_ARG);
   otherwise the same training, and the same result, as nb_mpi_train. */
nb_status nb_mpi_train_local(nb_net *net, MPI_Comm comm, const nb_tensor *X, const nb_tensor *T,
                             size_t global_rows, const nb_train_opts *opts,
                             nb_train_report *report);

#ifdef __cplusplus
}
#endif
#endif
