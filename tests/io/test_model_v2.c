/* Model file format version 2: the sections after the parameters.  Every section round trips,
   version 1 stays what it was, every structural bound and every value check of a section has a
   crafted file, and the internal section API that checkpoints use works as documented. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io_common.h"
#include "core/le_codec.h"
#include "persist/model_sections.h"

/* io_small_net: 3 inputs, layers 5, 4, 2: 54 parameters. */
enum { BASE = 40 + 48 + 54 * 4 }; /* a v1 file without norm or classes, before its CRC */

static void fix_crc(uint8_t *b, size_t size)
{
    nb__le_put_u32(b + size - 4, (uint32_t)crc32(0L, b, (uInt)(size - 4)));
}

/* Loads, asserts the status and that the output is untouched on failure. */
static void expect(const uint8_t *b, size_t size, nb_status want, const char *what)
{
    nb_model m;
    memset(&m, 0xab, sizeof m);
    nb_model before = m;
    nb_status st = nb_model_load_mem(&m, b, size);
    cr_assert_eq(st, want, "%s: got %s, want %s", what, nb_status_str(st), nb_status_str(want));
    if (st == NB_OK)
        nb_model_free(&m);
    else
        cr_assert_eq(memcmp(&m, &before, sizeof m), 0, "%s: output touched", what);
}

/* A version-2 file: the small MSE network's v1 bytes (loss as given), then the section area
   `sec` (count and sections, as raw bytes), then a correct CRC.  *size set. */
static uint8_t *craft(nb_loss loss, const uint8_t *sec, size_t sec_len, size_t *size)
{
    nb_net *net = io_small_net(5);
    nb_model m = {.net = net, .loss = loss};
    void *v1;
    size_t v1_size;
    cr_assert_eq(nb_model_save_mem(&v1, &v1_size, &m), NB_OK);
    cr_assert_eq(v1_size, BASE + 4);
    uint8_t *b = malloc(BASE + sec_len + 4);
    memcpy(b, v1, BASE);
    nb__le_put_u32(b + 8, 2);
    memcpy(b + BASE, sec, sec_len);
    *size = BASE + sec_len + 4;
    fix_crc(b, *size);
    free(v1);
    nb_net_free(net);
    return b;
}

/* Appends a section header (and payload) to a byte buffer. */
static size_t put_section(uint8_t *p, uint32_t tag, uint32_t flags, uint64_t len,
                          const void *payload, size_t payload_len)
{
    nb__le_put_u32(p, tag);
    nb__le_put_u32(p + 4, flags);
    nb__le_put_u64(p + 8, len);
    if (payload_len)
        memcpy(p + 16, payload, payload_len);
    return 16 + payload_len;
}

/* One section in a file; expects status. */
static void one_section(nb_loss loss, uint32_t tag, uint32_t flags, const void *payload,
                        size_t len, nb_status want, const char *what)
{
    uint8_t sec[1024];
    nb__le_put_u32(sec, 1);
    size_t n = 4 + put_section(sec + 4, tag, flags, len, payload, len);
    size_t size;
    uint8_t *b = craft(loss, sec, n, &size);
    expect(b, size, want, what);
    free(b);
}

/* A model with every version-2 field, plus class names' counterpart tested separately. */
typedef struct full {
    nb_net *net;
    nb_norm *norm, *tnorm;
    nb_model m;
} full;

static char *feat[] = {"x0", "x one", "größe"}, *targ[] = {"y0", "y1"};

static full make_full(void)
{
    full f;
    f.net = io_small_net(2);
    float mean[3] = {1, 2, 3}, sd[3] = {0.5f, 1, 2}, tm[2] = {100, -3}, ts[2] = {20, 0.25f};
    cr_assert_eq(nb_norm_create(&f.norm, 3, mean, sd), NB_OK);
    cr_assert_eq(nb_norm_create(&f.tnorm, 2, tm, ts), NB_OK);
    f.m = (nb_model){.net = f.net, .loss = NB_LOSS_MSE, .norm = f.norm, .target_norm = f.tnorm,
                     .n_feature_names = 3, .feature_names = feat, .n_target_names = 2,
                     .target_names = targ};
    return f;
}

static void free_full(full *f)
{
    nb_net_free(f->net);
    nb_norm_free(f->norm);
    nb_norm_free(f->tnorm);
}

