/* A minimal reader for the .npy files tools/make_reference.py writes (test side only):
   format 1.0/2.0, C order, little-endian '<f4' or '<f8', up to 4 dimensions. */
#ifndef PARITY_NPY_READ_H
#define PARITY_NPY_READ_H

#include <stddef.h>

enum { NPY_MAX_DIMS = 4 };

typedef struct npy_array {
    size_t ndim, shape[NPY_MAX_DIMS];
    size_t n;     /* number of elements (1 for a 0-d array) */
    double *data; /* every element widened to double (exact for '<f4') */
} npy_array;

/* 0 on success; on failure -1 and *a is left empty (data NULL). */
int npy_read(const char *path, npy_array *a);
void npy_free(npy_array *a);

#endif
