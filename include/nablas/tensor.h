/* nablas: the tensor type, a row-major float32 or float64 matrix. */
#ifndef NABLAS_TENSOR_H
#define NABLAS_TENSOR_H

#include <stddef.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The element type of a tensor. */
typedef enum nb_dtype {
    NB_F32 = 0, /* float, in data */
    NB_F64 = 1  /* double, in data64 */
} nb_dtype;

/* Row-major: element (i, j) is data[i * cols + j] (float32) or data64[i * cols + j] (float64).
   Exactly one of data and data64 is set: which one is the tensor's element type
   (nb_tensor_dtype).  A float32 tensor has data64 == NULL, so today's positional
   `{rows, cols, data}` and `{0}` still make float32 tensors (with -Wextra GCC and clang warn
   about the missing field in the positional form: nb_tensor_view or `.data =` avoid it); a
   float64 tensor has data == NULL, so code that only knows float32 sees no float data there.
   A tensor never owns its memory implicitly: either the caller owns the buffer (a view) or
   nb_tensor_alloc / nb_tensor_alloc_f64 made it and nb_tensor_free frees it.  Every kernel
   requires rows >= 1, cols >= 1 and its data pointer != NULL.  Functions that take only
   float32 refuse a float64 tensor with NB_ERR_TYPE (and never read it as float).
   ABI: 32 bytes on LP64 since 0.x (it was 24); programs built against the older header must
   be rebuilt (the version is pre-1.0). */
typedef struct nb_tensor {
    size_t rows, cols;
    float *data;
    double *data64;
} nb_tensor;

/* NB_F64 if t holds doubles (data64 set and data NULL), else NB_F32 (also for NULL t). */
static inline nb_dtype nb_tensor_dtype(const nb_tensor *t)
{
    return t && t->data64 && !t->data ? NB_F64 : NB_F32;
}

/* Wraps caller memory, no copy.  The caller keeps ownership; never pass a view to nb_tensor_free. */
nb_tensor nb_tensor_view(float *data, size_t rows, size_t cols);
/* The same over doubles: a float64 tensor. */
nb_tensor nb_tensor_view_f64(double *data, size_t rows, size_t cols);

/* Allocates rows x cols floats, zero-filled, 64-byte aligned.  On failure *t is left untouched.
   NB_ERR_SHAPE if rows or cols is 0, NB_ERR_OVERFLOW if the byte size overflows. */
nb_status nb_tensor_alloc(nb_tensor *t, size_t rows, size_t cols);
/* The same for rows x cols doubles: a float64 tensor. */
nb_status nb_tensor_alloc_f64(nb_tensor *t, size_t rows, size_t cols);
/* Either: NB_ERR_ARG for an unknown dtype. */
nb_status nb_tensor_alloc_as(nb_tensor *t, size_t rows, size_t cols, nb_dtype dtype);

/* Frees what nb_tensor_alloc(_f64) made and sets data = data64 = NULL, rows = cols = 0.
   Safe on NULL, safe twice. */
void nb_tensor_free(nb_tensor *t);

/* A view of rows [first, first + count) of t (shares t's memory, keeps its element type).
   Returns a tensor with data == data64 == NULL if t is NULL or the range does not fit. */
nb_tensor nb_tensor_rows(const nb_tensor *t, size_t first, size_t count);

#ifdef __cplusplus
}
#endif
#endif
