/* ONNX persistence: constant tensors decoded with their claims checked, the import's errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/le_codec.h"
#include "persist/onnx_tensor.h"
#include "persist/st_format.h"

#define MAX_DIM 0x7fffffffLL

static size_t elem_size(int32_t type)
{
    switch (type) {
    case NB__ONNX_FLOAT:
    case NB__ONNX_INT32:
        return 4;
    case NB__ONNX_INT64:
    case NB__ONNX_DOUBLE:
        return 8;
    case NB__ONNX_FLOAT16:
    case NB__ONNX_BFLOAT16:
        return 2;
    default:
        return 0;
    }
}

static double bf16(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Element i of raw little-endian data. */
static double raw_value(int32_t type, const uint8_t *p, size_t i)
{
    switch (type) {
    case NB__ONNX_FLOAT:
        return nb__le_get_f32(p + 4 * i);
    case NB__ONNX_INT32:
        return (double)(int32_t)nb__le_get_u32(p + 4 * i);
    case NB__ONNX_INT64:
        return (double)(int64_t)nb__le_get_u64(p + 8 * i);
    case NB__ONNX_DOUBLE:
        return nb__le_get_f64(p + 8 * i);
    case NB__ONNX_FLOAT16:
        return nb__f16_to_f32(nb__le_get_u16(p + 2 * i));
    default:
        return bf16(nb__le_get_u16(p + 2 * i));
    }
}

nb_status nb__onnx_const_decode(nb__onnx_const *c, const NbOnnx__TensorProto *t, const char *name)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    if (t->n_external_data || (t->has_data_location && t->data_location != 0))
        return NB_ERR_UNSUPPORTED;
    int32_t type = t->has_data_type ? t->data_type : 0;
    size_t es = elem_size(type);
    if (!es)
        return NB_ERR_UNSUPPORTED;
    if (t->n_dims > NB__ONNX_MAX_DIMS)
        return NB_ERR_UNSUPPORTED;
    size_t n = 1;
    for (size_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] < 0 || t->dims[d] > MAX_DIM)
            return NB_ERR_CORRUPT;
        c->dims[d] = t->dims[d];
        /* the product is checked against the data actually present below, so bound it first */
        if (t->dims[d] && n > SIZE_MAX / 16 / (size_t)t->dims[d])
            return NB_ERR_CORRUPT;
        n *= (size_t)t->dims[d];
    }
    c->ndim = t->n_dims;
    c->n = n;
    c->is_int = type == NB__ONNX_INT32 || type == NB__ONNX_INT64;
    /* the typed field each data type uses (float16 and bfloat16 bits travel in int32_data) */
    size_t typed = type == NB__ONNX_FLOAT                                    ? t->n_float_data
                   : type == NB__ONNX_DOUBLE                                 ? t->n_double_data
                   : type == NB__ONNX_INT64                                  ? t->n_int64_data
                                                                             : t->n_int32_data;
    size_t others = t->n_float_data + t->n_double_data + t->n_int64_data + t->n_int32_data - typed;
    bool raw = t->has_raw_data && t->raw_data.len > 0;
    if (others || (raw && typed))
        return NB_ERR_CORRUPT;
    if (raw ? t->raw_data.len != n * es : typed != n)
        return NB_ERR_CORRUPT;
    c->v = malloc((n ? n : 1) * sizeof *c->v);
    if (!c->v)
        return NB_ERR_NOMEM;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        double v;
        if (raw) {
            v = raw_value(type, t->raw_data.data, i);
        } else if (type == NB__ONNX_FLOAT) {
            v = t->float_data[i];
        } else if (type == NB__ONNX_DOUBLE) {
            v = t->double_data[i];
        } else if (type == NB__ONNX_INT64) {
            v = (double)t->int64_data[i];
        } else if (type == NB__ONNX_INT32) {
            v = t->int32_data[i];
        } else { /* 16-bit floats: the low 16 bits of each int32 */
            if (t->int32_data[i] < 0 || t->int32_data[i] > 0xffff) {
                free(c->v);
                c->v = NULL;
                return NB_ERR_CORRUPT;
            }
            uint16_t h = (uint16_t)t->int32_data[i];
            v = type == NB__ONNX_FLOAT16 ? nb__f16_to_f32(h) : bf16(h);
        }
        ok = isfinite(v);
        c->v[i] = v;
    }
    if (!ok) {
        free(c->v);
        c->v = NULL;
        return NB_ERR_NONFINITE;
    }
    return NB_OK;
}

nb_status nb__onnx_fail(nb_onnx_error *err, const NbOnnx__NodeProto *node, size_t k, nb_status st,
                        const char *fmt, ...)
{
    if (!err)
        return st;
    memset(err, 0, sizeof *err);
    if (node) {
        if (node->name && node->name[0])
            snprintf(err->node, sizeof err->node, "%s", node->name);
        else
            snprintf(err->node, sizeof err->node, "#%zu", k);
        snprintf(err->op_type, sizeof err->op_type, "%s", node->op_type ? node->op_type : "");
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return st;
}
