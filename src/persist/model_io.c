/* Model files: encoding, atomic saving and fully validated loading.  The byte layout is in
   docs/model-format.md; every multi-byte value goes through le_codec so the file is the same
   on every host. */
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <zlib.h>

#include "core/file_io.h"
#include "core/le_codec.h"
#include "persist/model_meta.h"
#include "persist/model_sections.h"
#include "net/network.h"

static const uint8_t MAGIC[8] = {'N', 'A', 'B', 'L', 'A', 'S', 'M', 'D'};

enum {
    HEADER_SIZE = 40,   /* magic .. n_params */
    LAYER_SIZE = 16,    /* u64 units, u32 activation, u32 reserved */
    FLAG_NORM = 1u,     /* per-feature mean and std follow the layer table */
    FLAG_CLASSES = 2u,  /* class names follow */
    FLAGS_KNOWN = FLAG_NORM | FLAG_CLASSES,
};
#define MAX_PARAMS ((uint64_t)1 << 40) /* bounds the sums below far from any overflow */
#define MAX_FILE (SIZE_MAX / 2)

static void free_names(size_t n, char **names)
{
    if (names)
        for (size_t k = 0; k < n; k++)
            free(names[k]);
    free(names);
}

void nb_model_free(nb_model *m)
{
    if (!m)
        return;
    nb_net_free(m->net);
    nb_norm_free(m->norm);
    nb_norm_free(m->target_norm);
    free_names(m->n_classes, m->class_names);
    free_names(m->n_feature_names, m->feature_names);
    free_names(m->n_target_names, m->target_names);
    memset(m, 0, sizeof *m);
}

/* ---- saving ---------------------------------------------------------------------------- */

/* A model with a NaN or an infinity in its parameters or standardisation is never written:
   it could only predict NaN (the loader refuses such a file as corrupt). */
static bool all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

static nb_status check_finite(const nb_model *m)
{
    const nb_net *net = m->net;
    if (!all_finite(net->params, net->n_params))
        return NB_ERR_NONFINITE;
    if (m->norm && (!all_finite(nb_norm_mean(m->norm), net->inputs)
                    || !all_finite(nb_norm_std(m->norm), net->inputs)))
        return NB_ERR_NONFINITE;
    return NB_OK;
}

static nb_status check_model(const nb_model *m, size_t *total)
{
    if (!m->net)
        return NB_ERR_NULL;
    const nb_net *net = m->net;
    if (!nb__loss_valid(m->loss))
        return NB_ERR_ARG;
    if (m->norm && nb_norm_features(m->norm) != net->inputs)
        return NB_ERR_SHAPE;
    if (net->n_layers > NB_MODEL_MAX_LAYERS || net->inputs > NB_MODEL_MAX_WIDTH)
        return NB_ERR_UNSUPPORTED;
    uint64_t bytes = HEADER_SIZE + (uint64_t)LAYER_SIZE * net->n_layers;
    for (size_t l = 0; l < net->n_layers; l++)
        if (net->layers[l].out > NB_MODEL_MAX_WIDTH)
            return NB_ERR_UNSUPPORTED;
    if (m->norm)
        bytes += 8 * (uint64_t)net->inputs;
    if (m->n_classes) {
        if (!m->class_names)
            return NB_ERR_NULL;
        if (m->n_classes != nb_net_outputs(net) || m->n_classes > NB_MODEL_MAX_CLASSES)
            return NB_ERR_ARG;
        uint64_t names;
        NB_TRY(nb__names_check((const char *const *)m->class_names, m->n_classes, &names));
        bytes += 4 + 4 * (uint64_t)m->n_classes + names;
    }
    NB_TRY(nb__meta_check(m));
    if (net->n_params > MAX_PARAMS)
        return NB_ERR_UNSUPPORTED;
    NB_TRY(check_finite(m));
    bytes += 4 * (uint64_t)net->n_params + 4;
    if (bytes > SIZE_MAX)
        return NB_ERR_OVERFLOW;
    *total = (size_t)bytes;
    return NB_OK;
}