Test(model_v2, every_section_round_trips)
{
    full f = make_full();
    void *data;
    size_t size;
    cr_assert_eq(nb_model_save_mem(&data, &size, &f.m), NB_OK);
    const uint8_t *b = data;
    cr_assert_eq(nb__le_get_u32(b + 8), 2u);
    nb_model got;
    cr_assert_eq(nb_model_load_mem(&got, data, size), NB_OK);
    cr_assert_eq(got.version, 2u);
    cr_assert_eq(got.skipped_sections, 0);
    cr_assert_not_null(got.target_norm);
    cr_assert_eq(nb_norm_features(got.target_norm), 2);
    cr_assert_eq(memcmp(nb_norm_mean(got.target_norm), nb_norm_mean(f.tnorm), 8), 0);
    cr_assert_eq(memcmp(nb_norm_std(got.target_norm), nb_norm_std(f.tnorm), 8), 0);
    cr_assert_eq(got.n_feature_names, 3);
    for (size_t k = 0; k < 3; k++)
        cr_assert_str_eq(got.feature_names[k], feat[k]);
    cr_assert_eq(got.n_target_names, 2);
    cr_assert_str_eq(got.target_names[0], "y0");
    cr_assert_str_eq(got.target_names[1], "y1");
    cr_assert_eq(memcmp(nb_net_params(got.net), nb_net_params(f.net), 54 * sizeof(float)), 0);
    /* the documented layout: count 3, then tags 1 (required, 16 bytes), 2, 3 */
    size_t off = BASE + 24; /* after the input standardisation */
    cr_assert_eq(nb__le_get_u32(b + off), 3u);
    cr_assert_eq(nb__le_get_u32(b + off + 4), 1u);
    cr_assert_eq(nb__le_get_u32(b + off + 8), 1u);
    cr_assert_eq(nb__le_get_u64(b + off + 12), 16u);
    cr_assert_eq(nb__le_get_f32(b + off + 20), 100.0f);
    cr_assert_eq(nb__le_get_f32(b + off + 28), 20.0f);
    off += 4 + 16 + 16;
    cr_assert_eq(nb__le_get_u32(b + off), 2u);
    cr_assert_eq(nb__le_get_u32(b + off + 4), 0u);
    /* re-encoding gives the same bytes */
    void *again;
    size_t again_size;
    cr_assert_eq(nb_model_save_mem(&again, &again_size, &got), NB_OK);
    cr_assert_eq(again_size, size);
    cr_assert_eq(memcmp(again, data, size), 0);
    /* each field alone is a file of its own */
    nb_model one = {.net = f.net, .loss = NB_LOSS_MSE, .n_target_names = 2, .target_names = targ};
    void *d1;
    size_t s1;
    cr_assert_eq(nb_model_save_mem(&d1, &s1, &one), NB_OK);
    nb_model g1;
    cr_assert_eq(nb_model_load_mem(&g1, d1, s1), NB_OK);
    cr_assert(g1.target_norm == NULL && g1.n_feature_names == 0 && g1.n_target_names == 2);
    nb_model_free(&g1);
    free(d1);
    free(again);
    nb_model_free(&got);
    free(data);
    free_full(&f);
}

Test(model_v2, a_classifier_keeps_its_label_column_name)
{
    nb_net *net = io_small_net(3);
    char *classes[] = {"no", "yes"}, *label[] = {"answer"};
    nb_model m = {.net = net, .loss = NB_LOSS_SOFTMAX_CE, .n_classes = 2, .class_names = classes,
                  .n_target_names = 1, .target_names = label};
    void *data;
    size_t size;
    cr_assert_eq(nb_model_save_mem(&data, &size, &m), NB_OK);
    nb_model got;
    cr_assert_eq(nb_model_load_mem(&got, data, size), NB_OK);
    cr_assert_eq(got.n_target_names, 1);
    cr_assert_str_eq(got.target_names[0], "answer");
    cr_assert_eq(got.n_classes, 2);
    nb_model_free(&got);
    free(data);
    nb_net_free(net);
}

