/* Thread settings: how many threads nablas may use (nb_set_threads, which also sizes the pool,
   core/pool.h) and how many of them each product gets (core/threads.h); the limit itself is
   kept below both, in core/thread_limit.c. */
#include <cblas.h>
#include <stdatomic.h>

#include "core/pool.h"
#include "core/threads.h"
#include "nablas/threads.h"

static atomic_bool policy_off;

void nb__thread_policy(bool on) { atomic_store(&policy_off, !on); }

nb_status nb_set_threads(int n)
{
    if (n < 1)
        return NB_ERR_ARG;
    nb__threads_set_limit(n);
    nb__pool_resize(n); /* fewer threads: the workers beyond them are joined now */
    return NB_OK;
}

int nb__threads_for(size_t m, size_t n, size_t k)
{
    if (nb__pool_inside())
        return 1; /* a part of a pool run: the other threads run the other parts */
    int lim = nb_get_threads();
    if (atomic_load_explicit(&policy_off, memory_order_relaxed))
        return lim;
    return lim > 1 && (double)m * (double)n * (double)k >= NB_THREADS_MIN_MNK ? lim : 1;
}

void nb__blas_threads_for(size_t m, size_t n, size_t k)
{
    if (nb__pool_inside())
        return; /* nb__pool_run set OpenBLAS to one thread before the parts started */
    nb__blas_threads_set(nb__threads_for(m, n, k));
}

const char *nb_blas_corename(void)
{
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}
