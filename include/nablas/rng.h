/* nablas: a small deterministic random number generator (xoshiro256**, seeded by splitmix64).
   The same seed gives the same sequence on every platform.  Used for initialisation and
   shuffling; exposed so that programs and tests can make reproducible data. */
#ifndef NABLAS_RNG_H
#define NABLAS_RNG_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_rng { uint64_t s[4]; } nb_rng;

/* A NULL generator is answered as the getters of the API answer a NULL object: nb_rng_seed
   does nothing and every draw returns 0 (nothing is read or written). */

void     nb_rng_seed(nb_rng *r, uint64_t seed);
uint64_t nb_rng_next(nb_rng *r);                    /* 64 random bits */
double   nb_rng_uniform(nb_rng *r);                 /* [0, 1), 53 random bits */
double   nb_rng_normal(nb_rng *r);                  /* N(0, 1), Box-Muller */
uint64_t nb_rng_below(nb_rng *r, uint64_t n);       /* uniform integer in [0, n), unbiased; 0 if n == 0 */

/* perm[0..n) = a random permutation of 0..n-1 that depends only on (seed, epoch): a training
   run can be resumed at any epoch without storing the order.  The Fisher-Yates shuffle of the
   library (training loop, validation split, gradient check); its first k entries are also a
   uniform draw of k distinct indices.  epoch 0 uses the generator nb_rng_seed(seed) gives.
   NB_ERR_NULL if perm is NULL and n > 0. */
nb_status nb_rng_shuffle(size_t *perm, size_t n, uint64_t seed, uint64_t epoch);

#ifdef __cplusplus
}
#endif
#endif
