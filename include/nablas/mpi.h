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

   Checkpoints.  nb_mpi_trainer_run trains on a trainer the caller keeps, which
   nb_mpi_checkpoint_save (rank 0 writes) saves and nb_mpi_checkpoint_load (rank 0 reads and
   broadcasts) restores on every rank; a resumed run gives the parameters of the run never
   interrupted, bit for bit (the same sums in the same order).

   Memory.  nablas allocates before the first step and nothing during training, as
   nb_net_train; what MPI allocates inside its own calls is MPI's. */
#ifndef NABLAS_MPI_H
#define NABLAS_MPI_H

/* Only the C interface of MPI is used: without these, C++ code including this header would
   pull in Open MPI's (or MPICH's) deprecated C++ bindings and need their library to link. */
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include "nablas/checkpoint.h"
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

/* nb_mpi_train on the caller's trainer (nb_trainer_create, or nb_mpi_checkpoint_load to
   resume), so that a run over MPI can be checkpointed and resumed: everything as nb_mpi_train
   (every rank passes the whole data set and the same options), with opts->resume as
   nb_trainer_run (every rank's trainer must stand at the same position: NB_ERR_ARG
   otherwise, on every rank).  opts->on_epoch runs on every rank with the trainer's position
   already updated, so a callback that calls nb_mpi_checkpoint_save on every rank saves an
   exact checkpoint; returning non-zero on any rank stops the run on all.  On return the
   trainer is as nb_trainer_run leaves it, ready for nb_checkpoint_save or another run (over
   MPI or not).  Collective over comm. */
nb_status nb_mpi_trainer_run(nb_trainer *tr, MPI_Comm comm, const nb_tensor *X,
                             const nb_tensor *T, const nb_train_opts *opts,
                             nb_train_report *report);

/* Collective: rank 0 saves the checkpoint (nb_checkpoint_save: atomic); tr, m, note and path
   are used on rank 0 only (the others may pass NULL).  Every rank returns rank 0's status,
   so that all take the same branch after a failed save (e.g. stop from on_epoch). */
nb_status nb_mpi_checkpoint_save(const nb_trainer *tr, const nb_model *m, MPI_Comm comm,
                                 const char *note, const char *path);

/* Collective nb_checkpoint_load: rank 0 reads path (the other ranks' path is ignored and may
   be NULL, so they need not see rank 0's files) and broadcasts the bytes; every rank decodes
   them into its own *m, *tr (and *note if note is not NULL), so every rank resumes from the
   same parameters, optimizer state and position.  The largest status of any rank on every
   rank; on failure no rank's outputs are touched.  Free as after nb_checkpoint_load. */
nb_status nb_mpi_checkpoint_load(nb_model *m, nb_trainer **tr, char **note, MPI_Comm comm,
                                 const char *path);

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