/* The model's own sections (tags 1..3) and the caller's, checked and sorted by tag. */
static nb_status collect_sections(const nb_model *m, const nb__section *extra, size_t n_extra,
                                  nb__section **out, size_t *n)
{
    if (n_extra > NB__MAX_SECTIONS)
        return NB_ERR_ARG;
    for (size_t i = 0; i < n_extra; i++)
        if (extra[i].tag >= NB__TAG_TARGET_NORM && extra[i].tag <= NB__TAG_TARGET_NAMES)
            return NB_ERR_ARG;
    nb__section *s = malloc((NB__META_SECTIONS + n_extra + 1) * sizeof *s);
    if (!s)
        return NB_ERR_NOMEM;
    size_t own;
    nb_status st = nb__meta_encode(m, s, &own);
    if (st != NB_OK) {
        free(s);
        return st;
    }
    if (n_extra)
        memcpy(s + own, extra, n_extra * sizeof *s);
    st = nb__sections_prepare(s, own + n_extra);
    if (st != NB_OK) {
        for (size_t i = 0; i < own + n_extra; i++) /* free only the model's own payloads */
            if (s[i].tag >= NB__TAG_TARGET_NORM && s[i].tag <= NB__TAG_TARGET_NAMES)
                free((void *)s[i].data);
        free(s);
        return st;
    }
    *out = s;
    *n = own + n_extra;
    return NB_OK;
}

static void release_sections(nb__section *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].tag >= NB__TAG_TARGET_NORM && s[i].tag <= NB__TAG_TARGET_NAMES)
            free((void *)s[i].data);
    free(s);
}

nb_status nb_model_save_mem(void **data, size_t *size, const nb_model *m)
{
    return nb__model_save_mem_ext(data, size, m, NULL, 0);
}

nb_status nb__model_save_mem_ext(void **data, size_t *size, const nb_model *m,
                                 const nb__section *extra, size_t n_extra)
{
    if (!m || !data || !size || (n_extra && !extra))
        return NB_ERR_NULL;
    size_t base;
    NB_TRY(check_model(m, &base));
    nb__section *sec;
    size_t n_sec;
    NB_TRY(collect_sections(m, extra, n_extra, &sec, &n_sec));
    uint64_t sec_bytes = nb__sections_bytes(sec, n_sec);
    if (sec_bytes > SIZE_MAX - base) {
        release_sections(sec, n_sec);
        return NB_ERR_OVERFLOW;
    }
    size_t total = base + (size_t)sec_bytes;
    const nb_net *net = m->net;
    uint8_t *buf = malloc(total), *p = buf;
    if (!buf) {
        release_sections(sec, n_sec);
        return NB_ERR_NOMEM;
    }
    memcpy(p, MAGIC, 8);
    nb__le_put_u32(p + 8, n_sec ? 2u : 1u); /* without sections, readable by version-1 readers */
    nb__le_put_u32(p + 12, (m->norm ? FLAG_NORM : 0u) | (m->n_classes ? FLAG_CLASSES : 0u));
    nb__le_put_u32(p + 16, (uint32_t)m->loss);
    nb__le_put_u32(p + 20, (uint32_t)net->n_layers);
    nb__le_put_u64(p + 24, net->inputs);
    nb__le_put_u64(p + 32, net->n_params);
    p += HEADER_SIZE;
    for (size_t l = 0; l < net->n_layers; l++, p += LAYER_SIZE) {
        nb__le_put_u64(p, net->layers[l].out);
        nb__le_put_u32(p + 8, (uint32_t)net->layers[l].act);
        nb__le_put_u32(p + 12, 0);
    }
    if (m->norm) {
        nb__le_put_f32s(p, nb_norm_mean(m->norm), net->inputs);
        p += 4 * net->inputs;
        nb__le_put_f32s(p, nb_norm_std(m->norm), net->inputs);
        p += 4 * net->inputs;
    }
    if (m->n_classes) {
        nb__le_put_u32(p, (uint32_t)m->n_classes);
        p += 4;
        for (size_t k = 0; k < m->n_classes; k++) {
            size_t len = strlen(m->class_names[k]);
            nb__le_put_u32(p, (uint32_t)len);
            memcpy(p + 4, m->class_names[k], len);
            p += 4 + len;
        }
    }
    nb__le_put_f32s(p, net->params, net->n_params);
    p += 4 * net->n_params;
    if (n_sec)
        p += nb__sections_put(p, sec, n_sec);
    release_sections(sec, n_sec);
    nb__le_put_u32(p, (uint32_t)crc32_z(0L, buf, (z_size_t)(p - buf)));
    *data = buf;
    *size = total;
    return NB_OK;
}

