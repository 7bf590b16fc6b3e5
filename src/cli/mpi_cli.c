/* `mpirun -np P nablas train`: MPI start-up, rank-0-only output, agreement on the exit status.
   Every rank reads the whole data file, so standardisation and the validation split are those
   of a single run; nb_mpi_trainer_run gives each rank its slice of every batch; rank 0 saves
   the model and the --checkpoint. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/mpi_cli.h"

#ifdef NB_CLI_MPI
#include "nablas/mpi.h"

static bool started;
static int rank, size = 1;

static bool launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

bool cli_mpi_begin(int *argc, char ***argv)
{
    if (!launched_by_mpirun())
        return true;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return false;
    started = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN); /* errors end in a message */
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank != 0 && !freopen("/dev/null", "w", stdout))
        fclose(stdout); /* no progress from the other ranks either way */
    return true;
}

void cli_mpi_end(void)
{
    if (started)
        MPI_Finalize();
    started = false;
}

bool cli_mpi_active(void) { return started; }
int cli_mpi_rank(void) { return rank; }
int cli_mpi_size(void) { return size; }

int cli_mpi_agree(const char *cmd, int rc)
{
    if (!started)
        return rc;
    int all = rc;
    if (MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return cli_error(cmd, "MPI failed");
    if (rank == 0 && rc == CLI_OK && all != CLI_OK)
        cli_error(cmd, "another rank failed (its message is above)");
    return all;
}

nb_status cli_mpi_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                              const nb_train_opts *opts, nb_train_report *report)
{
    if (!started)
        return nb_trainer_run(tr, X, T, opts, report);
    return nb_mpi_trainer_run(tr, MPI_COMM_WORLD, X, T, opts, report);
}

bool cli_mpi_any(bool mine)
{
    int v = mine, any = v;
    if (started && MPI_Allreduce(&v, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return true; /* MPI failed: stop */
    return any != 0;
}

#else /* built without MPI: one process */

bool cli_mpi_begin(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return true;
}
void cli_mpi_end(void) {}
bool cli_mpi_active(void) { return false; }
int cli_mpi_rank(void) { return 0; }
int cli_mpi_size(void) { return 1; }
int cli_mpi_agree(const char *cmd, int rc)
{
    (void)cmd;
    return rc;
}
nb_status cli_mpi_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                              const nb_train_opts *opts, nb_train_report *report)
{
    return nb_trainer_run(tr, X, T, opts, report);
}
bool cli_mpi_any(bool mine) { return mine; }
#endif
