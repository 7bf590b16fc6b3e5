/* NPY arrays: a defensive reader (the header is a Python dict literal, parsed by a small
   tokenizer that never reads past the header) and a float32 writer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file_io.h"
#include "core/base.h"
#include "core/le_codec.h"
#include "nablas/data.h"

static const unsigned char NPY_MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
#define MAX_NPY_FILE (SIZE_MAX / 2)
/* NumPy writes headers of a few hundred bytes (and reads at most 10000 by default) */
#define MAX_NPY_HEADER ((size_t)1 << 20)

typedef enum kind { K_FLOAT, K_INT, K_UINT, K_BOOL } kind;

typedef struct header {
    kind k;
    size_t itemsize;
    bool have_descr, have_fortran, have_shape, fortran, big_endian;
    size_t ndim, dims[2];
    char descr[3];     /* order, type, size */
    nb_io_error *err;  /* the reason of an unsupported array (nb_npy_read_err), or NULL */
} header;

/* NB_ERR_UNSUPPORTED, saying why in h->err. */
static nb_status unsupported(const header *h, const char *fmt, ...)
{
    if (h->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(h->err->message, sizeof h->err->message, fmt, ap);
        va_end(ap);
        h->err->line = h->err->column = 0;
    }
    return NB_ERR_UNSUPPORTED;
}

/* ---- header parsing ------------------------------------------------------------------------- */

typedef struct cursor {
    const char *s;
    size_t n, i;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n'))
        c->i++;
}

static bool eat(cursor *c, char ch)
{
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}

/* A quoted string ('...' or "..."), no escapes (NumPy never writes them in headers). */
static bool string(cursor *c, const char **str, size_t *len)
{
    skip_ws(c);
    if (c->i >= c->n || (c->s[c->i] != '\'' && c->s[c->i] != '"'))
        return false;
    char q = c->s[c->i++];
    size_t b = c->i;
    while (c->i < c->n && c->s[c->i] != q)
        c->i++;
    if (c->i >= c->n)
        return false;
    *str = c->s + b;
    *len = c->i - b;
    c->i++;
    return true;
}

static bool word(cursor *c, const char *w)
{
    skip_ws(c);
    size_t n = strlen(w);
    if (c->n - c->i >= n && memcmp(c->s + c->i, w, n) == 0) {
        c->i += n;
        return true;
    }
    return false;
}

static bool integer(cursor *c, size_t *v)
{
    skip_ws(c);
    size_t x = 0, digits = 0;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        size_t d = (size_t)(c->s[c->i++] - '0');
        if (x > (SIZE_MAX - d) / 10)
            return false;
        x = x * 10 + d;
        digits++;
    }
    if (c->i < c->n && c->s[c->i] == 'L') /* Python 2 longs */
        c->i++;
    *v = x;
    return digits > 0;
}

static nb_status parse_descr(const char *d, size_t len, header *h)
{
    static const char *supported = "f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1";
    if (len != 3)
        return unsupported(h, "dtype '%.*s' is not supported (%s)", (int)(len < 20 ? len : 20),
                           d, supported);
    char order = d[0], type = d[1], size = d[2];
    memcpy(h->descr, d, 3);
    if (order != '<' && order != '|' && order != '>' && order != '=')
        return NB_ERR_CORRUPT;
    h->itemsize = (size_t)(size - '0');
    switch (type) {
    case 'f': h->k = K_FLOAT; break;
    case 'i': h->k = K_INT; break;
    case 'u': h->k = K_UINT; break;
    case 'b': h->k = K_BOOL; break;
    default: return unsupported(h, "dtype '%.3s' is not supported (%s)", d, supported);
    }
    bool ok = (h->k == K_FLOAT && (h->itemsize == 4 || h->itemsize == 8))
              || ((h->k == K_INT || h->k == K_UINT)
                  && (h->itemsize == 1 || h->itemsize == 2 || h->itemsize == 4 || h->itemsize == 8))
              || (h->k == K_BOOL && h->itemsize == 1);
    if (!ok)
        return unsupported(h, "dtype '%.3s' is not supported (%s)", d, supported);
    /* '=' is native order in NumPy's own terms; files always say '<' or '>' (or '|'). */
    h->big_endian = (order == '>' && h->itemsize > 1);
    if (order == '=' && h->itemsize > 1)
        return unsupported(h, "dtype '%.3s' has no byte order: save it as '<%c%c'", d, type,
                           size);
    return NB_OK;
}

