/* gzip-compressed CSV: the same table as the plain text, concatenated members, and every way
   compressed input can be wrong (truncated anywhere, a failed CRC, trailing bytes, binary
   content, a decompression bomb past the output limit). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io_common.h"
#include "data/gzip.h"

/* text compressed as one gzip member (malloc'd). */
static unsigned char *gz(const void *text, size_t n, size_t *size)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    cr_assert_not_null(out);
    zs.next_in = (Bytef *)(uintptr_t)text;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *size = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static const char table[] = "a,b,label\n1,2.5,cat\n-3,4e2,dog\n# a comment\n5,6,cat\n";

static void same_dataset(const nb_dataset *a, const nb_dataset *b)
{
    cr_assert(a->X.rows == b->X.rows && a->X.cols == b->X.cols);
    cr_assert_arr_eq(a->X.data, b->X.data, a->X.rows * a->X.cols * sizeof(float));
    cr_assert_arr_eq(a->T.data, b->T.data, a->T.rows * a->T.cols * sizeof(float));
    cr_assert_eq(a->n_classes, b->n_classes);
    for (size_t c = 0; c < a->n_classes; c++)
        cr_assert_str_eq(a->class_names[c], b->class_names[c]);
    for (size_t j = 0; j < a->n_features; j++)
        cr_assert_str_eq(a->feature_names[j], b->feature_names[j]);
}

Test(gzip, same_table_as_the_plain_text_from_memory_and_from_a_file)
{
    nb_csv_opts o = nb_csv_opts_default();
    o.label_column = "label";
    nb_dataset plain, zd, fd;
    nb_io_error e;
    cr_assert_eq(nb_csv_read_mem(&plain, table, strlen(table), &o, &e), NB_OK, "%s", e.message);
    size_t n;
    unsigned char *z = gz(table, strlen(table), &n);
    cr_assert_eq(nb_csv_read_mem(&zd, (const char *)z, n, &o, &e), NB_OK, "%s", e.message);
    same_dataset(&plain, &zd);
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "t.csv.gz"));
    io_write(path, z, n);
    cr_assert_eq(nb_csv_read(&fd, path, &o, &e), NB_OK, "%s", e.message);
    same_dataset(&plain, &fd);
    nb_dataset_free(&plain);
    nb_dataset_free(&zd);
    nb_dataset_free(&fd);
    free(z);
}

Test(gzip, concatenated_members_are_one_text)
{
    size_t n1, n2;
    unsigned char *a = gz("x,y\n1,2\n", 8, &n1), *b = gz("3,4\n", 4, &n2);
    unsigned char *both = malloc(n1 + n2);
    memcpy(both, a, n1);
    memcpy(both + n1, b, n2);
    unsigned char *text;
    size_t len;
    cr_assert_eq(nb__gunzip(&text, &len, both, n1 + n2, 1000, true, NULL), NB_OK);
    cr_assert_eq(len, 12);
    cr_assert_str_eq((char *)text, "x,y\n1,2\n3,4\n"); /* NUL-terminated */
    free(text);
    free(both);
    free(a);
    free(b);
}

Test(gzip, errors_point_at_lines_of_the_decompressed_text)
{
    const char *bad = "a,b\n1,2\n3,x\n";
    size_t n;
    unsigned char *z = gz(bad, strlen(bad), &n);
    nb_dataset d;
    nb_io_error e;
    memset(&e, 0, sizeof e);
    cr_assert_eq(nb_csv_read_mem(&d, (const char *)z, n, NULL, &e), NB_ERR_PARSE);
    cr_assert(e.line == 3 && e.column == 2, "%zu:%zu %s", e.line, e.column, e.message);
    cr_assert_not_null(strstr(e.message, "not a number"), "%s", e.message);
    free(z);
}

