/* The house-price data of the classic from-scratch tutorial, and its least-squares optimum.
   Shared by the demo, the tests and the benchmarks (workload W4). */
#ifndef NABLAS_HOUSE_DATA_H
#define NABLAS_HOUSE_DATA_H

#include <stddef.h>
#include <stdint.h>

enum { HOUSE_FEATURES = 4 };

/* Fills X (n x 4: size sq ft, bedrooms, age years, distance km) and y (n prices):
   size U[500, 3500), bedrooms uniform 1..5, age U[0, 50), distance U[0.5, 30),
   price = 600 size + 5 bedrooms + 15 age + 12 distance + N(0, 50000^2).
   Both are then standardised (zero mean, unit population standard deviation per column). */
void house_generate(size_t n, uint64_t seed, float *X, float *y);

/* Mean squared error of the least-squares fit y ~ X w + c (LAPACKE_dgels, in double).
   Returns a negative number if LAPACK fails or memory runs out. */
double house_lstsq_mse(size_t n, size_t features, const float *X, const float *y);

#endif
