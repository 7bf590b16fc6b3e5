/* The model's own version-2 sections (tags 1..3): encoding, strict validation, building. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/le_codec.h"
#include "persist/model_meta.h"

uint32_t nb__meta_flags(uint32_t tag)
{
    /* Without its target standardisation a model would answer in the wrong units: required.
       Column names only help to check data: an older reader may ignore them. */
    return tag == NB__TAG_TARGET_NORM ? NB__SECTION_REQUIRED : 0u;
}

nb_status nb__names_check(const char *const *names, size_t n, uint64_t *bytes)
{
    uint64_t sum = 0;
    for (size_t k = 0; k < n; k++) {
        if (!names[k])
            return NB_ERR_NULL;
        size_t len = strlen(names[k]);
        if (len == 0 || len > NB_MODEL_MAX_NAME)
            return NB_ERR_ARG;
        sum += len;
    }
    if (bytes)
        *bytes = sum;
    return NB_OK;
}

static nb_status check_names(size_t n, char *const *names)
{
    return names ? nb__names_check((const char *const *)names, n, NULL) : NB_ERR_NULL;
}

nb_status nb__meta_check(const nb_model *m)
{
    size_t in = nb_net_inputs(m->net), out = nb_net_outputs(m->net);
    if (m->target_norm) {
        if (m->loss != NB_LOSS_MSE)
            return NB_ERR_ARG;
        if (nb_norm_features(m->target_norm) != out)
            return NB_ERR_SHAPE;
    }
    if (m->n_feature_names) {
        if (m->n_feature_names != in)
            return NB_ERR_SHAPE;
        NB_TRY(check_names(m->n_feature_names, m->feature_names));
    }
    if (m->n_target_names) {
        if (m->n_target_names != out && !(m->n_target_names == 1 && m->n_classes))
            return NB_ERR_SHAPE;
        NB_TRY(check_names(m->n_target_names, m->target_names));
    }
    return NB_OK;
}

static uint8_t *encode_names(size_t n, char *const *names, size_t *size)
{
    size_t bytes = 4;
    for (size_t k = 0; k < n; k++)
        bytes += 4 + strlen(names[k]);
    uint8_t *buf = malloc(bytes), *p = buf;
    if (!buf)
        return NULL;
    nb__le_put_u32(p, (uint32_t)n);
    p += 4;
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(names[k]);
        nb__le_put_u32(p, (uint32_t)len);
        memcpy(p + 4, names[k], len);
        p += 4 + len;
    }
    *size = bytes;
    return buf;
}

nb_status nb__meta_encode(const nb_model *m, nb__section *out, size_t *n)
{
    size_t k = 0;
    uint8_t *buf;
    if (m->target_norm) {
        size_t t = nb_norm_features(m->target_norm);
        if (!(buf = malloc(8 * t)))
            goto nomem;
        nb__le_put_f32s(buf, nb_norm_mean(m->target_norm), t);
        nb__le_put_f32s(buf + 4 * t, nb_norm_std(m->target_norm), t);
        out[k++] = (nb__section){NB__TAG_TARGET_NORM, nb__meta_flags(NB__TAG_TARGET_NORM), buf,
                                 8 * t};
    }
    if (m->n_feature_names) {
        out[k].tag = NB__TAG_FEATURE_NAMES;
        out[k].flags = nb__meta_flags(NB__TAG_FEATURE_NAMES);
        if (!(out[k].data = encode_names(m->n_feature_names, m->feature_names, &out[k].size)))
            goto nomem;
        k++;
    }
    if (m->n_target_names) {
        out[k].tag = NB__TAG_TARGET_NAMES;
        out[k].flags = nb__meta_flags(NB__TAG_TARGET_NAMES);
        if (!(out[k].data = encode_names(m->n_target_names, m->target_names, &out[k].size)))
            goto nomem;
        k++;
    }
    *n = k;
    return NB_OK;
nomem:
    nb__meta_release(out, k);
    return NB_ERR_NOMEM;
}

void nb__meta_release(nb__section *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free((void *)s[k].data);
}

/* A names payload: u32 count, then count times (u32 length 1..255, bytes without NUL), and
   nothing after. */
static nb_status validate_names(const nb__section *s, size_t want, size_t alt)
{
    if (s->size < 4)
        return NB_ERR_CORRUPT;
    uint32_t n = nb__le_get_u32(s->data);
    if (n == 0 || (n != want && n != alt))
        return NB_ERR_CORRUPT;
    size_t off = 4;
    for (uint32_t k = 0; k < n; k++) {
        if (s->size - off < 4)
            return NB_ERR_CORRUPT;
        uint32_t len = nb__le_get_u32(s->data + off);
        off += 4;
        if (len == 0 || len > NB_MODEL_MAX_NAME || s->size - off < len
            || memchr(s->data + off, '\0', len))
            return NB_ERR_CORRUPT;
        off += len;
    }
    return off == s->size ? NB_OK : NB_ERR_CORRUPT;
}

nb_status nb__meta_validate(const nb__section *s, size_t inputs, size_t outputs, nb_loss loss,
                            bool has_classes)
{
    if (s->flags != nb__meta_flags(s->tag))
        return NB_ERR_CORRUPT;
    switch (s->tag) {
    case NB__TAG_TARGET_NORM:
        if (loss != NB_LOSS_MSE || (uint64_t)s->size != 8 * (uint64_t)outputs)
            return NB_ERR_CORRUPT;
        for (size_t j = 0; j < outputs; j++) {
            float mean = nb__le_get_f32(s->data + 4 * j);
            float sd = nb__le_get_f32(s->data + 4 * (outputs + j));
            if (!isfinite(mean) || !isfinite(sd) || !(sd > 0.0f))
                return NB_ERR_CORRUPT;
        }
        return NB_OK;
    case NB__TAG_FEATURE_NAMES:
        return validate_names(s, inputs, inputs);
    case NB__TAG_TARGET_NAMES:
        return validate_names(s, outputs, has_classes ? 1 : outputs);
    default:
        return NB_ERR_CORRUPT;
    }
}

static nb_status build_names(const nb__section *s, size_t *n_out, char ***out)
{
    size_t n = nb__le_get_u32(s->data), off = 4;
    char **names = calloc(n, sizeof *names);
    if (!names)
        return NB_ERR_NOMEM;
    *out = names;
    *n_out = n;
    for (size_t k = 0; k < n; k++) {
        size_t len = nb__le_get_u32(s->data + off);
        if (!(names[k] = malloc(len + 1)))
            return NB_ERR_NOMEM;
        memcpy(names[k], s->data + off + 4, len);
        names[k][len] = '\0';
        off += 4 + len;
    }
    return NB_OK;
}

nb_status nb__meta_build(nb_model *m, const nb__section *s)
{
    if (s->tag == NB__TAG_FEATURE_NAMES)
        return build_names(s, &m->n_feature_names, &m->feature_names);
    if (s->tag == NB__TAG_TARGET_NAMES)
        return build_names(s, &m->n_target_names, &m->target_names);
    size_t t = s->size / 8;
    float *v = malloc(2 * t * sizeof(float));
    if (!v)
        return NB_ERR_NOMEM;
    nb__le_get_f32s(s->data, v, 2 * t);
    nb_status st = nb_norm_create(&m->target_norm, t, v, v + t);
    free(v);
    return st == NB_ERR_ARG ? NB_ERR_CORRUPT : st;
}
