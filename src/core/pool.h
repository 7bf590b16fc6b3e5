/* nablas' one thread pool (core/pool.c): persistent workers for fork-join work of the library
   (the batch split of the training step, net/split.c).  nb_get_threads() - 1 workers at most,
   created on first use, joined when nb_set_threads lowers the count, when the library is
   unloaded and at exit (unless a run is still in flight then); a fork()ed child starts without workers and makes new ones when it
   needs them.  While a run is in flight OpenBLAS runs on one thread: the parts' products stay
   single-threaded, so the pool and OpenBLAS's threads never share the cores. */
#ifndef NB_CORE_POOL_H
#define NB_CORE_POOL_H

#include <stdbool.h>
#include <stddef.h>

enum { NB_POOL_MAX = 64 }; /* parts a run spreads over threads: the caller and 63 workers */

/* One part of a run: part k of parts (0 <= k < parts). */
typedef void (*nb__pool_fn)(void *ctx, int part, int parts);

/* Runs fn(ctx, k, parts) for every k in [0, parts) and returns when all have returned.
   Part 0 runs on the calling thread; the others go to whichever thread claims them first (a
   worker, or the caller once its own part is done: a worker that has no core yet on a busy
   machine holds nothing up).  The split of the work is the caller's, fixed by (k, parts):
   results never depend on which thread ran a part or when.  Workers missing for nb_get_threads()
   are created on first use.  A run from inside a part, or while another
   thread's run is in flight, runs its parts one after the other on the calling thread (same
   results).  Allocates nothing once the workers exist (nb__pool_reserve); a worker wakes by
   spinning on an atomic for up to NB_POOL_SPIN_NS after its last part, then sleeps on a
   condition variable. */
void nb__pool_run(nb__pool_fn fn, void *ctx, int parts);

/* Creates the workers a run of `parts` parts needs now (at most nb_get_threads() - 1 and
   NB_POOL_MAX - 1), so that runs allocate nothing; returns how many parts can run at once
   (1 + workers; 1 if no thread could be made: runs still work, on the caller alone). */
int nb__pool_reserve(int parts);

/* Joins the workers a limit of `threads` threads leaves out (nb_set_threads; 1: all). */
void nb__pool_resize(int threads);

/* Elements [*lo, *hi) of n that part k of parts takes: near-equal ranges in blocks of
   `block` elements (a cache line of floats: 16), the last one ending at n. */
void nb__pool_range(size_t n, size_t block, int k, int parts, size_t *lo, size_t *hi);

/* True on a thread while it runs a part of a pool run (its BLAS calls stay on one thread). */
bool nb__pool_inside(void);

#endif
