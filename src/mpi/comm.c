/* nablas' own communicator, status agreement between ranks and the slicing of global batches. */
#include <stdint.h>

#include "mpi/comm.h"
#include "core/base.h"

nb_status nb__mpi_dup(MPI_Comm *out, MPI_Comm comm, int *rank, int *size)
{
    int up = 0, down = 0;
    if (MPI_Initialized(&up) != MPI_SUCCESS || MPI_Finalized(&down) != MPI_SUCCESS || !up || down)
        return NB_ERR_STATE;
    if (comm == MPI_COMM_NULL)
        return NB_ERR_ARG;
    MPI_Comm c;
    /* errors on the caller's communicator follow the caller's handler (default: abort) until
       the duplicate exists; then nablas' calls return codes */
    if (MPI_Comm_dup(comm, &c) != MPI_SUCCESS)
        return NB_ERR_MPI;
    if (MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
        MPI_Comm_rank(c, rank) != MPI_SUCCESS || MPI_Comm_size(c, size) != MPI_SUCCESS) {
        MPI_Comm_free(&c);
        return NB_ERR_MPI;
    }
    *out = c;
    return NB_OK;
}

nb_status nb__mpi_agree(MPI_Comm c, nb_status local)
{
    int s = (int)local, all = 0;
    if (MPI_Allreduce(&s, &all, 1, MPI_INT, MPI_MAX, c) != MPI_SUCCESS)
        return NB_ERR_MPI;
    return (nb_status)all;
}

enum { SAME_MAX = 24 };

nb_status nb__mpi_agree_same(MPI_Comm c, nb_status local, const uint64_t *v, size_t n)
{
    /* one MPI_MAX over (status, v, ~v): max(~v) = ~min(v), so every rank learns min and max */
    uint64_t buf[1 + 2 * SAME_MAX], all[1 + 2 * SAME_MAX];
    if (n > SAME_MAX)
        return NB_ERR_ARG;
    buf[0] = (uint64_t)local;
    for (size_t i = 0; i < n; i++) {
        buf[1 + i] = v[i];
        buf[1 + n + i] = ~v[i];
    }
    if (MPI_Allreduce(buf, all, (int)(1 + 2 * n), MPI_UINT64_T, MPI_MAX, c) != MPI_SUCCESS)
        return NB_ERR_MPI;
    if (all[0] != NB_OK)
        return (nb_status)all[0];
    for (size_t i = 0; i < n; i++)
        if (all[1 + i] != ~all[1 + n + i])
            return NB_ERR_ARG;
    return NB_OK;
}

nb_status nb_mpi_agree(MPI_Comm comm, nb_status local)
{
    if (comm == MPI_COMM_NULL)
        return NB_ERR_ARG;
    /* on the caller's communicator, so errors there follow the caller's handler */
    return nb__mpi_agree(comm, local);
}

nb_status nb_mpi_slice(size_t *first, size_t *count, size_t n, int rank, int size)
{
    if (!first || !count)
        return NB_ERR_NULL;
    if (size < 1 || rank < 0 || rank >= size)
        return NB_ERR_ARG;
    size_t lo, hi; /* the trainer's slicing: the first n % size ranks take one row more */
    nb__slice(n, (size_t)rank, (size_t)size, &lo, &hi);
    *first = lo;
    *count = hi - lo;
    return NB_OK;
}

nb_status nb_mpi_local_rows(size_t *count, size_t *index, size_t global_rows, size_t batch,
                            int rank, int size)
{
    if (!count)
        return NB_ERR_NULL;
    if (batch == 0 || size < 1 || rank < 0 || rank >= size)
        return NB_ERR_ARG;
    size_t k = 0;
    for (size_t start = 0; start < global_rows; start += batch) {
        size_t n = global_rows - start < batch ? global_rows - start : batch, first, m;
        NB_TRY(nb_mpi_slice(&first, &m, n, rank, size));
        if (index)
            for (size_t i = 0; i < m; i++)
                index[k + i] = start + first + i;
        k += m;
        if (global_rows - start <= batch)
            break;
    }
    *count = k;
    return NB_OK;
}