static nb_status encode_model(const void *m, void **data, size_t *size)
{
    return nb_model_save_mem(data, size, m);
}

nb_status nb_model_save(const nb_model *m, const char *path)
{
    return nb__save_encoded(path, encode_model, m);
}

/* ---- loading --------------------------------------------------------------------------- */

/* Where the sections of a file are, found by a bounds-checked walk over its sizes. */
typedef struct layout {
    uint32_t version, flags, loss, n_layers;
    uint64_t inputs, outputs, n_params;
    size_t norm_off, classes_off, params_off;
    size_t sections_off; /* where the section count is (version 2), else 0 */
} layout;

/* Checks everything that decides sizes and offsets, in the order the file is read, so that a
   proper prefix of a valid file is always NB_ERR_TRUNCATED.  Reads only inside [0, size). */
static nb_status parse_layout(const uint8_t *b, size_t size, layout *lo)
{
    if (memcmp(b, MAGIC, size < 8 ? size : 8) != 0)
        return NB_ERR_BAD_MAGIC;
    if (size < 12)
        return NB_ERR_TRUNCATED;
    lo->version = nb__le_get_u32(b + 8);
    if (lo->version != 1 && lo->version != 2)
        return NB_ERR_VERSION;
    if (size < HEADER_SIZE)
        return NB_ERR_TRUNCATED;
    lo->flags = nb__le_get_u32(b + 12);
    lo->loss = nb__le_get_u32(b + 16);
    lo->n_layers = nb__le_get_u32(b + 20);
    lo->inputs = nb__le_get_u64(b + 24);
    lo->n_params = nb__le_get_u64(b + 32);
    if ((lo->flags & ~(uint32_t)FLAGS_KNOWN) || lo->n_layers == 0
        || lo->n_layers > NB_MODEL_MAX_LAYERS || lo->inputs == 0
        || lo->inputs > NB_MODEL_MAX_WIDTH)
        return NB_ERR_CORRUPT;
    uint64_t off = HEADER_SIZE + (uint64_t)LAYER_SIZE * lo->n_layers; /* <= 65576 */
    if (size < off)
        return NB_ERR_TRUNCATED;
    uint64_t params = 0, in = lo->inputs, out = 0;
    for (uint32_t l = 0; l < lo->n_layers; l++) {
        out = nb__le_get_u64(b + HEADER_SIZE + (size_t)LAYER_SIZE * l);
        if (out == 0 || out > NB_MODEL_MAX_WIDTH)
            return NB_ERR_CORRUPT;
        params += (in + 1) * out; /* < 2^62, and params stays below 2^40 + 2^62 */
        if (params > MAX_PARAMS)
            return NB_ERR_CORRUPT;
        in = out;
    }
    if (params != lo->n_params)
        return NB_ERR_CORRUPT;
    lo->outputs = out;
    lo->norm_off = (size_t)off;
    if (lo->flags & FLAG_NORM) {
        off += 8 * lo->inputs;
        if (size < off)
            return NB_ERR_TRUNCATED;
    }
    lo->classes_off = (size_t)off;
    if (lo->flags & FLAG_CLASSES) {
        if (size - off < 4)
            return NB_ERR_TRUNCATED;
        uint32_t n = nb__le_get_u32(b + off);
        if (n != out || n > NB_MODEL_MAX_CLASSES)
            return NB_ERR_CORRUPT;
        off += 4;
        for (uint32_t k = 0; k < n; k++) {
            if (size - off < 4)
                return NB_ERR_TRUNCATED;
            uint32_t len = nb__le_get_u32(b + off);
            if (len == 0 || len > NB_MODEL_MAX_NAME)
                return NB_ERR_CORRUPT;
            off += 4 + (uint64_t)len;
            if (size < off)
                return NB_ERR_TRUNCATED;
        }
    }
    lo->params_off = (size_t)off;
    if (size - off < 4 * params)
        return NB_ERR_TRUNCATED;
    off += 4 * params;
    lo->sections_off = 0;
    if (lo->version == 2) {
        lo->sections_off = (size_t)off;
        size_t end;
        NB_TRY(nb__sections_walk(b, size, (size_t)off, &end));
        off = end;
    }
    if (size - off < 4) /* the checksum */
        return NB_ERR_TRUNCATED;
    if (size - off > 4)
        return NB_ERR_CORRUPT; /* trailing bytes */
    if (nb__le_get_u32(b + size - 4) != (uint32_t)crc32_z(0L, b, (z_size_t)(size - 4)))
        return NB_ERR_CHECKSUM;
    return NB_OK;
}

