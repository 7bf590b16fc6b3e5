/* Damaged model files: every truncation, single-bit flips, wrong versions, absurd sizes and
   bad values are each rejected with their status, and the output is never touched. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io_common.h"
#include "core/le_codec.h"

/* A valid file with every section: normalisation and class names. */
static uint8_t *valid_file(size_t *size)
{
    nb_net *net = io_small_net(4);
    float mean[3] = {1, 2, 3}, sd[3] = {0.5f, 1, 2};
    nb_norm *norm;
    cr_assert_eq(nb_norm_create(&norm, 3, mean, sd), NB_OK);
    char *names[] = {"no", "yes"};
    nb_model m = {.net = net, .loss = NB_LOSS_SOFTMAX_CE, .norm = norm, .n_classes = 2,
                  .class_names = names};
    void *data;
    cr_assert_eq(nb_model_save_mem(&data, size, &m), NB_OK);
    nb_norm_free(norm);
    nb_net_free(net);
    return data;
}

/* Offsets in valid_file (see docs/model-format.md): header 40, 3 layers of 16, norm 24,
   classes 4 + (4 + 2) + (4 + 3), params 54 * 4, crc 4. */
enum { OFF_LAYERS = 40, OFF_NORM = 88, OFF_CLASSES = 112, OFF_PARAMS = 129, FILE_SIZE = 349 };

static void fix_crc(uint8_t *b, size_t size)
{
    nb__le_put_u32(b + size - 4, (uint32_t)crc32(0L, b, (uInt)(size - 4)));
}

/* Loads through both entry points; asserts the status and that the outputs stay as set. */
static void expect(const uint8_t *b, size_t size, nb_status want, const char *what, size_t at)
{
    nb_model m;
    memset(&m, 0xab, sizeof m);
    nb_model before = m;
    nb_status st = nb_model_load_mem(&m, b, size);
    cr_assert_eq(st, want, "%s at %zu: got %s, want %s", what, at, nb_status_str(st),
                 nb_status_str(want));
    cr_assert_eq(memcmp(&m, &before, sizeof m), 0, "%s at %zu: output touched", what, at);
    nb_net *net = (nb_net *)&m;
    nb_loss loss = NB_LOSS_BCE;
    nb_norm *norm = (nb_norm *)&loss;
    cr_assert_eq(nb_net_load_mem(&net, &loss, &norm, b, size), want);
    cr_assert(net == (nb_net *)&m && loss == NB_LOSS_BCE && norm == (nb_norm *)&loss);
}

Test(model_corrupt, the_fixture_has_the_documented_layout)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    cr_assert_eq(size, FILE_SIZE);
    cr_assert_eq(nb__le_get_u32(b + 12), 3u); /* both flags */
    cr_assert_eq(nb__le_get_f32(b + OFF_NORM), 1.0f);
    cr_assert_eq(nb__le_get_f32(b + OFF_NORM + 12), 0.5f);
    cr_assert_eq(nb__le_get_u32(b + OFF_CLASSES), 2u);
    cr_assert_eq(memcmp(b + OFF_CLASSES + 8, "no", 2), 0);
    nb_model m;
    cr_assert_eq(nb_model_load_mem(&m, b, size), NB_OK);
    cr_assert_eq(nb__le_get_f32(b + OFF_PARAMS), nb_net_params(m.net)[0]);
    nb_model_free(&m);
    free(b);
}

Test(model_corrupt, every_truncation_is_truncated)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    for (size_t n = 0; n < size; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan catches any read past it */
        memcpy(copy, b, n);
        expect(copy, n, NB_ERR_TRUNCATED, "truncation", n);
        free(copy);
    }
    free(b);
}

Test(model_corrupt, single_bit_flips_are_caught)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    for (size_t at = 0; at < size; at++)
        for (int bit = 0; bit < 8; bit++) {
            b[at] ^= (uint8_t)(1u << bit);
            nb_model m;
            memset(&m, 0xab, sizeof m);
            nb_model before = m;
            nb_status st = nb_model_load_mem(&m, b, size);
            cr_assert_eq(memcmp(&m, &before, sizeof m), 0);
            if (at < 8)
                cr_assert_eq(st, NB_ERR_BAD_MAGIC, "flip at %zu", at);
            else if (at < 12)
                cr_assert_eq(st, NB_ERR_VERSION, "flip at %zu", at);
            else if (at >= OFF_PARAMS)
                cr_assert_eq(st, NB_ERR_CHECKSUM, "flip at %zu", at);
            else
                cr_assert(st == NB_ERR_CORRUPT || st == NB_ERR_TRUNCATED || st == NB_ERR_CHECKSUM,
                          "flip at %zu bit %d: %s", at, bit, nb_status_str(st));
            b[at] ^= (uint8_t)(1u << bit);
        }
    free(b);
}