static nb_status parse_shape(cursor *c, header *h)
{
    if (!eat(c, '('))
        return NB_ERR_CORRUPT;
    h->ndim = 0;
    for (;;) {
        if (eat(c, ')'))
            break;
        size_t v;
        if (!integer(c, &v))
            return NB_ERR_CORRUPT;
        if (h->ndim < 2)
            h->dims[h->ndim] = v;
        h->ndim++;
        if (h->ndim > 32)
            return NB_ERR_CORRUPT;
        if (!eat(c, ',')) {
            if (!eat(c, ')'))
                return NB_ERR_CORRUPT;
            break;
        }
    }
    return NB_OK;
}

static nb_status parse_header(const char *s, size_t n, header *h)
{
    cursor c = {s, n, 0};
    if (!eat(&c, '{'))
        return NB_ERR_CORRUPT;
    for (;;) {
        if (eat(&c, '}'))
            break;
        const char *key;
        size_t klen;
        if (!string(&c, &key, &klen) || !eat(&c, ':'))
            return NB_ERR_CORRUPT;
        if (klen == 5 && memcmp(key, "descr", 5) == 0) {
            const char *d;
            size_t dlen;
            if (h->have_descr || !string(&c, &d, &dlen))
                return NB_ERR_CORRUPT;
            NB_TRY(parse_descr(d, dlen, h));
            h->have_descr = true;
        } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
            if (h->have_fortran)
                return NB_ERR_CORRUPT;
            if (word(&c, "True"))
                h->fortran = true;
            else if (!word(&c, "False"))
                return NB_ERR_CORRUPT;
            h->have_fortran = true;
        } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
            if (h->have_shape)
                return NB_ERR_CORRUPT;
            NB_TRY(parse_shape(&c, h));
            h->have_shape = true;
        } else {
            return NB_ERR_CORRUPT;
        }
        if (!eat(&c, ',')) {
            if (!eat(&c, '}'))
                return NB_ERR_CORRUPT;
            break;
        }
    }
    skip_ws(&c);
    if (c.i != c.n || !h->have_descr || !h->have_fortran || !h->have_shape)
        return NB_ERR_CORRUPT;
    if (h->fortran)
        return unsupported(h, "the array is in Fortran order (column-major): save it in C order "
                              "(numpy.ascontiguousarray)");
    if (h->big_endian)
        return unsupported(h, "the array is big-endian ('%.3s'): save it little-endian "
                              "(a.astype('<%c%c'))", h->descr, h->descr[1], h->descr[2]);
    if (h->ndim == 0 || h->ndim > 2)
        return unsupported(h, "the array has %zu dimensions: give a 1-D or 2-D array", h->ndim);
    return NB_OK;
}

/* ---- reading -------------------------------------------------------------------------------- */

static float element(const unsigned char *p, const header *h)
{
    switch (h->k) {
    case K_FLOAT:
        return h->itemsize == 4 ? nb__le_get_f32(p) : (float)nb__le_get_f64(p);
    case K_BOOL:
        return p[0] ? 1.0f : 0.0f;
    case K_UINT:
        switch (h->itemsize) {
        case 1: return (float)p[0];
        case 2: return (float)nb__le_get_u16(p);
        case 4: return (float)nb__le_get_u32(p);
        default: return (float)nb__le_get_u64(p);
        }
    default: /* two's complement, sign-extended by hand */
        switch (h->itemsize) {
        case 1: return (float)(int8_t)p[0];
        case 2: return (float)(int16_t)nb__le_get_u16(p);
        case 4: return (float)(int32_t)nb__le_get_u32(p);
        default: return (float)(int64_t)nb__le_get_u64(p);
        }
    }
}

