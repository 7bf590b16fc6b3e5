/* NPY arrays of any number of dimensions (nb_npy_write_nd): the header NumPy expects for 1-,
   2- and 3-D shapes, the body in C order, the same bytes as nb_npy_write for 2-D, errors. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"

static char *header_of(const unsigned char *b, size_t size, size_t *hlen)
{
    cr_assert(size > 10 && memcmp(b, "\x93NUMPY\x01\x00", 8) == 0);
    *hlen = (size_t)b[8] | (size_t)b[9] << 8;
    cr_assert_eq((10 + *hlen) % 64, 0, "data aligned on 64 bytes");
    cr_assert_eq(b[10 + *hlen - 1], '\n');
    char *h = calloc(*hlen + 1, 1);
    memcpy(h, b + 10, *hlen);
    return h;
}

static void check(size_t ndim, const size_t *shape, const char *want)
{
    size_t count = 1;
    for (size_t d = 0; d < ndim; d++)
        count *= shape[d];
    float *v = malloc(count * sizeof *v);
    for (size_t i = 0; i < count; i++)
        v[i] = (float)i * 0.5f - 3.0f;
    void *data;
    size_t size, hlen;
    cr_assert_eq(nb_npy_write_nd_mem(&data, &size, v, ndim, shape), NB_OK);
    char *h = header_of(data, size, &hlen);
    cr_expect(strstr(h, want) != NULL, "header %s lacks %s", h, want);
    cr_expect(strstr(h, "'descr': '<f4'") && strstr(h, "'fortran_order': False"));
    cr_assert_eq(size, 10 + hlen + count * sizeof(float));
    const unsigned char *body = (const unsigned char *)data + 10 + hlen;
    for (size_t i = 0; i < count; i++) {
        uint32_t u = (uint32_t)body[4 * i] | (uint32_t)body[4 * i + 1] << 8
                     | (uint32_t)body[4 * i + 2] << 16 | (uint32_t)body[4 * i + 3] << 24;
        float f;
        memcpy(&f, &u, sizeof f);
        cr_expect_eq(f, v[i]);
    }
    free(h);
    free(data);
    free(v);
}

Test(npy_nd, headers_and_bodies)
{
    check(1, (size_t[]){5}, "'shape': (5,)");
    check(2, (size_t[]){3, 4}, "'shape': (3, 4)");
    check(3, (size_t[]){2, 3, 4}, "'shape': (2, 3, 4)");
    check(3, (size_t[]){1, 1, 1}, "'shape': (1, 1, 1)");
    check(8, (size_t[]){1, 2, 1, 2, 1, 2, 1, 3}, "'shape': (1, 2, 1, 2, 1, 2, 1, 3)");
}

Test(npy_nd, two_dims_as_npy_write)
{
    float v[6] = {1, 2, 3, 4, 5, 6};
    nb_tensor t = nb_tensor_view(v, 2, 3);
    void *a, *b;
    size_t na, nbytes;
    cr_assert_eq(nb_npy_write_mem(&a, &na, &t), NB_OK);
    cr_assert_eq(nb_npy_write_nd_mem(&b, &nbytes, v, 2, (size_t[]){2, 3}), NB_OK);
    cr_assert_eq(na, nbytes);
    cr_expect_eq(memcmp(a, b, na), 0);
    free(a);
    free(b);
}

Test(npy_nd, file_and_errors)
{
    float v[8] = {0};
    size_t shape[3] = {2, 2, 2};
    void *d = (void *)&shape;
    size_t n = 7;
    cr_expect_eq(nb_npy_write_nd_mem(NULL, &n, v, 3, shape), NB_ERR_NULL);
    cr_expect_eq(nb_npy_write_nd_mem(&d, NULL, v, 3, shape), NB_ERR_NULL);
    cr_expect_eq(nb_npy_write_nd_mem(&d, &n, NULL, 3, shape), NB_ERR_NULL);
    cr_expect_eq(nb_npy_write_nd_mem(&d, &n, v, 3, NULL), NB_ERR_NULL);
    cr_expect_eq(nb_npy_write_nd_mem(&d, &n, v, 0, shape), NB_ERR_SHAPE);
    cr_expect_eq(nb_npy_write_nd_mem(&d, &n, v, NB_NPY_MAX_DIMS + 1, shape), NB_ERR_SHAPE);
    cr_expect_eq(nb_npy_write_nd_mem(&d, &n, v, 3, (size_t[]){2, 0, 2}), NB_ERR_SHAPE);
    cr_expect_eq(nb_npy_write_nd_mem(&d, &n, v, 3, (size_t[]){SIZE_MAX / 2, 4, 2}),
                 NB_ERR_OVERFLOW);
    cr_expect(d == (void *)&shape && n == 7, "outputs untouched");
    cr_expect_eq(nb_npy_write_nd(v, 3, shape, "/nonexistent/dir/j.npy"), NB_ERR_IO);
    cr_expect_eq(nb_npy_write_nd(v, 3, shape, NULL), NB_ERR_NULL);
    cr_expect_eq(nb_npy_write_nd(v, 0, shape, "x.npy"), NB_ERR_SHAPE);
}