Test(model_corrupt, wrong_versions)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    const uint32_t versions[] = {0, 3, 4, 0x100, 0xffffffffu};
    for (size_t i = 0; i < 5; i++) {
        nb__le_put_u32(b + 8, versions[i]);
        fix_crc(b, size);
        expect(b, size, NB_ERR_VERSION, "version", versions[i]);
    }
    free(b);
}

Test(model_corrupt, bad_magic)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    b[0] = 'X';
    expect(b, size, NB_ERR_BAD_MAGIC, "magic", 0);
    expect(b, 1, NB_ERR_BAD_MAGIC, "magic", 1);
    expect((const uint8_t *)"\x89PNG\r\n\x1a\n", 8, NB_ERR_BAD_MAGIC, "png", 0);
    free(b);
}

/* Sets a u32/u64 field, re-signs the file and expects the status. */
static void field32(size_t off, uint32_t v, nb_status want)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    nb__le_put_u32(b + off, v);
    fix_crc(b, size);
    expect(b, size, want, "u32 field", off);
    free(b);
}

static void field64(size_t off, uint64_t v, nb_status want)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    nb__le_put_u64(b + off, v);
    fix_crc(b, size);
    expect(b, size, want, "u64 field", off);
    free(b);
}

Test(model_corrupt, absurd_sizes)
{
    field32(20, 0, NB_ERR_CORRUPT);                       /* no layers */
    field32(20, 5000, NB_ERR_CORRUPT);                    /* too many layers */
    field32(20, 0xffffffffu, NB_ERR_CORRUPT);
    field32(20, 4, NB_ERR_CORRUPT);                       /* a 4th layer of 0 units (reads "no") */
    field64(24, 0, NB_ERR_CORRUPT);                       /* no inputs */
    field64(24, (uint64_t)1 << 40, NB_ERR_CORRUPT);       /* inputs beyond any BLAS */
    field64(24, UINT64_MAX, NB_ERR_CORRUPT);
    field64(24, 4, NB_ERR_CORRUPT);                       /* parameter count no longer fits */
    field64(32, 55, NB_ERR_CORRUPT);                      /* parameter count disagrees */
    field64(32, UINT64_MAX, NB_ERR_CORRUPT);
    field64(OFF_LAYERS, 0, NB_ERR_CORRUPT);               /* a layer of 0 units */
    field64(OFF_LAYERS, 0x80000000u, NB_ERR_CORRUPT);     /* wider than INT_MAX */
    field64(OFF_LAYERS, UINT64_MAX, NB_ERR_CORRUPT);
    field32(OFF_CLASSES, 3, NB_ERR_CORRUPT);              /* class count != outputs */
    field32(OFF_CLASSES + 4, 0, NB_ERR_CORRUPT);          /* empty name */
    field32(OFF_CLASSES + 4, 300, NB_ERR_CORRUPT);        /* name too long */
    field32(OFF_CLASSES + 4, 255, NB_ERR_TRUNCATED);      /* name runs past the end */
}

Test(model_corrupt, huge_but_consistent_sizes_are_truncated_not_allocated)
{
    /* One layer of 2^30 units on 3 inputs: 2^32 parameters, a 16 GiB claim in a 100-byte file. */
    uint8_t b[100] = "NABLASMD";
    nb__le_put_u32(b + 8, 1);
    nb__le_put_u32(b + 20, 1);
    nb__le_put_u64(b + 24, 3);
    nb__le_put_u64(b + 32, (uint64_t)4 << 30);
    nb__le_put_u64(b + 40, (uint64_t)1 << 30);
    expect(b, sizeof b, NB_ERR_TRUNCATED, "huge", 0);
    /* The same with a width product beyond the parameter bound. */
    nb__le_put_u64(b + 24, 0x7fffffff);
    nb__le_put_u64(b + 40, 0x7fffffff);
    expect(b, sizeof b, NB_ERR_CORRUPT, "huge", 1);
}