/* Everything but the conversion: the header, the shape and the body's exact length.  Every
   proper prefix of a valid file gives NB_ERR_TRUNCATED (the bounded reader relies on it). */
static nb_status npy_layout(const unsigned char *b, size_t size, header *hp, size_t *data_off,
                            size_t *rows_out, size_t *cols_out, nb_io_error *err)
{
    if (size < 6 || memcmp(b, NPY_MAGIC, 6) != 0)
        return size < 6 && (size == 0 || memcmp(b, NPY_MAGIC, size) == 0) ? NB_ERR_TRUNCATED
                                                                            : NB_ERR_BAD_MAGIC;
    if (size < 8)
        return NB_ERR_TRUNCATED;
    unsigned major = b[6];
    size_t hlen, hoff;
    if (major == 1) {
        if (size < 10)
            return NB_ERR_TRUNCATED;
        hlen = nb__le_get_u16(b + 8);
        hoff = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12)
            return NB_ERR_TRUNCATED;
        hlen = nb__le_get_u32(b + 8);
        hoff = 12;
    } else {
        return NB_ERR_VERSION;
    }
    if (b[7] != 0)
        return NB_ERR_VERSION;
    if (hlen > MAX_NPY_HEADER)
        return unsupported(&(header){.err = err}, "the header is %zu bytes long (at most %zu)",
                           hlen, MAX_NPY_HEADER);
    if (size - hoff < hlen)
        return NB_ERR_TRUNCATED;
    header h;
    memset(&h, 0, sizeof h);
    h.err = err;
    NB_TRY(parse_header((const char *)b + hoff, hlen, &h));
    size_t rows = h.dims[0], cols = h.ndim == 2 ? h.dims[1] : 1;
    if (rows == 0 || cols == 0)
        return NB_ERR_SHAPE;
    if (rows > SIZE_MAX / cols || rows * cols > SIZE_MAX / 8)
        return NB_ERR_OVERFLOW;
    size_t count = rows * cols, body = size - hoff - hlen;
    if (body < count * h.itemsize)
        return NB_ERR_TRUNCATED;
    if (body > count * h.itemsize)
        return NB_ERR_CORRUPT;
    *hp = h;
    *data_off = hoff + hlen;
    *rows_out = rows;
    *cols_out = cols;
    return NB_OK;
}

nb_status nb_npy_read_mem(nb_tensor *out, const void *data, size_t size)
{
    if (!out || (!data && size))
        return NB_ERR_NULL;
    const unsigned char *b = data;
    header h;
    memset(&h, 0, sizeof h); /* set by npy_layout; cleared for the compiler's flow analysis */
    size_t off = 0, rows = 0, cols = 0;
    NB_TRY(npy_layout(b, size, &h, &off, &rows, &cols, NULL));
    nb_tensor t;
    NB_TRY(nb_tensor_alloc(&t, rows, cols));
    const unsigned char *p = b + off;
    for (size_t i = 0; i < rows * cols; i++)
        t.data[i] = element(p + i * h.itemsize, &h);
    *out = t;
    return NB_OK;
}

/* The bounded reader's question (file_io.h); a complete array before the end of the input
   means trailing bytes: read on until npy_layout says so. */
static nb_status npy_prefix(const unsigned char *b, size_t n, bool eof, void *ctx)
{
    header h;
    size_t off, rows, cols;
    nb_status st = npy_layout(b, n, &h, &off, &rows, &cols, ctx);
    return st == NB_OK && !eof ? NB_ERR_TRUNCATED : st;
}

