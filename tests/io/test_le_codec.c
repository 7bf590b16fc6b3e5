/* The encoding functions produce little-endian bytes whatever the host, and a saved model's
   header has exactly the bytes docs/model-format.md lists. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"
#include "core/le_codec.h"

Test(le_codec, integers_are_little_endian)
{
    uint8_t b[8];
    nb__le_put_u16(b, 0x0102);
    cr_assert(b[0] == 0x02 && b[1] == 0x01);
    nb__le_put_u32(b, 0x01020304u);
    const uint8_t e32[4] = {4, 3, 2, 1};
    cr_assert_arr_eq(b, e32, 4);
    nb__le_put_u64(b, 0x0102030405060708ull);
    const uint8_t e64[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    cr_assert_arr_eq(b, e64, 8);
    /* what a big-endian reader would see, decoded by these functions, is the same value */
    const uint8_t be_view[4] = {0x78, 0x56, 0x34, 0x12};
    cr_assert_eq(nb__le_get_u32(be_view), 0x12345678u);
    cr_assert_eq(nb__le_get_u64(e64), 0x0102030405060708ull);
    cr_assert_eq(nb__le_get_u16((const uint8_t[]){0xff, 0x7f}), 0x7fff);
}

Test(le_codec, floats_are_ieee754_little_endian)
{
    uint8_t b[8];
    nb__le_put_f32(b, 1.0f);
    cr_assert_arr_eq(b, ((uint8_t[]){0x00, 0x00, 0x80, 0x3f}), 4);
    nb__le_put_f32(b, -2.5f);
    cr_assert_arr_eq(b, ((uint8_t[]){0x00, 0x00, 0x20, 0xc0}), 4);
    nb__le_put_f64(b, 1.0);
    cr_assert_arr_eq(b, ((uint8_t[]){0, 0, 0, 0, 0, 0, 0xf0, 0x3f}), 8);
    cr_assert_eq(nb__le_get_f32((const uint8_t[]){0xdb, 0x0f, 0x49, 0x40}), 3.14159274f);
}

Test(le_codec, round_trips_preserve_every_bit)
{
    const float vals[] = {0.0f, -0.0f, 1e-45f, -3.4e38f, INFINITY, -INFINITY, NAN, 0.1f};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        uint8_t b[4];
        nb__le_put_f32(b, vals[i]);
        float back = nb__le_get_f32(b);
        cr_assert_eq(memcmp(&back, &vals[i], 4), 0, "value %zu", i);
    }
    uint8_t b[8];
    for (uint64_t v = 1; v; v <<= 1) {
        nb__le_put_u64(b, v);
        cr_assert_eq(nb__le_get_u64(b), v);
    }
}

Test(le_codec, saved_header_matches_the_documented_bytes)
{
    nb_net *net = io_small_net(1);
    nb_model m = {.net = net, .loss = NB_LOSS_MSE};
    void *data;
    size_t size;
    cr_assert_eq(nb_model_save_mem(&data, &size, &m), NB_OK);
    const uint8_t *b = data;
    cr_assert_arr_eq(b, "NABLASMD", 8);
    cr_assert_arr_eq(b + 8, ((uint8_t[]){1, 0, 0, 0}), 4);   /* version */
    cr_assert_arr_eq(b + 12, ((uint8_t[]){0, 0, 0, 0}), 4);  /* flags */
    cr_assert_arr_eq(b + 16, ((uint8_t[]){0, 0, 0, 0}), 4);  /* loss mse */
    cr_assert_arr_eq(b + 20, ((uint8_t[]){3, 0, 0, 0}), 4);  /* layers */
    cr_assert_arr_eq(b + 24, ((uint8_t[]){3, 0, 0, 0, 0, 0, 0, 0}), 8); /* inputs */
    size_t params = nb_net_num_params(net); /* 4*5 + 6*4 + 5*2 = 54 */
    cr_assert_eq(params, 54);
    cr_assert_arr_eq(b + 32, ((uint8_t[]){54, 0, 0, 0, 0, 0, 0, 0}), 8);
    cr_assert_arr_eq(b + 40, ((uint8_t[]){5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}), 16);
    cr_assert_eq(size, 40 + 3 * 16 + 4 * params + 4);
    /* the first parameter, decoded from its bytes by shifts, is the network's */
    uint32_t bits = (uint32_t)b[88] | (uint32_t)b[89] << 8 | (uint32_t)b[90] << 16 | (uint32_t)b[91] << 24;
    float w0;
    memcpy(&w0, &bits, 4);
    cr_assert_eq(memcmp(&w0, nb_net_params(net), 4), 0);
    free(data);
    nb_net_free(net);
}