Test(model_v2, models_without_sections_stay_version_1)
{
    nb_net *net = io_small_net(4);
    nb_model m = {.net = net, .loss = NB_LOSS_MSE};
    void *data;
    size_t size;
    cr_assert_eq(nb_model_save_mem(&data, &size, &m), NB_OK);
    cr_assert_eq(size, BASE + 4);
    cr_assert_eq(nb__le_get_u32((uint8_t *)data + 8), 1u);
    nb_model got;
    cr_assert_eq(nb_model_load_mem(&got, data, size), NB_OK);
    cr_assert_eq(got.version, 1u);
    nb_model_free(&got);
    /* the same bytes labelled version 2 lack their section count */
    nb__le_put_u32((uint8_t *)data + 8, 2);
    fix_crc(data, size);
    nb_status st = nb_model_load_mem(&got, data, size); /* the CRC is read as a count */
    cr_assert(st == NB_ERR_CORRUPT || st == NB_ERR_TRUNCATED, "%s", nb_status_str(st));
    free(data);
    nb_net_free(net);
}

Test(model_v2, every_truncation_is_truncated_and_flips_are_caught)
{
    full f = make_full();
    void *data;
    size_t size;
    cr_assert_eq(nb_model_save_mem(&data, &size, &f.m), NB_OK);
    for (size_t n = 0; n < size; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, data, n);
        expect(copy, n, NB_ERR_TRUNCATED, "truncation");
        free(copy);
    }
    uint8_t *b = data;
    for (size_t at = 0; at < size; at++)
        for (int bit = 0; bit < 8; bit++) {
            b[at] ^= (uint8_t)(1u << bit);
            nb_model m;
            nb_status st = nb_model_load_mem(&m, b, size);
            cr_assert_neq(st, NB_OK, "flip at %zu bit %d", at, bit);
            b[at] ^= (uint8_t)(1u << bit);
        }
    free(data);
    free_full(&f);
}

Test(model_v2, structural_bounds)
{
    uint8_t sec[256];
    size_t n, size;
    uint8_t *b;
    /* count 0, count above the limit */
    nb__le_put_u32(sec, 0);
    b = craft(NB_LOSS_MSE, sec, 4, &size);
    expect(b, size, NB_ERR_CORRUPT, "count 0");
    free(b);
    nb__le_put_u32(sec, NB__MAX_SECTIONS + 1);
    b = craft(NB_LOSS_MSE, sec, 4, &size);
    expect(b, size, NB_ERR_CORRUPT, "count 65");
    free(b);
    /* a count that promises more sections than there are */
    nb__le_put_u32(sec, 2);
    n = 4 + put_section(sec + 4, 20, 0, 1, "z", 1);
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_TRUNCATED, "missing section");
    free(b);
    /* duplicate tags, decreasing tags, tag 0 */
    nb__le_put_u32(sec, 2);
    n = 4 + put_section(sec + 4, 20, 0, 1, "a", 1);
    n += put_section(sec + n, 20, 0, 1, "b", 1);
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_CORRUPT, "duplicate");
    free(b);
    n = 4 + put_section(sec + 4, 21, 0, 1, "a", 1);
    n += put_section(sec + n, 20, 0, 1, "b", 1);
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_CORRUPT, "decreasing");
    free(b);
    one_section(NB_LOSS_MSE, 0, 0, "a", 1, NB_ERR_CORRUPT, "tag 0");
    /* unknown flag bits; a known tag with the wrong flags */
    one_section(NB_LOSS_MSE, 20, 2, "a", 1, NB_ERR_CORRUPT, "flag bit 1");
    one_section(NB_LOSS_MSE, 20, 0x80000000u, "a", 1, NB_ERR_CORRUPT, "flag bit 31");
    const char names2[] = "\x02\0\0\0\x01\0\0\0a\x01\0\0\0b";
    one_section(NB_LOSS_MSE, 3, 0, names2, 14, NB_OK, "target names");
    one_section(NB_LOSS_MSE, 3, 1, names2, 14, NB_ERR_CORRUPT, "target names required");
    /* lengths: above the bound, past the end of the file, past the end by one */
    nb__le_put_u32(sec, 1);
    n = 4 + put_section(sec + 4, 20, 0, NB__MAX_SECTION_BYTES + 1, NULL, 0);
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_CORRUPT, "length above the bound");
    free(b);
    n = 4 + put_section(sec + 4, 20, 0, UINT64_MAX, NULL, 0);
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_CORRUPT, "length 2^64-1");
    free(b);
    n = 4 + put_section(sec + 4, 20, 0, NB__MAX_SECTION_BYTES, NULL, 0);
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_TRUNCATED, "length past the end");
    free(b);
    n = 4 + put_section(sec + 4, 20, 0, 6, "abcde", 5); /* 5 bytes + the CRC's 4: CRC missing */
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_TRUNCATED, "length one CRC short");
    free(b);
    /* trailing bytes after the sections */
    n = 4 + put_section(sec + 4, 20, 0, 1, "a", 1);
    sec[n++] = 0;
    b = craft(NB_LOSS_MSE, sec, n, &size);
    expect(b, size, NB_ERR_CORRUPT, "trailing");
    free(b);
    /* an empty payload is fine */
    one_section(NB_LOSS_MSE, 20, 0, NULL, 0, NB_OK, "empty optional");
}

