/* Shared helpers of the parity tests: finding and loading the reference data, and the error
   measures the tolerances are stated in. */
#ifndef PARITY_UTIL_H
#define PARITY_UTIL_H

#include <stddef.h>

#include "nablas.h"
#include "npy_read.h"

/* Loads <data dir>/<sub>/<name>.npy, the data dir coming from $NABLAS_PARITY_DATA (set by
   meson's test()).  Fails the running test if the file cannot be read. */
npy_array parity_load(const char *sub, const char *name);

/* A malloc'd float copy of a (exact for arrays written as float32). */
float *parity_floats(const npy_array *a);

/* max_i |c_i - r_i| / max(|r_i|, floor).  floor = parity_max_abs(r) gives the max-norm
   relative error ||c - r|| / ||r||; a tiny floor gives the element-wise relative error. */
double parity_rel_err(const float *c, const double *r, size_t n, double floor);
double parity_max_abs(const double *r, size_t n);
/* Max-norm relative error, with an all-zero reference demanding exact zeros. */
double parity_norm_err(const float *c, const double *r, size_t n);
/* Element-wise relative error (exact zeros must come out as exact zeros). */
double parity_elem_err(const float *c, const double *r, size_t n);

/* Worst max-norm relative error over every layer's W and b between the network's parameters
   and ref (the same flat layout); *where names the worst ("layer 1 W"). */
double parity_params_err(nb_net *net, const double *ref, char *where, size_t where_len);

/* One line on stderr: shown by `meson test -v` and kept in the test log. */
void parity_report(const char *group, const char *worst_case, double err, double tol);

#endif
