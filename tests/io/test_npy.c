/* NPY: round trips through the writer, files as NumPy writes them (hand-made bytes, versions
   1.0 and 2.0, several dtypes), and malformed or unsupported headers. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"
#include "core/le_codec.h"

/* A .npy file with the given header dict and raw data (version major 1 or 2). */
static unsigned char *npy(int major, const char *dict, const void *raw, size_t raw_len, size_t *size)
{
    size_t dl = strlen(dict), pre = major == 1 ? 10 : 12;
    size_t hlen = ((pre + dl + 1 + 63) / 64) * 64 - pre;
    unsigned char *b = calloc(1, pre + hlen + raw_len + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    if (major == 1)
        nb__le_put_u16(b + 8, (uint16_t)hlen);
    else
        nb__le_put_u32(b + 8, (uint32_t)hlen);
    memcpy(b + pre, dict, dl);
    memset(b + pre + dl, ' ', hlen - dl - 1);
    b[pre + hlen - 1] = '\n';
    if (raw_len)
        memcpy(b + pre + hlen, raw, raw_len);
    *size = pre + hlen + raw_len;
    return b;
}

static void expect(int major, const char *dict, const void *raw, size_t raw_len, nb_status want)
{
    size_t size;
    unsigned char *b = npy(major, dict, raw, raw_len, &size);
    nb_tensor t = {7, 7, (float *)b, NULL};
    nb_status st = nb_npy_read_mem(&t, b, size);
    cr_assert_eq(st, want, "%s: %s", dict, nb_status_str(st));
    cr_assert(t.rows == 7 && t.cols == 7 && t.data == (float *)b, "output touched");
    free(b);
}

Test(npy, write_read_round_trip)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "a.npy"));
    nb_tensor X = io_random(37, 5, 8), Y;
    cr_assert_eq(nb_npy_write(&X, path), NB_OK);
    size_t size;
    unsigned char *b = io_read(path, &size);
    cr_assert_eq(memcmp(b, "\x93NUMPY\x01\x00", 8), 0);
    size_t hlen = nb__le_get_u16(b + 8);
    cr_assert_eq((10 + hlen) % 64, 0);
    cr_assert_eq(b[10 + hlen - 1], '\n');
    cr_assert_not_null(strstr((char *)b + 10, "'shape': (37, 5)"));
    cr_assert_eq(size, 10 + hlen + 37 * 5 * 4);
    cr_assert_eq(nb_npy_read(&Y, path), NB_OK);
    cr_assert(Y.rows == 37 && Y.cols == 5);
    cr_assert_eq(memcmp(X.data, Y.data, 37 * 5 * 4), 0);
    free(b);
    nb_tensor_free(&X);
    nb_tensor_free(&Y);
}

Test(npy, dtypes_and_versions)
{
    double f8[] = {1.5, -2.25, 1e10, 0};
    int32_t i4[] = {-1, 2, -3, 2000000};
    uint8_t raw[32];
    nb_tensor t;
    size_t size;
    unsigned char *b = npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", NULL, 0, &size);
    free(b);
    for (int i = 0; i < 4; i++)
        nb__le_put_f64(raw + 8 * i, f8[i]);
    b = npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", raw, 32, &size);
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_OK);
    cr_assert(t.rows == 2 && t.cols == 2 && t.data[0] == 1.5f && t.data[2] == 1e10f);
    nb_tensor_free(&t);
    free(b);
    for (int i = 0; i < 4; i++)
        nb__le_put_u32(raw + 4 * i, (uint32_t)i4[i]);
    b = npy(1, "{\"descr\":\"<i4\",\"fortran_order\":False,\"shape\":(4,)}", raw, 16, &size);
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_OK);
    cr_assert(t.rows == 4 && t.cols == 1 && t.data[0] == -1.0f && t.data[3] == 2000000.0f);
    nb_tensor_free(&t);
    free(b);
    const uint8_t u1[] = {0, 255, 7}, b1[] = {0, 1, 2};
    b = npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", u1, 3, &size);
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_OK);
    cr_assert(t.data[1] == 255.0f && t.data[2] == 7.0f);
    nb_tensor_free(&t);
    free(b);
    b = npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b1, 3, &size);
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_OK);
    cr_assert(t.data[0] == 0.0f && t.data[1] == 1.0f && t.data[2] == 1.0f);
    nb_tensor_free(&t);
    free(b);
    nb__le_put_u64(raw, (uint64_t)-5);
    nb__le_put_u16(raw + 8, 0xfffe);
    b = npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", raw, 8, &size);
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_OK);
    cr_assert_eq(t.data[0], -5.0f);
    nb_tensor_free(&t);
    free(b);
    b = npy(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", raw + 8, 2, &size);
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_OK);
    cr_assert_eq(t.data[0], -2.0f);
    nb_tensor_free(&t);
    free(b);
}

Test(npy, unsupported_layouts)
{
    float raw[6] = {0};
    expect(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", raw, 24, NB_ERR_UNSUPPORTED);
    expect(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", raw, 24, NB_ERR_UNSUPPORTED);
    expect(1, "{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }", raw, 24, NB_ERR_UNSUPPORTED);
    expect(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", raw, 24, NB_ERR_UNSUPPORTED);
    expect(1, "{'descr': '<U10', 'fortran_order': False, 'shape': (3,), }", raw, 24, NB_ERR_UNSUPPORTED);
    expect(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", raw, 12, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", raw, 24, NB_ERR_UNSUPPORTED);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", raw, 4, NB_ERR_UNSUPPORTED);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", raw, 0, NB_ERR_SHAPE);
}

Test(npy, malformed_headers)
{
    float raw[6] = {0};
    expect(1, "{'descr': '<f4', 'shape': (2, 3), }", raw, 24, NB_ERR_CORRUPT);          /* key missing */
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}", raw, 24, NB_ERR_CORRUPT);
    expect(1, "'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} extra", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 3)}", raw, 24, NB_ERR_CORRUPT);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", raw, 24, NB_ERR_OVERFLOW);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000)}", raw, 24, NB_ERR_TRUNCATED);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", raw, 20, NB_ERR_TRUNCATED);
    expect(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", raw, 24, NB_ERR_CORRUPT); /* trailing */
}

Test(npy, magic_version_and_every_truncation)
{
    nb_tensor X = io_random(3, 2, 1), t = {0};
    void *data;
    size_t size;
    cr_assert_eq(nb_npy_write_mem(&data, &size, &X), NB_OK);
    unsigned char *b = data;
    for (size_t n = 0; n < size; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, b, n);
        cr_assert_eq(nb_npy_read_mem(&t, copy, n), NB_ERR_TRUNCATED, "length %zu", n);
        free(copy);
    }
    cr_assert_null(t.data);
    b[6] = 4;
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_ERR_VERSION);
    b[6] = 1;
    b[1] = 'n';
    cr_assert_eq(nb_npy_read_mem(&t, b, size), NB_ERR_BAD_MAGIC);
    cr_assert_eq(nb_npy_read_mem(&t, NULL, 5), NB_ERR_NULL);
    cr_assert_eq(nb_npy_read(&t, "/nonexistent/x.npy"), NB_ERR_IO);
    cr_assert_eq(nb_npy_write_mem(&data, &size, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_npy_write(&X, "/nonexistent/x.npy"), NB_ERR_IO);
    free(b);
    nb_tensor_free(&X);
}
