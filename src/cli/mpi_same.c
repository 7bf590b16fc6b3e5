/* `mpirun nablas train`: every rank runs the same training, or none.  Each rank reads its own
   data file and parses its own options; the canonical record of the run (train_record.h: the
   data's shape and CRC-32, every option's effective value) is compared with rank 0's before
   anything is trained, so that a rank given another file or another option is named with both
   values instead of training a model that matches no single run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mpi_cli.h"

#ifdef NB_CLI_MPI
#include <mpi.h>

/* The length of the line at p (without its newline). */
static size_t line_len(const char *p)
{
    const char *e = strchr(p, '\n');
    return e ? (size_t)(e - p) : strlen(p);
}

/* Names the first line of mine that differs from rank 0's (comment lines aside); CLI_USAGE
   after the message, CLI_OK if none does. */
static int compare(const char *cmd, const char *mine, const char *root)
{
    const char *a = mine, *b = root;
    while (*a || *b) {
        size_t na = line_len(a), nb = line_len(b);
        bool comment = na > 0 && a[0] == '#' && nb > 0 && b[0] == '#';
        if (!comment && (na != nb || memcmp(a, b, na) != 0)) {
            const char *sp = memchr(a, ' ', na);
            size_t name = sp && na > 2 && a[0] == '-' && a[1] == '-' ? (size_t)(sp - a) : 0;
            if (name && nb > name && memcmp(a, b, name + 1) == 0)
                return cli_usage_error(cmd, "rank %d: %.*s differs from rank 0's (here: %.*s; "
                                            "rank 0: %.*s): every rank must be given the same "
                                            "%s", cli_mpi_rank(), (int)name, a,
                                       (int)(na - name - 1), sp + 1, (int)(nb - name - 1),
                                       b + name + 1,
                                       strncmp(a, "--data ", 7) == 0 ? "data" : "options");
            return cli_usage_error(cmd, "rank %d: the run differs from rank 0's (here: '%.*s'; "
                                        "rank 0: '%.*s'): every rank must be given the same "
                                        "data and options", cli_mpi_rank(), (int)na, a,
                                   (int)nb, b);
        }
        a += na + (a[na] == '\n');
        b += nb + (b[nb] == '\n');
    }
    return CLI_OK;
}

int cli_mpi_same_run(const char *cmd, const char *record, bool checkpoint, bool resume)
{
    if (!cli_mpi_active())
        return CLI_OK;
    int rc = cli_mpi_agree(cmd, record ? CLI_OK : cli_error(cmd, "out of memory"));
    if (rc != CLI_OK)
        return rc;
    /* Whether --checkpoint and --resume are given decides collectives of their own (every
       rank learns whether rank 0 saved; every rank reads the checkpoint): compared too. */
    size_t rl = strlen(record), n = rl + 64;
    char *mine = malloc(n);
    if (mine)
        snprintf(mine, n, "%s--checkpoint %s\n--resume %s\n", record,
                 checkpoint ? "given" : "none", resume ? "given" : "none");
    uint64_t len = mine ? strlen(mine) : 0;
    rc = cli_mpi_agree(cmd, mine ? CLI_OK : cli_error(cmd, "out of memory"));
    if (rc != CLI_OK) {
        free(mine);
        return rc;
    }
    char *root = NULL;
    if (MPI_Bcast(&len, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS || len > INT32_MAX) {
        free(mine);
        return cli_error(cmd, "MPI failed");
    }
    root = cli_mpi_rank() == 0 ? mine : malloc((size_t)len + 1);
    int ok = root != NULL;
    if (MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS
        || !ok) {
        if (root != mine)
            free(root);
        free(mine);
        return cli_error(cmd, ok ? "MPI failed" : "out of memory");
    }
    if (MPI_Bcast(root, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
        if (root != mine)
            free(root);
        free(mine);
        return cli_error(cmd, "MPI failed");
    }
    root[len] = '\0';
    int same = cli_mpi_rank() == 0 ? CLI_OK : compare(cmd, mine, root);
    if (root != mine)
        free(root);
    free(mine);
    return cli_mpi_agree(cmd, same);
}

#else /* built without MPI: one process */

int cli_mpi_same_run(const char *cmd, const char *record, bool checkpoint, bool resume)
{
    (void)cmd;
    (void)record;
    (void)checkpoint;
    (void)resume;
    return CLI_OK;
}
#endif
