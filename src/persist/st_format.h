/* The safetensors container, independent of networks: a strict, bounded parser of the header
   and converters of tensor data to float32 (safetensors.c maps tensors onto a network). */
#ifndef NB_IO_ST_FORMAT_H
#define NB_IO_ST_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "nablas.h"

#define NB__ST_MAX_DIMS 8

typedef enum nb__st_dtype {
    NB__ST_F32,
    NB__ST_F16,
    NB__ST_BF16,
    NB__ST_F64,
    NB__ST_OTHER /* a dtype of the format that nablas cannot convert (integers, bool, f8) */
} nb__st_dtype;

typedef struct nb__st_tensor {
    char *name;            /* owned, NUL-terminated, no NUL inside */
    nb__st_dtype dtype;
    size_t itemsize;       /* bytes per element */
    size_t ndim;
    uint64_t shape[NB__ST_MAX_DIMS];
    uint64_t count;        /* product of shape */
    uint64_t begin, end;   /* byte range in the data buffer */
} nb__st_tensor;

typedef struct nb__st_file {
    nb__st_tensor *t;      /* owned array of n tensors, in the header's order */
    size_t n;
    const uint8_t *data;   /* the data buffer: points into the caller's bytes */
    size_t data_size;
    char **meta_keys;      /* owned copies of the __metadata__ entries whose key starts with */
    char **meta_vals;      /* "nablas." (other producers' entries are not ours to judge) */
    size_t n_meta;
} nb__st_file;

/* The value of metadata entry key ("nablas.activations"), or NULL when the file has none. */
const char *nb__st_meta(const nb__st_file *f, const char *key);

/* Parses and validates size bytes.  *out is set only on success (free with nb__st_free). */
/* bytes of JSON header at most: the reference implementation's limit */
#define NB__ST_MAX_HEADER 100000000u
nb_status nb__st_parse(nb__st_file *out, const void *bytes, size_t size);
void nb__st_free(nb__st_file *f);
/* The size of the whole file the first n bytes' header declares (8 + header + the end of its
   last data range), from the header alone: NB_ERR_TRUNCATED if the header is not complete
   yet, NB_ERR_LIMIT / NB_ERR_CORRUPT for a header nb__st_parse would refuse as such. */
nb_status nb__st_declared_size(const void *header, size_t n, uint64_t *total);

/* Converts tensor t's elements (little-endian) to count floats.  NB_ERR_UNSUPPORTED for a
   dtype that is not F32/F16/BF16/F64; NB_ERR_NONFINITE if a value is NaN, infinite, or
   (F64) outside float's range.  out is written in any case. */
nb_status nb__st_to_f32(const nb__st_file *f, const nb__st_tensor *t, float *out);

/* IEEE half (binary16) bits to float, exactly (subnormals, infinities and NaN included). */
float nb__f16_to_f32(uint16_t h);

#endif