Test(gzip, every_truncation_is_refused_as_truncated)
{
    size_t n;
    unsigned char *z = gz(table, strlen(table), &n);
    for (size_t cut = 2; cut < n; cut++) {
        nb_dataset d;
        memset(&d, 0xcd, sizeof d);
        nb_dataset before = d;
        nb_io_error e;
        memset(&e, 0, sizeof e);
        nb_status st = nb_csv_read_mem(&d, (const char *)z, cut, NULL, &e);
        cr_assert_eq(st, NB_ERR_TRUNCATED, "cut at %zu of %zu: %s (%s)", cut, n,
                     nb_status_str(st), e.message);
        cr_assert_not_null(strstr(e.message, "truncated gzip"), "%s", e.message);
        cr_assert_eq(memcmp(&d, &before, sizeof d), 0, "output touched");
    }
    free(z);
}

Test(gzip, failed_crc_trailing_bytes_and_binary_content)
{
    size_t n;
    unsigned char *z = gz(table, strlen(table), &n);
    unsigned char *t = malloc(n + 3);
    memcpy(t, z, n);
    nb_dataset d;
    nb_io_error e;
    t[n - 6] ^= 0x40; /* in the CRC-32 of the trailer */
    cr_assert_eq(nb_csv_read_mem(&d, (const char *)t, n, NULL, &e), NB_ERR_PARSE);
    cr_assert_not_null(strstr(e.message, "corrupt gzip"), "%s", e.message);
    memcpy(t, z, n);
    memcpy(t + n, "abc", 3);
    cr_assert_eq(nb_csv_read_mem(&d, (const char *)t, n + 3, NULL, &e), NB_ERR_PARSE);
    cr_assert_not_null(strstr(e.message, "3 bytes after the end"), "%s", e.message);
    free(t);
    free(z);
    char zeros[5000] = "a\n1\n";
    z = gz(zeros, sizeof zeros, &n);
    cr_assert_eq(nb_csv_read_mem(&d, (const char *)z, n, NULL, &e), NB_ERR_PARSE);
    cr_assert_not_null(strstr(e.message, "NUL byte at offset 4"), "%s", e.message);
    unsigned char *out;
    size_t len;
    cr_assert_eq(nb__gunzip(&out, &len, z, n, 10000, false, NULL), NB_OK); /* not as text */
    cr_assert_eq(len, sizeof zeros);
    free(out);
    free(z);
}

Test(gzip, output_limit_stops_a_bomb)
{
    size_t big = (size_t)1 << 20, n;
    char *text = malloc(big);
    for (size_t i = 0; i < big; i += 2)
        memcpy(text + i, "1\n", 2);
    unsigned char *z = gz(text, big, &n);
    cr_assert_lt(n, big / 100, "a bomb: %zu compressed bytes", n);
    unsigned char *out = (unsigned char *)"untouched";
    size_t len = 7;
    nb_io_error e;
    cr_assert_eq(nb__gunzip(&out, &len, z, n, big - 1, true, &e), NB_ERR_LIMIT);
    cr_assert_not_null(strstr(e.message, "more than"), "%s", e.message);
    cr_assert(len == 7 && !strcmp((char *)out, "untouched"));
    cr_assert_eq(nb__gunzip(&out, &len, z, n, big, true, &e), NB_OK); /* exactly the limit */
    cr_assert(len == big && memcmp(out, text, big) == 0);
    free(out);
    free(z);
    free(text);
}

Test(gzip, arguments)
{
    unsigned char *out;
    size_t len;
    const unsigned char plain[] = "a,b\n";
    cr_assert_eq(nb__gunzip(NULL, &len, plain, 4, 10, true, NULL), NB_ERR_NULL);
    cr_assert_eq(nb__gunzip(&out, NULL, plain, 4, 10, true, NULL), NB_ERR_NULL);
    cr_assert_eq(nb__gunzip(&out, &len, NULL, 4, 10, true, NULL), NB_ERR_NULL);
    cr_assert_eq(nb__gunzip(&out, &len, plain, 4, 10, true, NULL), NB_ERR_PARSE);
    cr_assert(!nb__is_gzip(NULL, 2) && !nb__is_gzip((const unsigned char *)"\x1f", 1));
    cr_assert(nb__is_gzip((const unsigned char *)"\x1f\x8b", 2));
}
