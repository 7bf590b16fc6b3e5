/* safetensors header parser.  The file is: u64 little-endian header length N, N bytes of JSON
   (an object: tensor name -> {"dtype", "shape", "data_offsets"}, plus an optional
   "__metadata__" object of strings), then the data buffer that the offsets index.

   The JSON is parsed by Jansson (Debian's libjansson): it reads a buffer of given length (no
   NUL terminator needed), refuses duplicate keys at every level (JSON_REJECT_DUPLICATES),
   refuses "\u0000" in strings, keeps integers as 64-bit integers (cJSON turns them into
   doubles, which would round offsets past 2^53) and bounds nesting depth.

   Everything the header says is checked before it is used: the header length against a limit
   and the file, every field's type, dtypes, shapes against their byte ranges with
   overflow-checked products, and the ranges against each other and the buffer: they must
   tile it exactly (no overlap, no gap, no trailing bytes), as the reference implementation
   requires. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <jansson.h>
#include <math.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "persist/st_format.h"
#include "core/base.h"
#include "core/le_codec.h"

#define MAX_HEADER NB__ST_MAX_HEADER

static const struct {
    const char *name;
    nb__st_dtype dtype;
    size_t itemsize;
} DTYPES[] = {
    {"F32", NB__ST_F32, 4},     {"F16", NB__ST_F16, 2},     {"BF16", NB__ST_BF16, 2},
    {"F64", NB__ST_F64, 8},     {"BOOL", NB__ST_OTHER, 1},  {"U8", NB__ST_OTHER, 1},
    {"I8", NB__ST_OTHER, 1},    {"F8_E5M2", NB__ST_OTHER, 1}, {"F8_E4M3", NB__ST_OTHER, 1},
    {"I16", NB__ST_OTHER, 2},   {"U16", NB__ST_OTHER, 2},   {"I32", NB__ST_OTHER, 4},
    {"U32", NB__ST_OTHER, 4},   {"I64", NB__ST_OTHER, 8},   {"U64", NB__ST_OTHER, 8},
};

void nb__st_free(nb__st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->t[i].name);
    free(f->t);
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    memset(f, 0, sizeof *f);
}

/* A JSON integer in [0, 2^62]: bounds every later sum and product of two of them. */
static bool get_u62(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v))
        return false;
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x > ((uint64_t)1 << 62))
        return false;
    *out = (uint64_t)x;
    return true;
}

const char *nb__st_meta(const nb__st_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_vals[i];
    return NULL;
}

/* Metadata is a map of strings; nablas keeps its own entries (the activations, the loss,
   standardisations and names its exporter writes: the weights alone cannot say them). */
static nb_status parse_metadata(nb__st_file *f, const json_t *meta)
{
    if (!json_is_object(meta))
        return NB_ERR_CORRUPT;
    size_t cap = json_object_size(meta);
    f->meta_keys = calloc(cap ? cap : 1, sizeof *f->meta_keys);
    f->meta_vals = calloc(cap ? cap : 1, sizeof *f->meta_vals);
    if (!f->meta_keys || !f->meta_vals)
        return NB_ERR_NOMEM;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)meta, key, v) {
        if (!json_is_string(v))
            return NB_ERR_CORRUPT;
        if (strncmp(key, "nablas.", 7) != 0)
            continue;
        size_t len = json_string_length(v);
        if (memchr(json_string_value(v), '\0', len))
            return NB_ERR_CORRUPT;
        char *k = strdup(key), *val = malloc(len + 1);
        if (!k || !val) {
            free(k);
            free(val);
            return NB_ERR_NOMEM;
        }
        memcpy(val, json_string_value(v), len + 1);
        f->meta_keys[f->n_meta] = k;
        f->meta_vals[f->n_meta++] = val;
    }
    return NB_OK;
}

static nb_status parse_tensor(const char *name, const json_t *obj, nb__st_tensor *t)
{
    if (!json_is_object(obj) || json_object_size(obj) != 3)
        return NB_ERR_CORRUPT; /* exactly dtype, shape and data_offsets */
    const json_t *dt = json_object_get(obj, "dtype"), *sh = json_object_get(obj, "shape"),
                 *off = json_object_get(obj, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) || json_array_size(off) != 2)
        return NB_ERR_CORRUPT;
    size_t k = 0, nd = sizeof DTYPES / sizeof *DTYPES;
    while (k < nd && strcmp(json_string_value(dt), DTYPES[k].name) != 0)
        k++;
    if (k == nd)
        return NB_ERR_UNSUPPORTED; /* well-formed, but a dtype this version does not know */
    t->dtype = DTYPES[k].dtype;
    t->itemsize = DTYPES[k].itemsize;
    size_t ndim = json_array_size(sh);
    if (ndim > NB__ST_MAX_DIMS)
        return NB_ERR_UNSUPPORTED;
    t->ndim = ndim;
    uint64_t count = 1;
    for (size_t d = 0; d < ndim; d++) {
        if (!get_u62(json_array_get(sh, d), &t->shape[d]))
            return NB_ERR_CORRUPT;
        /* the range check below bounds count * itemsize by 2^62; stop before overflowing */
        if (t->shape[d] && count > ((uint64_t)1 << 62) / t->shape[d])
            return NB_ERR_CORRUPT;
        count *= t->shape[d];
    }
    t->count = count;
    if (!get_u62(json_array_get(off, 0), &t->begin) || !get_u62(json_array_get(off, 1), &t->end)
        || t->begin > t->end || t->end - t->begin != count * t->itemsize)
        return NB_ERR_CORRUPT;
    t->name = strdup(name);
    return t->name ? NB_OK : NB_ERR_NOMEM;
}