Test(model_v2, unknown_sections)
{
    /* unknown optional: skipped and counted; unknown required: unsupported */
    uint8_t sec[64];
    nb__le_put_u32(sec, 2);
    size_t n = 4 + put_section(sec + 4, 40, 0, 3, "abc", 3);
    n += put_section(sec + n, 0xffffffffu, 0, 0, NULL, 0);
    size_t size;
    uint8_t *b = craft(NB_LOSS_MSE, sec, n, &size);
    nb_model m;
    cr_assert_eq(nb_model_load_mem(&m, b, size), NB_OK);
    cr_assert_eq(m.version, 2u);
    cr_assert_eq(m.skipped_sections, 2);
    nb_model_free(&m);
    free(b);
    one_section(NB_LOSS_MSE, 40, 1, "abc", 3, NB_ERR_UNSUPPORTED, "unknown required");
    /* the checkpoint tags 16..18 are known and optional: required is a forgery */
    one_section(NB_LOSS_MSE, 16, 1, "abc", 3, NB_ERR_CORRUPT, "optimizer state, required");
    one_section(NB_LOSS_MSE, 18, 1, "abc", 3, NB_ERR_CORRUPT, "note, required");
}

Test(model_v2, target_standardisation_values)
{
    uint8_t p[16];
    const float ok[4] = {1, 2, 3, 4};
    nb__le_put_f32s(p, ok, 4);
    one_section(NB_LOSS_MSE, 1, 1, p, 16, NB_OK, "target norm");
    one_section(NB_LOSS_MSE, 1, 0, p, 16, NB_ERR_CORRUPT, "target norm optional");
    one_section(NB_LOSS_BCE, 1, 1, p, 16, NB_ERR_CORRUPT, "target norm on BCE");
    one_section(NB_LOSS_MSE, 1, 1, p, 12, NB_ERR_CORRUPT, "target norm short");
    one_section(NB_LOSS_MSE, 1, 1, p, 8, NB_ERR_CORRUPT, "target norm of 1 output");
    const float bad[][4] = {{NAN, 2, 3, 4}, {1, INFINITY, 3, 4}, {1, 2, 0, 4}, {1, 2, 3, -1},
                            {1, 2, 3, INFINITY}, {1, 2, 3, NAN}};
    for (size_t i = 0; i < 6; i++) {
        nb__le_put_f32s(p, bad[i], 4);
        one_section(NB_LOSS_MSE, 1, 1, p, 16, NB_ERR_CORRUPT, "target norm value");
    }
}

