/* `mpirun -np P nablas train`: the command's side of data-parallel training.  Without the MPI
   feature, or when not started by mpirun, every function is the single-process behaviour. */
#ifndef NB_CLI_MPI_CLI_H
#define NB_CLI_MPI_CLI_H

#include "nablas.h"

/* The --help paragraph of `nablas train` on running over MPI. */
#ifdef NB_CLI_MPI
#define CLI_MPI_HELP                                                                          \
    "\nOver MPI: mpirun -np P nablas train ... with the same options trains on P processes "   \
    "and writes\nthe model of a single run (rank 0 prints and saves; see docs/cli.md)."
#else
#define CLI_MPI_HELP "\nThis build has no MPI support (meson setup -Dmpi=enabled adds it)."
#endif

/* Starts MPI when the process was launched by an MPI launcher (Open MPI's OMPI_COMM_WORLD_SIZE,
   PMIx's PMIX_RANK or PMI's PMI_SIZE in the environment; a plain `nablas train` never touches
   MPI) and silences stdout on every rank but 0.  Returns false if MPI failed to start. */
bool cli_mpi_begin(int *argc, char ***argv);
void cli_mpi_end(void);
bool cli_mpi_active(void); /* started by cli_mpi_begin */
int cli_mpi_rank(void);     /* 0 when not under MPI */
int cli_mpi_size(void);     /* 1 when not under MPI */
/* The largest exit status over the ranks, so that all exit alike; rank 0 says so when only
   another rank failed (that rank printed why). */
int cli_mpi_agree(const char *cmd, int rc);
/* nb_mpi_trainer_run over all ranks under MPI, else nb_trainer_run. */
nb_status cli_mpi_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                              const nb_train_opts *opts, nb_train_report *report);
/* Whether `mine` is true on any rank (collective under MPI; else mine). */
bool cli_mpi_any(bool mine);

#endif