/* Sorts the sections of a version-2 file: the model's own (validated), the caller's (found
   in want), unknown optional ones (counted), unknown required ones (refused). */
static nb_status check_sections(const uint8_t *b, const layout *lo, nb__section *want,
                                size_t n_want, size_t *skipped)
{
    *skipped = 0;
    if (!lo->sections_off)
        return NB_OK;
    uint32_t n = nb__le_get_u32(b + lo->sections_off);
    for (uint32_t i = 0; i < n; i++) {
        nb__section s = nb__sections_get(b, lo->sections_off, i);
        if (s.tag >= NB__TAG_TARGET_NORM && s.tag <= NB__TAG_TARGET_NAMES) {
            NB_TRY(nb__meta_validate(&s, (size_t)lo->inputs, (size_t)lo->outputs,
                                     (nb_loss)lo->loss, lo->flags & FLAG_CLASSES));
            continue;
        }
        size_t k = 0;
        while (k < n_want && want[k].tag != s.tag)
            k++;
        if (k < n_want) {
            if (s.flags != want[k].flags)
                return NB_ERR_CORRUPT;
        } else if (s.tag >= NB__TAG_CKPT_FIRST && s.tag <= NB__TAG_CKPT_LAST) {
            if (s.flags != 0) /* known, optional: a checkpoint also loads as a plain model */
                return NB_ERR_CORRUPT;
        } else if (s.flags & NB__SECTION_REQUIRED) {
            return NB_ERR_UNSUPPORTED;
        } else {
            ++*skipped;
        }
    }
    return NB_OK;
}

/* The values that do not decide sizes, checked once the checksum says the bytes are as
   written (so a bad value here is a writer's bug or a forgery, not transport damage). */
static nb_status check_values(const uint8_t *b, const layout *lo)
{
    if (lo->loss >= (uint32_t)NB_LOSS_COUNT)
        return NB_ERR_CORRUPT;
    uint32_t last_act = 0;
    for (uint32_t l = 0; l < lo->n_layers; l++) {
        const uint8_t *p = b + HEADER_SIZE + (size_t)LAYER_SIZE * l;
        last_act = nb__le_get_u32(p + 8);
        if (last_act >= (uint32_t)NB_ACT_COUNT || nb__le_get_u32(p + 12) != 0)
            return NB_ERR_CORRUPT;
    }
    if (lo->loss == NB_LOSS_SOFTMAX_CE && last_act != NB_ACT_IDENTITY)
        return NB_ERR_CORRUPT;
    if (lo->flags & FLAG_NORM)
        for (uint64_t j = 0; j < lo->inputs; j++) {
            float mean = nb__le_get_f32(b + lo->norm_off + 4 * j);
            float sd = nb__le_get_f32(b + lo->norm_off + 4 * (lo->inputs + j));
            if (!isfinite(mean) || !isfinite(sd) || !(sd > 0.0f))
                return NB_ERR_CORRUPT;
        }
    for (uint64_t i = 0; i < lo->n_params; i++)
        if (!isfinite(nb__le_get_f32(b + lo->params_off + 4 * i)))
            return NB_ERR_CORRUPT; /* never written by nb_model_save */
    if (lo->flags & FLAG_CLASSES) {
        size_t off = lo->classes_off + 4;
        while (off < lo->params_off) {
            uint32_t len = nb__le_get_u32(b + off);
            if (memchr(b + off + 4, '\0', len))
                return NB_ERR_CORRUPT;
            off += 4 + len;
        }
    }
    return NB_OK;
}

