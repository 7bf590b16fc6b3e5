/* nablas: the tensor type, a row-major float matrix. */
#ifndef NABLAS_TENSOR_H
#define NABLAS_TENSOR_H

#include <stddef.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row-major: element (i, j) is data[i * cols + j].  A tensor never owns its memory implicitly:
   either the caller owns `data` (a view) or nb_tensor_alloc made it and nb_tensor_free frees it.
   Every kernel requires rows >= 1, cols >= 1 and data != NULL. */
typedef struct nb_tensor {
    size_t rows, cols;
    float *data;
} nb_tensor;

/* Wraps caller memory, no copy.  The caller keeps ownership; never pass a view to nb_tensor_free. */
nb_tensor nb_tensor_view(float *data, size_t rows, size_t cols);

/* Allocates rows x cols floats, zero-filled, 64-byte aligned.  On failure *t is left untouched.
   NB_ERR_SHAPE if rows or cols is 0, NB_ERR_OVERFLOW if the byte size overflows. */
nb_status nb_tensor_alloc(nb_tensor *t, size_t rows, size_t cols);

/* Frees what nb_tensor_alloc made and sets data = NULL, rows = cols = 0.  Safe on NULL, safe twice. */
void nb_tensor_free(nb_tensor *t);

/* A view of rows [first, first + count) of t (shares t's memory).  Returns a tensor with
   data == NULL if t is NULL or the range does not fit. */
nb_tensor nb_tensor_rows(const nb_tensor *t, size_t first, size_t count);

#ifdef __cplusplus
}
#endif
#endif