Test(model_v2, column_name_values)
{
    /* feature names: the count must be the inputs (3) */
    const char f3[] = "\x03\0\0\0\x01\0\0\0a\x01\0\0\0b\x02\0\0\0cd";
    one_section(NB_LOSS_MSE, 2, 0, f3, 20, NB_OK, "3 names");
    one_section(NB_LOSS_MSE, 2, 0, f3, 21, NB_ERR_CORRUPT, "trailing byte in payload");
    one_section(NB_LOSS_MSE, 2, 0, f3, 19, NB_ERR_CORRUPT, "name past the payload");
    one_section(NB_LOSS_MSE, 2, 0, f3, 3, NB_ERR_CORRUPT, "no count");
    one_section(NB_LOSS_MSE, 2, 0, f3, 8, NB_ERR_CORRUPT, "length past the payload");
    const char f2[] = "\x02\0\0\0\x01\0\0\0a\x01\0\0\0b";
    one_section(NB_LOSS_MSE, 2, 0, f2, 14, NB_ERR_CORRUPT, "2 feature names for 3 inputs");
    const char f1[] = "\x01\0\0\0\x01\0\0\0a";
    one_section(NB_LOSS_MSE, 3, 0, f1, 9, NB_ERR_CORRUPT, "1 target name, 2 outputs, no classes");
    const char f0[] = "\0\0\0\0";
    one_section(NB_LOSS_MSE, 3, 0, f0, 4, NB_ERR_CORRUPT, "no names");
    char p[300];
    nb__le_put_u32((uint8_t *)p, 3);
    nb__le_put_u32((uint8_t *)p + 4, 0); /* an empty name */
    one_section(NB_LOSS_MSE, 2, 0, p, 8, NB_ERR_CORRUPT, "empty name");
    nb__le_put_u32((uint8_t *)p + 4, 256);
    memset(p + 8, 'a', 256);
    one_section(NB_LOSS_MSE, 2, 0, p, 264, NB_ERR_CORRUPT, "256-byte name");
    const char nul[] = "\x03\0\0\0\x01\0\0\0a\x01\0\0\0\0\x02\0\0\0cd";
    one_section(NB_LOSS_MSE, 2, 0, nul, 20, NB_ERR_CORRUPT, "NUL in a name");
}

Test(model_v2, saving_checks_the_new_fields)
{
    full f = make_full();
    void *d;
    size_t s;
    f.m.loss = NB_LOSS_BCE;
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_ARG); /* target norm needs MSE */
    f.m.loss = NB_LOSS_MSE;
    f.m.target_norm = f.norm; /* 3 columns for 2 outputs */
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_SHAPE);
    f.m.target_norm = f.tnorm;
    f.m.n_feature_names = 2;
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_SHAPE);
    f.m.n_feature_names = 3;
    f.m.n_target_names = 1; /* 1 name only with class names */
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_SHAPE);
    f.m.n_target_names = 2;
    char *empty[] = {"a", ""}, *null[] = {"a", NULL}, long_name[300];
    memset(long_name, 'x', 256);
    long_name[256] = '\0';
    char *too_long[] = {"a", long_name};
    f.m.target_names = empty;
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_ARG);
    f.m.target_names = too_long;
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_ARG);
    f.m.target_names = null;
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_NULL);
    f.m.target_names = NULL;
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_NULL);
    f.m.target_names = targ;
    f.m.feature_names = NULL;
    cr_assert_eq(nb_model_save_mem(&d, &s, &f.m), NB_ERR_NULL);
    free_full(&f);
}

/* Tags no loader knows (the framework as a later format feature would use it). */
enum { TAG_A = 40, TAG_B = 41 };