static nb_status build_norm(const uint8_t *b, const layout *lo, nb_norm **out)
{
    size_t n = (size_t)lo->inputs;
    float *v = malloc(2 * n * sizeof(float));
    if (!v)
        return NB_ERR_NOMEM;
    nb__le_get_f32s(b + lo->norm_off, v, 2 * n);
    nb_status st = nb_norm_create(out, n, v, v + n);
    free(v);
    return st == NB_ERR_ARG ? NB_ERR_CORRUPT : st;
}

static nb_status build_classes(const uint8_t *b, const layout *lo, nb_model *m)
{
    size_t n = nb__le_get_u32(b + lo->classes_off), off = lo->classes_off + 4;
    m->class_names = calloc(n, sizeof *m->class_names);
    if (!m->class_names)
        return NB_ERR_NOMEM;
    m->n_classes = n;
    for (size_t k = 0; k < n; k++) {
        size_t len = nb__le_get_u32(b + off);
        char *s = malloc(len + 1);
        if (!s)
            return NB_ERR_NOMEM;
        memcpy(s, b + off + 4, len);
        s[len] = '\0';
        m->class_names[k] = s;
        off += 4 + len;
    }
    return NB_OK;
}

static nb_status build_model(const uint8_t *b, size_t size, const layout *lo, nb_model *m)
{
    nb_layer_spec *specs = malloc(lo->n_layers * sizeof *specs);
    if (!specs)
        return NB_ERR_NOMEM;
    for (uint32_t l = 0; l < lo->n_layers; l++) {
        const uint8_t *p = b + HEADER_SIZE + (size_t)LAYER_SIZE * l;
        specs[l].units = (size_t)nb__le_get_u64(p);
        specs[l].act = (nb_act)nb__le_get_u32(p + 8);
        specs[l].dropout = 0.0f; /* not kept in model files (training-only) */
    }
    nb_status st = nb_net_create(&m->net, (size_t)lo->inputs, specs, lo->n_layers, 0);
    free(specs);
    if (st != NB_OK)
        return st == NB_ERR_NOMEM ? st : NB_ERR_CORRUPT;
    nb__le_get_f32s(b + lo->params_off, m->net->params, m->net->n_params);
    m->loss = (nb_loss)lo->loss;
    m->version = lo->version;
    m->crc32 = nb__le_get_u32(b + size - 4);
    if (lo->flags & FLAG_NORM)
        NB_TRY(build_norm(b, lo, &m->norm));
    if (lo->flags & FLAG_CLASSES)
        NB_TRY(build_classes(b, lo, m));
    if (lo->sections_off) {
        uint32_t n = nb__le_get_u32(b + lo->sections_off);
        for (uint32_t i = 0; i < n; i++) {
            nb__section s = nb__sections_get(b, lo->sections_off, i);
            if (s.tag >= NB__TAG_TARGET_NORM && s.tag <= NB__TAG_TARGET_NAMES)
                NB_TRY(nb__meta_build(m, &s));
        }
    }
    return NB_OK;
}

nb_status nb_model_load_mem(nb_model *out, const void *data, size_t size)
{
    return nb__model_load_mem_ext(out, data, size, NULL, 0);
}

