/* `mpirun -np P nablas train`: MPI start-up, rank-0-only output, agreement on the exit status.
   Every rank reads the whole data file, so standardisation and the validation split are those
   of a single run; nb_mpi_trainer_run gives each rank its slice of every batch; rank 0 saves
   the model and the --checkpoint. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/held.h"
#include "cli/mpi_cli.h"
#include "cli/progress.h"
#include "cli/train_loop.h"

/* One process: on a terminal the loop of train_loop.c, which shows the batch an epoch is at;
   else the library's. */
static nb_status run_here(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                          const nb_train_opts *opts, nb_train_report *report)
{
    if (progress_wants_batches())
        return cli_train_loop(tr, X, T, opts, progress_batch, report);
    return nb_trainer_run(tr, X, T, opts, report);
}

#ifdef NB_CLI_MPI
#include "nablas/mpi.h"

static bool started;
static int rank, size = 1;
static bool last_failed; /* the last cli_mpi_agree found a failure: every rank is stopping */
static bool early;       /* this rank ends without training (--help): cli_mpi_early */
static bool aside;       /* this rank runs another command than train: cli_mpi_aside */
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
    if (rank != 0)
        cli_held_begin(rank); /* said once: see cli_mpi_agree */
    if (rank != 0 && !freopen("/dev/null", "w", stdout))
        fclose(stdout); /* no progress from the other ranks either way */
    return true;
}

void cli_mpi_end(void)
{
    cli_held_say(); /* no agreement came after it: say it here */
    if (started)
        MPI_Finalize();
    started = false;
}

bool cli_mpi_active(void) { return started; }
int cli_mpi_rank(void) { return rank; }
int cli_mpi_size(void) { return size; }

/* An exit status above every CLI_* one: a rank that ends without taking part in the run. */
enum { CLI_MPI_EARLY = 100 };

/* The agreement: the largest status, the lowest rank that is still in the run (which alone
   says that another rank stopped it, when no failing rank holds a message) and the lowest rank
   holding a message, in one allreduce.  Held messages are said by one rank, or dropped when
   rank 0 failed (it said why). */
static int agree(const char *cmd, int rc, bool in_run)
{
    int v[4] = {rc, in_run ? -rank : INT_MIN, cli_held_any() && rc != CLI_OK ? -rank : INT_MIN,
                rank == 0 ? rc : INT_MIN};
    int all[4] = {rc, v[1], v[2], v[3]};
    if (MPI_Allreduce(v, all, 4, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) {
        cli_held_say();
        return cli_error(cmd, "MPI failed");
    }
    last_failed = all[0] != CLI_OK;
    /* rank 0's own failure was said by rank 0; else the lowest rank holding a message says it */
    bool rank0_failed = all[3] != CLI_OK && all[3] != INT_MIN;
    if (!rank0_failed && all[2] != INT_MIN && rank == -all[2])
        cli_held_say();
    cli_held_drop();
    if (!in_run || rc != CLI_OK || all[0] == CLI_OK)
        return all[0];
    if (all[0] == CLI_MPI_EARLY) /* every rank that was in the run fails, one says why */
        return rank == -all[1] ? cli_error(cmd, "another rank ended without training (it was "
                                                "given --help, or another command than "
                                                "train): no rank trains")
                               : CLI_FAIL;
    if (rank == -all[1] && all[2] == INT_MIN)
        cli_error(cmd, "another rank failed (its message is above)");
    return all[0];
}

int cli_mpi_agree(const char *cmd, int rc)
{
    return started ? agree(cmd, rc, true) : rc;
}

void cli_mpi_early(void) { early = true; }

int cli_mpi_join(const char *cmd, int rc)
{
    /* Every rank comes here once at the end, unless an agreement already stopped them all: a
       rank that ended on its own (an error, --help) meets the others in the agreement they
       wait in; after a run every rank went through, all meet here once more. */
    if (!started || last_failed)
        return rc;
    if (early || aside || cli_help_was_shown()) {
        agree(cmd, CLI_MPI_EARLY, false);
        return rc;
    }
    return agree(cmd, rc, true);
}

int cli_mpi_aside(int (*run)(int, char **), int argc, char **argv)
{
    if (!launched_by_mpirun())
        return run(argc, argv);
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS)
        return run(argc, argv);
    started = aside = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = cli_mpi_join("", run(argc, argv));
    cli_mpi_end();
    return rc;
}

nb_status cli_mpi_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                              const nb_train_opts *opts, nb_train_report *report)
{
    if (!started)
        return run_here(tr, X, T, opts, report);
    if (rank == 0)
        printf("over MPI: %d process%s, each taking its share of every batch\n", size,
               size == 1 ? "" : "es");
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
void cli_mpi_early(void) {}
int cli_mpi_join(const char *cmd, int rc)
{
    (void)cmd;
    return rc;
}
int cli_mpi_aside(int (*run)(int, char **), int argc, char **argv) { return run(argc, argv); }
nb_status cli_mpi_trainer_run(nb_trainer *tr, const nb_tensor *X, const nb_tensor *T,
                              const nb_train_opts *opts, nb_train_report *report)
{
    return run_here(tr, X, T, opts, report);
}
bool cli_mpi_any(bool mine) { return mine; }
#endif