Test(model_v2, the_section_api_for_other_sections)
{
    full f = make_full();
    const uint8_t opt[5] = {1, 2, 3, 4, 5}, pos[3] = {9, 8, 7};
    /* given out of order: the saver sorts them among the model's own */
    nb__section extra[2] = {{TAG_B, 0, pos, 3},
                            {TAG_A, NB__SECTION_REQUIRED, opt, 5}};
    void *data;
    size_t size;
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, extra, 2), NB_OK);
    cr_assert_eq(extra[0].tag, TAG_B, "the caller's list is not reordered");
    /* a reader that does not know tag 40 refuses the file: it is required */
    expect(data, size, NB_ERR_UNSUPPORTED, "optimizer state unknown");
    nb__section want[2] = {{TAG_A, NB__SECTION_REQUIRED, NULL, 0},
                           {TAG_B, 0, NULL, 0}};
    nb_model m;
    cr_assert_eq(nb__model_load_mem_ext(&m, data, size, want, 2), NB_OK);
    cr_assert_eq(want[0].size, 5);
    cr_assert_eq(memcmp(want[0].data, opt, 5), 0);
    cr_assert(want[0].data > (const uint8_t *)data && want[0].data < (const uint8_t *)data + size);
    cr_assert_eq(want[1].size, 3);
    cr_assert_eq(memcmp(want[1].data, pos, 3), 0);
    cr_assert_eq(m.skipped_sections, 0);
    cr_assert_not_null(m.target_norm);
    nb_model_free(&m);
    /* asked with other flags than the file's: corrupt */
    want[1].flags = NB__SECTION_REQUIRED;
    cr_assert_eq(nb__model_load_mem_ext(&m, data, size, want, 2), NB_ERR_CORRUPT);
    free(data);
    /* a section that is absent comes back NULL; an optional unknown one is skipped */
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, extra, 1), NB_OK);
    want[0].data = opt;
    want[1].flags = 0;
    cr_assert_eq(nb__model_load_mem_ext(&m, data, size, want, 1), NB_OK);
    cr_assert_null(want[0].data);
    cr_assert_eq(m.skipped_sections, 1);
    nb_model_free(&m);
    cr_assert_eq(nb_model_load_mem(&m, data, size), NB_OK);
    nb_model_free(&m);
    free(data);
    /* a model without sections of its own, with one extra: version 2 */
    nb_model plain = {.net = f.net, .loss = NB_LOSS_MSE};
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &plain, extra, 1), NB_OK);
    cr_assert_eq(nb__le_get_u32((uint8_t *)data + 8), 2u);
    cr_assert_eq(size, BASE + 4 + 16 + 3 + 4);
    free(data);
    /* bad lists */
    nb__section dup[2] = {extra[0], extra[0]}, own[1] = {{NB__TAG_FEATURE_NAMES, 0, opt, 5}},
                zero[1] = {{0, 0, opt, 5}}, flags[1] = {{20, 2, opt, 5}},
                nodata[1] = {{20, 0, NULL, 5}};
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, dup, 2), NB_ERR_ARG);
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, own, 1), NB_ERR_ARG);
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, zero, 1), NB_ERR_ARG);
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, flags, 1), NB_ERR_ARG);
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, nodata, 1), NB_ERR_ARG);
    cr_assert_eq(nb__model_save_mem_ext(&data, &size, &f.m, NULL, 1), NB_ERR_NULL);
    cr_assert_eq(nb__model_load_mem_ext(&m, opt, 5, own, 1), NB_ERR_ARG);
    cr_assert_eq(nb__model_load_mem_ext(&m, opt, 5, NULL, 1), NB_ERR_NULL);
    free_full(&f);
}

Test(model_v2, files_written_by_the_version_1_library_still_load)
{
    /* tests/fuzz/corpus/model/{plain,norm_only,full}.nbm were written before version 2 */
    const char *names[] = {"plain.nbm", "norm_only.nbm", "full.nbm"};
    char dir[512];
    snprintf(dir, sizeof dir, "%s/corpus/model", NB_FUZZ_DIR);
    for (size_t i = 0; i < 3; i++) {
        size_t size;
        uint8_t *b = io_read(io_path(dir, names[i]), &size);
        cr_assert_not_null(b, "%s", names[i]);
        cr_assert_eq(nb__le_get_u32(b + 8), 1u);
        nb_model m;
        cr_assert_eq(nb_model_load_mem(&m, b, size), NB_OK, "%s", names[i]);
        cr_assert_eq(m.version, 1u);
        cr_assert(m.target_norm == NULL && m.n_feature_names == 0 && m.n_target_names == 0);
        void *again;
        size_t again_size; /* and are written again byte for byte as version 1 */
        cr_assert_eq(nb_model_save_mem(&again, &again_size, &m), NB_OK);
        cr_assert(again_size == size && memcmp(again, b, size) == 0, "%s", names[i]);
        free(again);
        nb_model_free(&m);
        free(b);
    }
}

/* The shorthand loader cannot hand back a target standardisation: it refuses such a model
   instead of giving a network whose outputs are silently in standardised units. */
Test(model_v2, net_load_refuses_target_standardisation)
{
    full f = make_full();
    void *data;
    size_t size;
    cr_assert_eq(nb_model_save_mem(&data, &size, &f.m), NB_OK);
    nb_net *net = (nb_net *)0x1;
    nb_loss loss = NB_LOSS_BCE;
    cr_assert_eq(nb_net_load_mem(&net, &loss, NULL, data, size), NB_ERR_UNSUPPORTED);
    cr_assert_eq(net, (nb_net *)0x1); /* untouched */
    cr_assert_eq(loss, NB_LOSS_BCE);
    f.m.target_norm = NULL; /* the same model without it loads */
    free(data);
    cr_assert_eq(nb_model_save_mem(&data, &size, &f.m), NB_OK);
    cr_assert_eq(nb_net_load_mem(&net, &loss, NULL, data, size), NB_OK);
    cr_assert_eq(loss, NB_LOSS_MSE);
    nb_net_free(net);
    free(data);
    free_full(&f);
}
