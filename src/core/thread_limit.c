/* The thread limit (nb_get_threads) and the count OpenBLAS was last given: the state the thread
   pool (core/pool.c) and the product policy (core/threads.c) both read, below both of them. */
#include <cblas.h>
#include <stdatomic.h>

#include "core/threads.h"
#include "nablas/threads.h"

/* The user's limit (0: not read from OpenBLAS yet) and the count OpenBLAS was last given.
   Atomic: inference contexts may run products from several threads at once. */
static atomic_int limit;
static atomic_int current;

static int get_limit(void)
{
    int n = atomic_load_explicit(&limit, memory_order_relaxed);
    if (n == 0) { /* first use: OpenBLAS's start value (OPENBLAS_NUM_THREADS or the cores) */
        int start = openblas_get_num_threads();
        start = start < 1 ? 1 : start;
        if (atomic_compare_exchange_strong(&limit, &n, start)) {
            atomic_store(&current, start);
            n = start;
        }
    }
    return n;
}

int nb_get_threads(void) { return get_limit(); }

void nb__threads_set_limit(int n)
{
    get_limit();
    openblas_set_num_threads(n);
    atomic_store(&current, n);
    atomic_store(&limit, n);
}

void nb__blas_threads_set(int n)
{
    get_limit();
    if (atomic_exchange_explicit(&current, n, memory_order_relaxed) != n)
        openblas_set_num_threads(n);
}

void nb__blas_threads_one(void) { nb__blas_threads_set(1); }
