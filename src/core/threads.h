/* nablas' thread policy for the products it issues: each sgemm runs on the threads the user
   allowed (nb_set_threads) only when it is large enough to gain from them, measured with
   `nablas-bench-kernels --thread-crossover` (docs/performance.md); smaller ones run on one
   thread instead of OpenBLAS's own split, which starts far lower. */
#ifndef NB_CORE_THREADS_H
#define NB_CORE_THREADS_H

#include <stdbool.h>
#include <stddef.h>

/* Multiply-adds (m n k) from which a product runs on more than one thread.  From the quiet run
   of 2026-12-02 (docs/performance.md, --thread-crossover, SkylakeX kernels): every training
   product from 4.2 M up gained 1.23-1.99x from a second thread, those of 2.1 M 1.02-1.25x,
   those of 0.5 M nothing.  (The 50 M used before came from a run on a loaded machine.) */
#define NB_THREADS_MIN_MNK 4000000.0

/* Off: every product runs on all nb_get_threads() threads and OpenBLAS splits as it likes (the
   behaviour before the policy; for nablas-bench-train --policy-ab only). */
void nb__thread_policy(bool on);

/* The thread count the policy gives an m x n x k product (1 or nb_get_threads(); 1 inside a
   part of a pool run). */
int nb__threads_for(size_t m, size_t n, size_t k);

/* Sets OpenBLAS's thread count for a product of m x n x k multiply-adds, calling OpenBLAS only
   when the count changes (a few ns; it is process-global, see nablas/threads.h). */
void nb__blas_threads_for(size_t m, size_t n, size_t k);

/* The limit nb_get_threads() returns, and OpenBLAS's count, set to n >= 1 (nb_set_threads;
   core/thread_limit.c). */
void nb__threads_set_limit(int n);

/* OpenBLAS on n threads, calling it only when the count changes (core/thread_limit.c). */
void nb__blas_threads_set(int n);

/* OpenBLAS on one thread (nb__pool_run, before its parts start; they skip the two calls
   above, which would race on OpenBLAS's process-global count). */
void nb__blas_threads_one(void);

#endif