static int by_range(const void *a, const void *b)
{
    const nb__st_tensor *x = *(const nb__st_tensor *const *)a, *y = *(const nb__st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The ranges must tile [0, data_size) exactly. */
static nb_status check_ranges(const nb__st_file *f)
{
    if (f->n == 0)
        return f->data_size == 0 ? NB_OK : NB_ERR_CORRUPT;
    const nb__st_tensor **s = malloc(f->n * sizeof *s);
    if (!s)
        return NB_ERR_NOMEM;
    for (size_t i = 0; i < f->n; i++)
        s[i] = &f->t[i];
    qsort(s, f->n, sizeof *s, by_range);
    nb_status st = NB_OK;
    uint64_t at = 0;
    for (size_t i = 0; i < f->n && st == NB_OK; i++) {
        if (s[i]->begin != at) /* before: overlap; after: gap */
            st = NB_ERR_CORRUPT;
        at = s[i]->end;
    }
    free(s);
    if (st == NB_OK && at != f->data_size)
        st = at > f->data_size ? NB_ERR_TRUNCATED : NB_ERR_CORRUPT;
    return st;
}

static nb_status parse_header(nb__st_file *f, const json_t *root)
{
    if (!json_is_object(root))
        return NB_ERR_CORRUPT;
    size_t members = json_object_size(root);
    f->t = calloc(members ? members : 1, sizeof *f->t);
    if (!f->t)
        return NB_ERR_NOMEM;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            NB_TRY(parse_metadata(f, v));
            continue;
        }
        nb_status st = parse_tensor(key, v, &f->t[f->n]);
        if (st != NB_OK)
            return st;
        f->n++;
    }
    return check_ranges(f);
}

/* The header of the n bytes at p: its length (*hlen) and its JSON (*root, a new reference);
   NB_ERR_TRUNCATED while the bytes do not hold it all. */
static nb_status load_header(const uint8_t *p, size_t n, uint64_t *hlen, json_t **root)
{
    if (n < 8)
        return NB_ERR_TRUNCATED;
    *hlen = nb__le_get_u64(p);
    if (*hlen > MAX_HEADER)
        return NB_ERR_LIMIT;
    if (*hlen > n - 8)
        return NB_ERR_TRUNCATED;
    if (*hlen == 0 || p[8] != '{')
        return NB_ERR_CORRUPT;
    json_error_t err;
    *root = json_loadb((const char *)p + 8, (size_t)*hlen, JSON_REJECT_DUPLICATES, &err);
    return *root ? NB_OK : NB_ERR_CORRUPT;
}

nb_status nb__st_parse(nb__st_file *out, const void *bytes, size_t size)
{
    if (!out || !bytes)
        return NB_ERR_NULL;
    const uint8_t *p = bytes;
    uint64_t hlen;
    json_t *root;
    NB_TRY(load_header(p, size, &hlen, &root));
    nb__st_file f = {NULL, 0, p + 8 + hlen, size - 8 - (size_t)hlen, NULL, NULL, 0};
    nb_status st = parse_header(&f, root);
    json_decref(root);
    if (st != NB_OK) {
        nb__st_free(&f);
        return st;
    }
    *out = f;
    return NB_OK;
}

nb_status nb__st_declared_size(const void *header, size_t n, uint64_t *total)
{
    uint64_t hlen;
    json_t *root;
    NB_TRY(load_header(header, n, &hlen, &root));
    /* the data buffer ends where the last range ends (nb__st_parse checks that the ranges tile
       it); a malformed entry is left to nb__st_parse, which will refuse it */
    uint64_t end = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        json_t *off = json_is_object(v) ? json_object_get(v, "data_offsets") : NULL;
        json_t *e = json_is_array(off) && json_array_size(off) == 2 ? json_array_get(off, 1) : NULL;
        if (e && json_is_integer(e) && json_integer_value(e) > 0
            && (uint64_t)json_integer_value(e) > end)
            end = (uint64_t)json_integer_value(e);
    }
    json_decref(root);
    if (end > UINT64_MAX - 8 - hlen)
        return NB_ERR_CORRUPT;
    *total = 8 + hlen + end;
    return NB_OK;
}

float nb__f16_to_f32(uint16_t h)
{
    unsigned sign = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24); /* zero and subnormals: m * 2^-24 */
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400), (int)e - 25);
    return sign ? -v : v;
}

nb_status nb__st_to_f32(const nb__st_file *f, const nb__st_tensor *t, float *out)
{
    const uint8_t *p = f->data + t->begin;
    bool finite = true;
    for (uint64_t i = 0; i < t->count; i++) {
        float v;
        switch (t->dtype) {
        case NB__ST_F32:
            v = nb__le_get_f32(p + 4 * i);
            break;
        case NB__ST_F16:
            v = nb__f16_to_f32(nb__le_get_u16(p + 2 * i));
            break;
        case NB__ST_BF16: {
            uint32_t bits = (uint32_t)nb__le_get_u16(p + 2 * i) << 16;
            memcpy(&v, &bits, sizeof v);
            break;
        }
        case NB__ST_F64: {
            double d = nb__le_get_f64(p + 8 * i);
            /* the conversion of a double outside float's range is undefined in C */
            if (!(fabs(d) <= FLT_MAX)) {
                finite = false;
                d = 0;
            }
            v = (float)d;
            break;
        }
        default:
            return NB_ERR_UNSUPPORTED;
        }
        finite = finite && isfinite(v);
        out[i] = v;
    }
    return finite ? NB_OK : NB_ERR_NONFINITE;
}
