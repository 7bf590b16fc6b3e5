/* Checkpoints of a run over MPI: rank 0 writes the file; on resume rank 0 reads it and
   broadcasts its bytes, so that the other ranks need not see the same file system, and every
   rank decodes the same bytes (the same parameters, optimizer state and position). */
#include <stdint.h>
#include <stdlib.h>

#include "persist/model_sections.h"
#include "mpi/comm.h"

nb_status nb_mpi_checkpoint_save(const nb_trainer *tr, const nb_model *m, MPI_Comm comm,
                                 const char *note, const char *path)
{
    MPI_Comm c;
    int rank, size;
    NB_TRY(nb__mpi_dup(&c, comm, &rank, &size));
    nb_status s = rank == 0 ? nb_checkpoint_save(tr, m, note, path) : NB_OK;
    s = nb__mpi_agree(c, s);
    MPI_Comm_free(&c);
    return s;
}

enum { CHUNK = 1 << 30 }; /* bytes per MPI_Bcast: MPI counts in int */

/* Rank 0's bytes (*data, *size; read from path) on every rank; a status agreed by all. */
static nb_status share_bytes(MPI_Comm c, int rank, nb_status mine, const char *path,
                             unsigned char **data, size_t *size)
{
    unsigned char *buf = NULL;
    size_t n = 0;
    if (rank == 0 && mine == NB_OK)
        mine = nb__model_read(path, &buf, &n);
    uint64_t head[2] = {(uint64_t)mine, n};
    if (MPI_Bcast(head, 2, MPI_UINT64_T, 0, c) != MPI_SUCCESS) {
        free(buf);
        return NB_ERR_MPI;
    }
    if (rank != 0) {
        n = (size_t)head[1];
        if (mine == NB_OK && head[0] == NB_OK && !(buf = malloc(n ? n : 1)))
            mine = NB_ERR_NOMEM;
    }
    nb_status s = nb__mpi_agree(c, mine > (nb_status)head[0] ? mine : (nb_status)head[0]);
    for (size_t off = 0; s == NB_OK && off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        if (MPI_Bcast(buf + off, (int)k, MPI_BYTE, 0, c) != MPI_SUCCESS)
            s = NB_ERR_MPI;
    }
    if (s != NB_OK) {
        free(buf);
        return s;
    }
    *data = buf;
    *size = n;
    return NB_OK;
}

nb_status nb_mpi_checkpoint_load(nb_model *m, nb_trainer **tr, char **note, MPI_Comm comm,
                                 const char *path)
{
    MPI_Comm c;
    int rank, size;
    NB_TRY(nb__mpi_dup(&c, comm, &rank, &size));
    nb_status mine = !m || !tr || (rank == 0 && !path) ? NB_ERR_NULL : NB_OK;
    unsigned char *data = NULL;
    size_t n = 0;
    nb_status s = share_bytes(c, rank, mine, path, &data, &n);
    if (s != NB_OK) {
        MPI_Comm_free(&c);
        return s;
    }
    nb_model mm;
    nb_trainer *tt = NULL;
    char *nn = NULL;
    s = nb_checkpoint_load_mem(&mm, &tt, note ? &nn : NULL, data, n);
    free(data);
    if (s == NB_ERR_OVERFLOW) /* as nb_checkpoint_load says of a file */
        s = NB_ERR_CORRUPT;
    nb_status all = nb__mpi_agree(c, s);
    MPI_Comm_free(&c);
    if (all != NB_OK) { /* another rank failed (or MPI did): undo this rank's load */
        if (s == NB_OK) {
            nb_trainer_free(tt);
            nb_model_free(&mm);
            free(nn);
        }
        return all;
    }
    *m = mm;
    *tr = tt;
    if (note)
        *note = nn;
    return NB_OK;
}