Test(model_corrupt, trailing_bytes_and_bad_values)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    uint8_t *longer = malloc(size + 1);
    memcpy(longer, b, size);
    longer[size] = 0;
    expect(longer, size + 1, NB_ERR_CORRUPT, "trailing", 0);
    fix_crc(longer, size + 1);
    expect(longer, size + 1, NB_ERR_CORRUPT, "trailing, re-signed", 0);
    free(longer);
    free(b);
    field32(12, 7, NB_ERR_CORRUPT);                        /* unknown flag */
    field32(16, NB_LOSS_COUNT, NB_ERR_CORRUPT);            /* unknown loss */
    field32(OFF_LAYERS + 8, NB_ACT_COUNT, NB_ERR_CORRUPT); /* unknown activation */
    field32(OFF_LAYERS + 12, 1, NB_ERR_CORRUPT);           /* reserved not zero */
    field32(OFF_LAYERS + 32 + 8, NB_ACT_RELU, NB_ERR_CORRUPT); /* softmax-ce on relu output */
    uint32_t nan_bits = 0x7fc00000u, zero = 0, neg = 0xbf800000u, inf = 0x7f800000u;
    field32(OFF_NORM, nan_bits, NB_ERR_CORRUPT);           /* mean NaN */
    field32(OFF_NORM + 12, zero, NB_ERR_CORRUPT);          /* std 0 */
    field32(OFF_NORM + 16, neg, NB_ERR_CORRUPT);           /* std -1 */
    field32(OFF_NORM + 20, inf, NB_ERR_CORRUPT);           /* std inf */
    size_t s2;
    b = valid_file(&s2);
    b[OFF_CLASSES + 8] = '\0';                             /* NUL inside a class name */
    fix_crc(b, s2);
    expect(b, s2, NB_ERR_CORRUPT, "nul in name", 0);
    free(b);
}

Test(model_corrupt, checksum_mismatch_and_random_garbage)
{
    size_t size;
    uint8_t *b = valid_file(&size);
    b[size - 1] ^= 0x80;
    expect(b, size, NB_ERR_CHECKSUM, "crc", 0);
    nb_rng r;
    nb_rng_seed(&r, 99);
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)nb_rng_below(&r, 400);
        uint8_t *g = malloc(n + 1);
        for (size_t k = 0; k < n; k++)
            g[k] = (uint8_t)nb_rng_next(&r);
        if (i % 2 && n >= 12) { /* a valid magic and version, random rest */
            memcpy(g, "NABLASMD\x01\0\0\0", 12);
        }
        nb_model m;
        cr_assert_neq(nb_model_load_mem(&m, g, n), NB_OK);
        free(g);
    }
    free(b);
}

Test(model_corrupt, width_and_inputs_beyond_the_limit_with_a_consistent_count)
{
    /* One layer of 2^31 units on 1 input with its true parameter count, 2 x 2^31: only the
       width limit (NB_MODEL_MAX_WIDTH) can call it corrupt; without it the count matches
       and the file reads as merely truncated. */
    uint8_t b[100] = "NABLASMD";
    nb__le_put_u32(b + 8, 1);
    nb__le_put_u32(b + 20, 1);
    nb__le_put_u64(b + 24, 1);
    nb__le_put_u64(b + 32, (uint64_t)2 << 31);
    nb__le_put_u64(b + 40, (uint64_t)1 << 31);
    expect(b, sizeof b, NB_ERR_CORRUPT, "width 2^31", 0);
    /* the same for the inputs: 2^31 inputs to one unit, (2^31 + 1) parameters */
    nb__le_put_u64(b + 24, (uint64_t)1 << 31);
    nb__le_put_u64(b + 32, ((uint64_t)1 << 31) + 1);
    nb__le_put_u64(b + 40, 1);
    expect(b, sizeof b, NB_ERR_CORRUPT, "inputs 2^31", 0);
    /* at the limit itself the count is consistent and the file is only truncated */
    nb__le_put_u64(b + 24, 0x7fffffff);
    nb__le_put_u64(b + 32, 0x80000000u);
    expect(b, sizeof b, NB_ERR_TRUNCATED, "inputs 2^31 - 1", 0);
}
