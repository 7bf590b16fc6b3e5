/* Thread settings: how many threads nablas may use (nb_set_threads), how many of them each
   product gets (core/threads.h), and the pool's size (core/pool.h). */
#include <cblas.h>
#include <stdatomic.h>

#include "core/pool.h"
#include "core/threads.h"
#include "nablas/threads.h"

/* The user's limit (0: not read from OpenBLAS yet) and the count OpenBLAS was last given.
   Atomic: inference contexts may run products from several threads at once. */
static atomic_int limit;
static atomic_int current;
static atomic_bool policy_off;

void nb__thread_policy(bool on) { atomic_store(&policy_off, !on); }

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

nb_status nb_set_threads(int n)
{
    if (n < 1)
        return NB_ERR_ARG;
    get_limit();
    openblas_set_num_threads(n);
    atomic_store(&current, n);
    atomic_store(&limit, n);
    nb__pool_resize(n); /* fewer threads: the workers beyond them are joined now */
    return NB_OK;
}

int nb_get_threads(void) { return get_limit(); }

int nb__threads_for(size_t m, size_t n, size_t k)
{
    if (nb__pool_inside())
        return 1; /* a part of a pool run: the other threads run the other parts */
    int lim = get_limit();
    if (atomic_load_explicit(&policy_off, memory_order_relaxed))
        return lim;
    return lim > 1 && (double)m * (double)n * (double)k >= NB_THREADS_MIN_MNK ? lim : 1;
}

void nb__blas_threads_for(size_t m, size_t n, size_t k)
{
    if (nb__pool_inside())
        return; /* nb__pool_run set OpenBLAS to one thread before the parts started */
    int want = nb__threads_for(m, n, k);
    if (atomic_exchange_explicit(&current, want, memory_order_relaxed) != want)
        openblas_set_num_threads(want);
}

void nb__blas_threads_one(void)
{
    get_limit();
    if (atomic_exchange_explicit(&current, 1, memory_order_relaxed) != 1)
        openblas_set_num_threads(1);
}

const char *nb_blas_corename(void)
{
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}
