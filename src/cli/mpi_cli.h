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
/* The largest exit status over the ranks, so that all exit alike.  The reason is said once:
   every rank but 0 holds its error messages (cli/held.h); rank 0 prints its own at once, and
   when it did not fail the lowest failing rank prints its held one, "nablas CMD: rank N: ...";
   the others are dropped.  A message still held at cli_mpi_end is printed then. */
int cli_mpi_agree(const char *cmd, int rc);
/* Called once as the command ends, on every rank: a rank that ended on its own (its own
   arguments refused, say: under mpirun each rank checks its own; or --help) without an
   agreement having told the others takes part in the agreement they wait in, so that none
   waits forever; after a run every rank finished, all agree once more.  The command therefore
   puts a cli_mpi_agree before anything else collective (the data read, the training).
   Returns the agreed status, or rc when this rank ended early. */
int cli_mpi_join(const char *cmd, int rc);
/* This rank ends without training: its cli_mpi_join tells the others, which then fail
   ("another rank ended without training") instead of waiting for it.  A rank that showed
   --help (cli_help_was_shown) counts as one. */
void cli_mpi_early(void);
/* Runs a command other than train (or nablas --help, --version, a usage error) as
   run(argc, argv).  Under an MPI launcher it starts MPI first and ends as cli_mpi_early does,
   so that a launch that mixes it with `nablas train` ranks (mpirun -np 1 nablas --version :
   -np 1 nablas train ...) stops those ranks instead of leaving them waiting; its own output
   and status are run's. */
int cli_mpi_aside(int (*run)(int, char **), int argc, char **argv);
/* Collective under MPI (CLI_OK at once otherwise): compares this rank's record of the run
   (cli_run_record: the data's shape and CRC-32 and every option's effective value; NULL if it
   could not be made) and whether --checkpoint and --resume are given with rank 0's.  A rank
   that differs says which line, with both values ("rank 1: --data differs from rank 0's (here
   ..., rank 0 ...)"); every rank then returns the same non-zero status (agreed), else CLI_OK.
   Begins with an agreement, so that a rank that stopped before it is met. */
int cli_mpi_same_run(const char *cmd, const char *record, bool checkpoint, bool resume);
/* nb_mpi_trainer_run over all ranks under MPI, else nb_trainer_run. */
nb_status cli_mpi_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                              const nb_train_opts *opts, nb_train_report *report);
/* Whether `mine` is true on any rank (collective under MPI; else mine). */
bool cli_mpi_any(bool mine);

#endif