nb_status nb__model_load_mem_ext(nb_model *out, const void *data, size_t size, nb__section *want,
                                 size_t n_want)
{
    if (!out || (!data && size) || (n_want && !want))
        return NB_ERR_NULL;
    for (size_t k = 0; k < n_want; k++)
        if (want[k].tag == 0 || (want[k].tag >= NB__TAG_TARGET_NORM
                                 && want[k].tag <= NB__TAG_TARGET_NAMES))
            return NB_ERR_ARG;
    const uint8_t *b = size ? data : MAGIC; /* an empty buffer is a prefix of a valid file */
    layout lo;
    NB_TRY(parse_layout(b, size, &lo));
    NB_TRY(check_values(b, &lo));
    size_t skipped;
    NB_TRY(check_sections(b, &lo, want, n_want, &skipped));
    nb_model m;
    memset(&m, 0, sizeof m);
    nb_status st = build_model(b, size, &lo, &m);
    if (st != NB_OK) {
        nb_model_free(&m);
        return st;
    }
    m.skipped_sections = skipped;
    for (size_t k = 0; k < n_want; k++) {
        want[k].data = NULL;
        want[k].size = 0;
        if (lo.sections_off) {
            uint32_t n = nb__le_get_u32(b + lo.sections_off);
            for (uint32_t i = 0; i < n; i++) {
                nb__section s = nb__sections_get(b, lo.sections_off, i);
                if (s.tag == want[k].tag)
                    want[k] = s;
            }
        }
    }
    *out = m;
    return NB_OK;
}

/* The bounded reader's question (file_io.h): is this prefix a whole file, part of one, or
   wrong?  A complete layout before the end of the input means more bytes follow: read on, and
   parse_layout calls them trailing garbage. */
static nb_status model_prefix(const unsigned char *b, size_t n, bool eof, void *ctx)
{
    (void)ctx;
    layout lo;
    nb_status st = parse_layout(n ? b : MAGIC, n, &lo);
    return st == NB_OK && !eof ? NB_ERR_TRUNCATED : st;
}

nb_status nb__model_read(const char *path, unsigned char **data, size_t *size)
{
    return nb__read_checked(path, MAX_FILE, model_prefix, NULL, data, size);
}

nb_status nb_model_load(nb_model *out, const char *path)
{
    if (!out || !path)
        return NB_ERR_NULL;
    unsigned char *data;
    size_t size;
    NB_TRY(nb__model_read(path, &data, &size));
    nb_status st = nb_model_load_mem(out, data, size);
    free(data);
    return st == NB_ERR_OVERFLOW ? NB_ERR_CORRUPT : st;
}

/* ---- shorthands ------------------------------------------------------------------------ */

nb_status nb_net_save(const nb_net *net, nb_loss loss, const nb_norm *norm, const char *path)
{
    if (!net)
        return NB_ERR_NULL;
    nb_model m;
    memset(&m, 0, sizeof m);
    m.net = (nb_net *)net;     /* only read */
    m.loss = loss;
    m.norm = (nb_norm *)norm;  /* only read */
    return nb_model_save(&m, path);
}

static nb_status split_model(nb_model *m, nb_net **net, nb_loss *loss, nb_norm **norm)
{
    if (m->target_norm) { /* its outputs are in standardised units: only nb_model says so */
        nb_model_free(m);
        return NB_ERR_UNSUPPORTED;
    }
    *net = m->net;
    m->net = NULL;
    if (loss)
        *loss = m->loss;
    if (norm) {
        *norm = m->norm;
        m->norm = NULL;
    }
    nb_model_free(m);
    return NB_OK;
}

nb_status nb_net_load_mem(nb_net **net, nb_loss *loss, nb_norm **norm, const void *data,
                          size_t size)
{
    if (!net)
        return NB_ERR_NULL;
    nb_model m;
    NB_TRY(nb_model_load_mem(&m, data, size));
    return split_model(&m, net, loss, norm);
}

nb_status nb_net_load(nb_net **net, nb_loss *loss, nb_norm **norm, const char *path)
{
    if (!net)
        return NB_ERR_NULL;
    nb_model m;
    NB_TRY(nb_model_load(&m, path));
    return split_model(&m, net, loss, norm);
}
