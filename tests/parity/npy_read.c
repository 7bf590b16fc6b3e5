/* Minimal .npy reader: checks the magic, parses the header dictionary's three keys and reads
   the little-endian payload.  Anything else is rejected rather than guessed at. */
#include "npy_read.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_header(const char *h, size_t *elem, npy_array *a)
{
    const char *d = strstr(h, "'descr':");
    if (!d)
        return -1;
    d += strlen("'descr':");
    while (*d == ' ')
        d++;
    if (!strncmp(d, "'<f4'", 5))
        *elem = 4;
    else if (!strncmp(d, "'<f8'", 5))
        *elem = 8;
    else
        return -1;
    if (!strstr(h, "'fortran_order': False"))
        return -1;
    const char *s = strstr(h, "'shape': (");
    if (!s)
        return -1;
    s += strlen("'shape': (");
    a->ndim = 0;
    a->n = 1;
    while (*s != ')') {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || a->ndim == NPY_MAX_DIMS)
            return -1;
        a->shape[a->ndim++] = (size_t)v;
        a->n *= (size_t)v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return 0;
}

static double le_value(const unsigned char *p, size_t elem)
{
    uint64_t bits = 0;
    for (size_t i = elem; i-- > 0;)
        bits = bits << 8 | p[i];
    if (elem == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        return f;
    }
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

int npy_read(const char *path, npy_array *a)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char pre[12];
    char *header = NULL;
    unsigned char *raw = NULL;
    int rc = -1;
    size_t elem = 0, hlen;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6))
        goto done;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2)
            goto done;
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        goto done;
    }
    header = calloc(hlen + 1, 1);
    if (!header || fread(header, 1, hlen, f) != hlen || parse_header(header, &elem, a))
        goto done;
    raw = malloc(a->n * elem + 1);
    a->data = malloc((a->n ? a->n : 1) * sizeof *a->data);
    if (!raw || !a->data || fread(raw, elem, a->n, f) != a->n || fgetc(f) != EOF)
        goto done;
    for (size_t i = 0; i < a->n; i++)
        a->data[i] = le_value(raw + i * elem, elem);
    rc = 0;
done:
    free(header);
    free(raw);
    fclose(f);
    if (rc)
        npy_free(a);
    return rc;
}

void npy_free(npy_array *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}
