/* Counts heap allocations made by any thread while counting is on (test_alloc.c). */
#ifndef NB_TEST_ALLOC_COUNT_H
#define NB_TEST_ALLOC_COUNT_H

#include <stddef.h>

void alloc_count_start(void);
size_t alloc_count_stop(void); /* allocations since alloc_count_start */
/* Of the allocations of the last counting window, those whose caller is inside an OpenBLAS
   shared object (its threaded sgemm driver mallocs a job array per call).  Always 0 where
   callers are not known (sanitizer builds). */
size_t alloc_count_blas(void);
/* Of the same, those whose caller is in a shared object whose file name starts with prefix
   (e.g. "libstdc++": operator new, which only C++ libraries such as oneDNN call). */
size_t alloc_count_from(const char *prefix);
/* False in sanitizer builds, where allocations are counted but their callers are unknown. */
int alloc_count_knows_callers(void);

#endif
