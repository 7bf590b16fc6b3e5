/* The optimizer object and its update kernels (unchecked: the public functions in optim.c
   validate everything first). */
#ifndef NB_OPTIM_OPTIM_H
#define NB_OPTIM_OPTIM_H

#include <stdint.h>

#include "core/base.h" /* NB_CLONES, NB_INLINE */
#include "core/pool.h"
#include "nablas/optim.h"

enum { NB_OPTIM_MAX_STATE = 3 };

/* Parameters from which an update runs over the thread pool, one range per allowed thread. */
#define NB_OPTIM_SPLIT_MIN 262144

struct nb_optim {
    nb_optim_opts o;
    size_t n;                          /* parameters */
    uint64_t steps;                    /* updates taken */
    size_t n_state;                    /* state buffers in use */
    float *state[NB_OPTIM_MAX_STATE];  /* each n floats, inside `block` */
    float *block;                      /* one aligned allocation for all of them */
};

/* The state buffers an optimizer with these (valid) options keeps. */
size_t nb__optim_state_count(const nb_optim_opts *o);

/* One update each; the step count is that of the update being made (1 for the first). */
void nb__optim_sgd(const nb_optim *opt, float *p, const float *g, uint64_t step);
void nb__optim_adam(const nb_optim *opt, float *p, const float *g, uint64_t step);
void nb__optim_rmsprop(const nb_optim *opt, float *p, const float *g, uint64_t step);

#endif
