/* The tensor type: views, allocation and row views. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

TestSuite(tensor, .fini = tc_leak_check);

Test(tensor, view_wraps_caller_memory)
{
    float buf[6] = {1, 2, 3, 4, 5, 6};
    nb_tensor t = nb_tensor_view(buf, 2, 3);
    cr_assert_eq(t.rows, 2);
    cr_assert_eq(t.cols, 3);
    cr_assert_eq(t.data, buf);
    cr_assert_eq(t.data[1 * 3 + 2], 6.0f); /* row-major */
}

Test(tensor, alloc_zero_filled_and_aligned)
{
    size_t shapes[][2] = {{1, 1}, {1, 17}, {17, 1}, {17, 13}, {256, 1024}};
    /* each shape twice: the second allocation likely reuses the first one's dirtied memory */
    for (size_t s = 0; s < 2 * sizeof shapes / sizeof *shapes; s++) {
        nb_tensor t;
        tc_fill_sentinel(&t, sizeof t);
        size_t rows = shapes[s / 2][0], cols = shapes[s / 2][1];
        cr_assert_eq(nb_tensor_alloc(&t, rows, cols), NB_OK);
        cr_assert_eq(t.rows, rows);
        cr_assert_eq(t.cols, cols);
        cr_assert_not_null(t.data);
        cr_assert_eq((uintptr_t)t.data % 64, 0, "not 64-byte aligned");
        for (size_t i = 0; i < t.rows * t.cols; i++)
            cr_assert_eq(t.data[i], 0.0f, "element %zu not zero", i);
        tc_fill_sentinel(t.data, rows * cols * sizeof(float)); /* all writable (ASan checks) */
        nb_tensor_free(&t);
        cr_assert_null(t.data);
        cr_assert_eq(t.rows, 0);
        cr_assert_eq(t.cols, 0);
        nb_tensor_free(&t); /* safe twice */
    }
    nb_tensor_free(NULL); /* safe on NULL */
}

Test(tensor, alloc_errors_leave_tensor_untouched)
{
    nb_tensor t, before;
    tc_fill_sentinel(&t, sizeof t);
    before = t;
    cr_assert_eq(nb_tensor_alloc(NULL, 2, 2), NB_ERR_NULL);
    cr_assert_eq(nb_tensor_alloc(&t, 0, 3), NB_ERR_SHAPE);
    cr_assert_eq(nb_tensor_alloc(&t, 3, 0), NB_ERR_SHAPE);
    cr_assert_eq(nb_tensor_alloc(&t, 0, 0), NB_ERR_SHAPE);
    cr_assert_eq(nb_tensor_alloc(&t, SIZE_MAX / 2, 3), NB_ERR_OVERFLOW);
    cr_assert_eq(nb_tensor_alloc(&t, 3, SIZE_MAX / 2), NB_ERR_OVERFLOW);
    cr_assert_eq(nb_tensor_alloc(&t, SIZE_MAX, SIZE_MAX), NB_ERR_OVERFLOW);
    cr_assert_eq(memcmp(&t, &before, sizeof t), 0, "tensor changed by a failed alloc");
}

Test(tensor, rows_view)
{
    float buf[12];
    for (int i = 0; i < 12; i++)
        buf[i] = (float)i;
    nb_tensor t = nb_tensor_view(buf, 4, 3);

    nb_tensor v = nb_tensor_rows(&t, 1, 2);
    cr_assert_eq(v.data, buf + 3);
    cr_assert_eq(v.rows, 2);
    cr_assert_eq(v.cols, 3);
    cr_assert_eq(v.data[1 * 3 + 2], 8.0f);

    v = nb_tensor_rows(&t, 0, 4); /* the whole tensor */
    cr_assert_eq(v.data, buf);
    cr_assert_eq(v.rows, 4);
    v = nb_tensor_rows(&t, 3, 1); /* the last row */
    cr_assert_eq(v.data, buf + 9);

    /* ranges that do not fit, and bad tensors: data == NULL */
    cr_assert_null(nb_tensor_rows(&t, 2, 3).data);
    cr_assert_null(nb_tensor_rows(&t, 5, 0).data);
    cr_assert_null(nb_tensor_rows(&t, 1, SIZE_MAX).data); /* first + count wraps */
    cr_assert_null(nb_tensor_rows(&t, SIZE_MAX, 2).data);
    cr_assert_null(nb_tensor_rows(NULL, 0, 1).data);
    nb_tensor empty = nb_tensor_view(NULL, 4, 3);
    cr_assert_null(nb_tensor_rows(&empty, 0, 1).data);
}
