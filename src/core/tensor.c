/* The tensor type and the argument checks every kernel shares. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"

enum { ALIGN = 64 };

float *nb__alloc_floats(size_t n)
{
    if (n == 0 || n > (SIZE_MAX - ALIGN) / sizeof(float))
        return NULL;
    size_t bytes = (n * sizeof(float) + ALIGN - 1) / ALIGN * ALIGN; /* aligned_alloc wants a multiple */
    float *p = aligned_alloc(ALIGN, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

nb_tensor nb_tensor_view(float *data, size_t rows, size_t cols)
{
    nb_tensor t = {rows, cols, data};
    return t;
}

nb_status nb_tensor_alloc(nb_tensor *t, size_t rows, size_t cols)
{
    if (!t)
        return NB_ERR_NULL;
    if (rows == 0 || cols == 0)
        return NB_ERR_SHAPE;
    if (rows > (SIZE_MAX - ALIGN) / sizeof(float) / cols)
        return NB_ERR_OVERFLOW;
    float *p = nb__alloc_floats(rows * cols);
    if (!p)
        return NB_ERR_NOMEM;
    t->rows = rows;
    t->cols = cols;
    t->data = p;
    return NB_OK;
}

void nb_tensor_free(nb_tensor *t)
{
    if (!t)
        return;
    free(t->data);
    t->data = NULL;
    t->rows = t->cols = 0;
}

nb_tensor nb_tensor_rows(const nb_tensor *t, size_t first, size_t count)
{
    nb_tensor v = {0, 0, NULL};
    if (!t || !t->data || first > t->rows || count > t->rows - first)
        return v;
    v.rows = count;
    v.cols = t->cols;
    v.data = t->data + first * t->cols;
    return v;
}

nb_status nb__check_tensor(const nb_tensor *t)
{
    if (!t || !t->data)
        return NB_ERR_NULL;
    if (t->rows == 0 || t->cols == 0)
        return NB_ERR_SHAPE;
    if (t->rows > SIZE_MAX / sizeof(float) / t->cols)
        return NB_ERR_OVERFLOW;
    return NB_OK;
}

nb_status nb__check_shape(const nb_tensor *t, size_t rows, size_t cols)
{
    NB_TRY(nb__check_tensor(t));
    return (t->rows == rows && t->cols == cols) ? NB_OK : NB_ERR_SHAPE;
}

bool nb__overlap(const nb_tensor *a, const nb_tensor *b)
{
    if (!a || !b || !a->data || !b->data)
        return false;
    /* Compare as integers: relational operators on unrelated pointers are undefined. */
    uintptr_t a0 = (uintptr_t)a->data, a1 = a0 + a->rows * a->cols * sizeof(float);
    uintptr_t b0 = (uintptr_t)b->data, b1 = b0 + b->rows * b->cols * sizeof(float);
    return a0 < b1 && b0 < a1;
}

nb_status nb__check_blas_dims(size_t a, size_t b, size_t c)
{
    /* Debian's OpenBLAS uses 32-bit integers; leading dimensions and products must fit. */
    return (a <= INT_MAX && b <= INT_MAX && c <= INT_MAX) ? NB_OK : NB_ERR_OVERFLOW;
}