static nb_status decode_npy(void *out, const unsigned char *data, size_t size)
{
    return nb_npy_read_mem(out, data, size);
}

nb_status nb_npy_read_err(nb_tensor *out, const char *path, nb_io_error *err)
{
    if (err)
        err->message[0] = '\0';
    return nb__load_decoded(path, MAX_NPY_FILE, npy_prefix, err, decode_npy, out);
}

nb_status nb_npy_read(nb_tensor *out, const char *path)
{
    return nb_npy_read_err(out, path, NULL);
}

/* ---- writing -------------------------------------------------------------------------------- */

nb_status nb_npy_write_nd_mem(void **data, size_t *size, const float *values, size_t ndim,
                             const size_t *shape)
{
    if (!data || !size || !values || !shape)
        return NB_ERR_NULL;
    if (ndim < 1 || ndim > NB_NPY_MAX_DIMS)
        return NB_ERR_SHAPE;
    char dict[64 + NB_NPY_MAX_DIMS * 22];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (size_t d = 0; d < ndim; d++) {
        if (shape[d] == 0)
            return NB_ERR_SHAPE;
        if (count > SIZE_MAX / sizeof(float) / shape[d])
            return NB_ERR_OVERFLOW;
        count *= shape[d];
        /* a 1-tuple needs its comma: (n,) */
        n += snprintf(dict + n, sizeof dict - (size_t)n, d + 1 < ndim || ndim == 1 ? "%zu, " : "%zu",
                      shape[d]);
    }
    if (ndim == 1)
        n -= 1; /* "(n, " -> "(n," */
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    if (n < 0 || (size_t)n >= sizeof dict)
        return NB_ERR_OVERFLOW;
    /* Pad with spaces so that the data start on a 64-byte boundary; end with a newline. */
    size_t hlen = ((10 + (size_t)n + 1 + 63) / 64) * 64 - 10;
    size_t bytes = count * sizeof(float);
    if (bytes > SIZE_MAX - 10 - hlen)
        return NB_ERR_OVERFLOW;
    unsigned char *buf = malloc(10 + hlen + bytes);
    if (!buf)
        return NB_ERR_NOMEM;
    memcpy(buf, NPY_MAGIC, 6);
    buf[6] = 1;
    buf[7] = 0;
    nb__le_put_u16(buf + 8, (uint16_t)hlen);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', hlen - (size_t)n - 1);
    buf[10 + hlen - 1] = '\n';
    nb__le_put_f32s(buf + 10 + hlen, values, count);
    *data = buf;
    *size = 10 + hlen + bytes;
    return NB_OK;
}

nb_status nb_npy_write_mem(void **data, size_t *size, const nb_tensor *t)
{
    if (!data || !size)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(t));
    size_t shape[2] = {t->rows, t->cols};
    return nb_npy_write_nd_mem(data, size, t->data, 2, shape);
}

static nb_status encode_npy(const void *t, void **data, size_t *size)
{
    return nb_npy_write_mem(data, size, t);
}

typedef struct nd_array {
    const float *values;
    size_t ndim;
    const size_t *shape;
} nd_array;

static nb_status encode_npy_nd(const void *a, void **data, size_t *size)
{
    const nd_array *x = a;
    return nb_npy_write_nd_mem(data, size, x->values, x->ndim, x->shape);
}

nb_status nb_npy_write_nd(const float *values, size_t ndim, const size_t *shape, const char *path)
{
    if (!values || !shape)
        return NB_ERR_NULL;
    if (ndim < 1 || ndim > NB_NPY_MAX_DIMS)
        return NB_ERR_SHAPE;
    nd_array a = {values, ndim, shape};
    return nb__save_encoded(path, encode_npy_nd, &a);
}

nb_status nb_npy_write(const nb_tensor *t, const char *path)
{
    return nb__save_encoded(path, encode_npy, t);
}
