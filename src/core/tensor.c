/* The tensor type and the argument checks every kernel shares. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"

enum { ALIGN = 64 };

/* 64-byte aligned, zero-filled: n elements of elem bytes (NULL on failure or overflow) */
static void *alloc_elems(size_t n, size_t elem)
{
    if (n == 0 || n > (SIZE_MAX - ALIGN) / elem)
        return NULL;
    size_t bytes = (n * elem + ALIGN - 1) / ALIGN * ALIGN; /* aligned_alloc wants a multiple */
    void *p = aligned_alloc(ALIGN, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

float *nb__alloc_floats(size_t n) { return alloc_elems(n, sizeof(float)); }
double *nb__alloc_doubles(size_t n) { return alloc_elems(n, sizeof(double)); }

size_t nb__dtype_size(nb_dtype d) { return d == NB_F64 ? sizeof(double) : sizeof(float); }

nb_tensor nb_tensor_view(float *data, size_t rows, size_t cols)
{
    nb_tensor t = {.rows = rows, .cols = cols, .data = data};
    return t;
}

nb_tensor nb_tensor_view_f64(double *data, size_t rows, size_t cols)
{
    nb_tensor t = {.rows = rows, .cols = cols, .data64 = data};
    return t;
}

nb_status nb_tensor_alloc_as(nb_tensor *t, size_t rows, size_t cols, nb_dtype dtype)
{
    if (!t)
        return NB_ERR_NULL;
    if (dtype != NB_F32 && dtype != NB_F64)
        return NB_ERR_ARG;
    if (rows == 0 || cols == 0)
        return NB_ERR_SHAPE;
    size_t elem = nb__dtype_size(dtype);
    if (rows > (SIZE_MAX - ALIGN) / elem / cols)
        return NB_ERR_OVERFLOW;
    void *p = alloc_elems(rows * cols, elem);
    if (!p)
        return NB_ERR_NOMEM;
    t->rows = rows;
    t->cols = cols;
    t->data = dtype == NB_F32 ? p : NULL;
    t->data64 = dtype == NB_F64 ? p : NULL;
    return NB_OK;
}

nb_status nb_tensor_alloc(nb_tensor *t, size_t rows, size_t cols)
{
    return nb_tensor_alloc_as(t, rows, cols, NB_F32);
}

nb_status nb_tensor_alloc_f64(nb_tensor *t, size_t rows, size_t cols)
{
    return nb_tensor_alloc_as(t, rows, cols, NB_F64);
}

void nb_tensor_free(nb_tensor *t)
{
    if (!t)
        return;
    free(t->data);
    if (t->data64 != (double *)(void *)t->data) /* never both, but never freed twice either */
        free(t->data64);
    t->data = NULL;
    t->data64 = NULL;
    t->rows = t->cols = 0;
}

nb_tensor nb_tensor_rows(const nb_tensor *t, size_t first, size_t count)
{
    nb_tensor v = {0};
    if (!t || first > t->rows || count > t->rows - first)
        return v;
    if (nb_tensor_dtype(t) == NB_F64) {
        v.data64 = t->data64 + first * t->cols;
    } else {
        if (!t->data)
            return v;
        v.data = t->data + first * t->cols;
    }
    v.rows = count;
    v.cols = t->cols;
    return v;
}

nb_status nb__check_tensor_as(const nb_tensor *t, nb_dtype dtype)
{
    if (!t)
        return NB_ERR_NULL;
    /* the element type first: a float64 tensor passed to a float32 call is refused as such,
       not as a NULL float pointer */
    if (dtype == NB_F32 ? t->data64 != NULL : t->data != NULL)
        return NB_ERR_TYPE;
    if (dtype == NB_F32 ? !t->data : !t->data64)
        return NB_ERR_NULL;
    if (t->rows == 0 || t->cols == 0)
        return NB_ERR_SHAPE;
    if (t->rows > SIZE_MAX / nb__dtype_size(dtype) / t->cols)
        return NB_ERR_OVERFLOW;
    return NB_OK;
}

nb_status nb__check_tensor(const nb_tensor *t) { return nb__check_tensor_as(t, NB_F32); }

nb_status nb__check_shape_as(const nb_tensor *t, size_t rows, size_t cols, nb_dtype dtype)
{
    NB_TRY(nb__check_tensor_as(t, dtype));
    return (t->rows == rows && t->cols == cols) ? NB_OK : NB_ERR_SHAPE;
}

nb_status nb__check_shape(const nb_tensor *t, size_t rows, size_t cols)
{
    return nb__check_shape_as(t, rows, cols, NB_F32);
}

bool nb__overlap(const nb_tensor *a, const nb_tensor *b)
{
    if (!a || !b)
        return false;
    const void *pa = nb_tensor_dtype(a) == NB_F64 ? (const void *)a->data64 : (const void *)a->data;
    const void *pb = nb_tensor_dtype(b) == NB_F64 ? (const void *)b->data64 : (const void *)b->data;
    if (!pa || !pb)
        return false;
    /* Compare as integers: relational operators on unrelated pointers are undefined. */
    uintptr_t a0 = (uintptr_t)pa, a1 = a0 + a->rows * a->cols * nb__dtype_size(nb_tensor_dtype(a));
    uintptr_t b0 = (uintptr_t)pb, b1 = b0 + b->rows * b->cols * nb__dtype_size(nb_tensor_dtype(b));
    return a0 < b1 && b0 < a1;
}

nb_status nb__check_blas_dims(size_t a, size_t b, size_t c)
{
    /* Debian's OpenBLAS uses 32-bit integers; leading dimensions and products must fit. */
    return (a <= INT_MAX && b <= INT_MAX && c <= INT_MAX) ? NB_OK : NB_ERR_OVERFLOW;
}
