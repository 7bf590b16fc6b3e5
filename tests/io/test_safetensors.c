/* safetensors: round trips (bit-identical parameters, PyTorch's layout and indices, the folded
   standardisation), and a crafted file for every bound of the parser and of the mapping onto a
   network.  The PyTorch side is in tests/interop. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"
#include "core/le_codec.h"
#include "persist/st_format.h"

/* u64 header length (hlen, or strlen(json) when hlen is UINT64_MAX), json, then data. */
static unsigned char *st_bytes(const char *json, uint64_t hlen, const void *data, size_t dlen,
                               size_t *size)
{
    size_t jl = strlen(json);
    unsigned char *b = malloc(8 + jl + dlen + 1);
    nb__le_put_u64(b, hlen == UINT64_MAX ? jl : hlen);
    memcpy(b + 8, json, jl);
    if (dlen && data)
        memcpy(b + 8 + jl, data, dlen);
    else if (dlen)
        memset(b + 8 + jl, 0, dlen);
    *size = 8 + jl + dlen;
    return b;
}

static const nb_layer_spec ONE[] = {{0, NB_ACT_IDENTITY, 0}};
static const nb_layer_spec TWO[] = {{0, NB_ACT_RELU, 0}, {0, NB_ACT_IDENTITY, 0}};

/* Imports json + data (dlen bytes of a counting pattern of floats unless data is given) with
   n_layers layers and expects `want`; on failure the output must be untouched. */
static void expect_load(const char *json, const void *data, size_t dlen, size_t n_layers,
                        nb_status want)
{
    float pattern[64];
    for (int i = 0; i < 64; i++)
        pattern[i] = 0.25f * (float)(i + 1);
    unsigned char raw[256];
    if (!data) {
        cr_assert_leq(dlen, sizeof raw);
        nb__le_put_f32s(raw, pattern, 64); /* finite under every float dtype's reading */
        data = raw;
    }
    size_t size;
    unsigned char *b = st_bytes(json, UINT64_MAX, data, dlen, &size);
    nb_net *sentinel = (nb_net *)b, *net = sentinel;
    nb_status st = nb_safetensors_load_mem(&net, b, size, n_layers == 1 ? ONE : TWO, n_layers);
    cr_assert_eq(st, want, "%s: got %s, want %s", json, nb_status_str(st), nb_status_str(want));
    if (st == NB_OK)
        nb_net_free(net);
    else
        cr_assert_eq(net, sentinel, "output touched on failure");
    free(b);
}

#define T1(dt, shape, b, e) "{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"
/* A valid one-layer file: 2 x 3 weight, 2 biases, 32 bytes of data. */
#define W23 "\"0.weight\":" T1("F32", "[2,3]", 0, 24)
#define B2 "\"0.bias\":" T1("F32", "[2]", 24, 32)
#define VALID "{" W23 "," B2 "}"

/* ---- round trips ------------------------------------------------------------------------- */

static void assert_same_params(nb_net *a, nb_net *b)
{
    cr_assert_eq(nb_net_inputs(a), nb_net_inputs(b));
    cr_assert_eq(nb_net_num_layers(a), nb_net_num_layers(b));
    cr_assert_eq(nb_net_num_params(a), nb_net_num_params(b));
    cr_assert(memcmp(nb_net_params(a), nb_net_params(b), nb_net_num_params(a) * sizeof(float)) == 0);
    for (size_t l = 0; l < nb_net_num_layers(a); l++) {
        nb_layer_spec x, y;
        nb_net_layer(a, l, &x);
        nb_net_layer(b, l, &y);
        cr_assert(x.units == y.units && x.act == y.act);
    }
}

Test(safetensors, round_trip_is_bit_identical)
{
    nb_net *net = io_small_net(5);
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, NULL, NULL), NB_OK);
    nb_layer_spec spec[3] = {{5, NB_ACT_RELU, 0}, {4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *back;
    cr_assert_eq(nb_safetensors_load_mem(&back, data, size, spec, 3), NB_OK);
    assert_same_params(net, back);
    /* units 0: as the file says */
    nb_net *back0;
    nb_layer_spec spec0[3] = {{0, NB_ACT_RELU, 0}, {0, NB_ACT_TANH, 0}, {0, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_safetensors_load_mem(&back0, data, size, spec0, 3), NB_OK);
    assert_same_params(net, back0);
    nb_net_free(back0);
    nb_net_free(back);
    nb_net_free(net);
    free(data);
}

Test(safetensors, activations_from_the_metadata_nablas_writes)
{
    nb_net *net = io_small_net(5); /* 3-5:relu-4:tanh-2:identity */
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, NULL, NULL), NB_OK);
    nb_net *back;
    cr_assert_eq(nb_safetensors_load_mem(&back, data, size, NULL, 0), NB_OK);
    assert_same_params(net, back); /* units and activations as saved */
    nb_net_free(back);
    nb_net_free(net);
    free(data);
}

/* Files with no or odd "nablas.activations": the caller must say, or the file is corrupt. */
Test(safetensors, activations_metadata_errors)
{
    static const struct {
        const char *json;
        nb_status want;
    } cases[] = {
        {VALID, NB_ERR_ARG},                                                    /* no metadata */
        {"{\"__metadata__\":{\"format\":\"pt\"}," W23 "," B2 "}", NB_ERR_ARG},    /* not ours */
        {"{\"__metadata__\":{\"nablas.activations\":\"\"}," W23 "," B2 "}", NB_ERR_ARG},
        {"{\"__metadata__\":{\"nablas.activations\":\"identity\"}," W23 "," B2 "}", NB_OK},
        {"{\"__metadata__\":{\"nablas.activations\":\"tanh\"}," W23 "," B2 "}", NB_OK},
        {"{\"__metadata__\":{\"nablas.activations\":\"swish\"}," W23 "," B2 "}", NB_ERR_CORRUPT},
        {"{\"__metadata__\":{\"nablas.activations\":\"relu,\"}," W23 "," B2 "}", NB_ERR_CORRUPT},
        {"{\"__metadata__\":{\"nablas.activations\":\"relu,identity\"}," W23 "," B2 "}",
         NB_ERR_SHAPE}, /* two layers named, one in the file */
        {"{\"__metadata__\":{\"nablas.activations\":\"re\\u0000lu\"}," W23 "," B2 "}",
         NB_ERR_CORRUPT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t size;
        unsigned char *b = st_bytes(cases[i].json, UINT64_MAX, NULL, 32, &size);
        nb_net *sentinel = (nb_net *)b, *net = sentinel;
        nb_status st = nb_safetensors_load_mem(&net, b, size, NULL, 0);
        cr_assert_eq(st, cases[i].want, "%s: got %s", cases[i].json, nb_status_str(st));
        if (st == NB_OK) {
            nb_layer_spec s;
            nb_net_layer(net, 0, &s);
            cr_assert_eq(s.units, 2);
            cr_assert_eq(s.act, strstr(cases[i].json, "tanh") ? NB_ACT_TANH : NB_ACT_IDENTITY);
            nb_net_free(net);
        } else {
            cr_assert_eq(net, sentinel, "output touched on failure");
        }
        free(b);
    }
}

Test(safetensors, pytorch_names_layout_and_indices)
{
    nb_net *net = io_small_net(6); /* 3-5:relu-4:tanh-2:identity */
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, NULL, NULL), NB_OK);
    const unsigned char *b = data;
    uint64_t hlen = nb__le_get_u64(b);
    cr_assert_eq(hlen % 8, 0, "header padded to 8 bytes");
    cr_assert_eq(size, 8 + hlen + 4 * nb_net_num_params(net));
    char *json = calloc(1, hlen + 1);
    memcpy(json, b + 8, hlen);
    /* an activation module after relu and tanh: indices 0, 2, 4 */
    cr_assert(strstr(json, "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[5,3],\"data_offsets\":[0,60]}"), "%s", json);
    cr_assert(strstr(json, "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[60,80]}"), "%s", json);
    cr_assert(strstr(json, "\"2.weight\":{\"dtype\":\"F32\",\"shape\":[4,5]"), "%s", json);
    cr_assert(strstr(json, "\"4.weight\":{\"dtype\":\"F32\",\"shape\":[2,4]"), "%s", json);
    cr_assert(strstr(json, "\"nablas.activations\":\"relu,tanh,identity\""), "%s", json);
    cr_assert(strstr(json, "\"format\":\"pt\""), "%s", json);
    /* 0.weight[o][i] == W[i][o] (PyTorch's out x in) */
    nb_tensor W, B;
    cr_assert_eq(nb_net_layer_params(net, 0, &W, &B), NB_OK);
    const unsigned char *d = b + 8 + hlen;
    for (size_t o = 0; o < 5; o++)
        for (size_t i = 0; i < 3; i++)
            cr_assert_eq(nb__le_get_f32(d + 4 * (o * 3 + i)), W.data[i * 5 + o]);
    for (size_t o = 0; o < 5; o++)
        cr_assert_eq(nb__le_get_f32(d + 60 + 4 * o), B.data[o]);
    free(json);
    free(data);
    nb_net_free(net);
}

Test(safetensors, standardisation_is_folded_into_the_first_layer)
{
    nb_net *net = io_small_net(7);
    float mean[3] = {10.0f, -2.0f, 0.5f}, sd[3] = {3.0f, 0.25f, 1.5f};
    nb_norm *norm;
    cr_assert_eq(nb_norm_create(&norm, 3, mean, sd), NB_OK);
    nb_tensor X = io_random(40, 3, 9), Xn, Y1, Y2;
    for (size_t i = 0; i < 40; i++)
        for (size_t j = 0; j < 3; j++)
            X.data[i * 3 + j] = mean[j] + sd[j] * X.data[i * 3 + j];
    nb_tensor_alloc(&Xn, 40, 3);
    nb_tensor_alloc(&Y1, 40, 2);
    nb_tensor_alloc(&Y2, 40, 2);
    cr_assert_eq(nb_norm_apply_to(norm, &X, &Xn), NB_OK);
    cr_assert_eq(nb_net_predict(net, &Xn, &Y1), NB_OK);
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, norm, NULL), NB_OK);
    nb_layer_spec spec[3] = {{5, NB_ACT_RELU, 0}, {4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *back;
    cr_assert_eq(nb_safetensors_load_mem(&back, data, size, spec, 3), NB_OK);
    cr_assert_eq(nb_net_predict(back, &X, &Y2), NB_OK); /* raw inputs */
    for (size_t k = 0; k < 80; k++)
        cr_assert_float_eq(Y2.data[k], Y1.data[k], 1e-5, "row %zu: %g vs %g", k / 2,
                           (double)Y2.data[k], (double)Y1.data[k]);
    /* a standardisation of the wrong width */
    nb_norm *bad;
    cr_assert_eq(nb_norm_create(&bad, 2, mean, sd), NB_OK);
    void *sentinel = &bad;
    void *d2 = sentinel;
    cr_assert_eq(nb_safetensors_save_mem(&d2, &size, net, bad, NULL), NB_ERR_SHAPE);
    cr_assert_eq(d2, sentinel);
    nb_norm_free(bad);
    nb_norm_free(norm);
    nb_net_free(back);
    nb_net_free(net);
    free(data);
    nb_tensor_free(&X);
    nb_tensor_free(&Xn);
    nb_tensor_free(&Y1);
    nb_tensor_free(&Y2);
}

Test(safetensors, file_save_load_and_fill)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "m.safetensors"));
    nb_net *net = io_small_net(8);
    cr_assert_eq(nb_safetensors_save(net, NULL, NULL, path), NB_OK);
    cr_assert_eq(io_count_entries(dir), 1, "no temporary file left");
    nb_layer_spec spec[3] = {{5, NB_ACT_RELU, 0}, {4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *back;
    cr_assert_eq(nb_safetensors_load(&back, path, spec, 3), NB_OK);
    assert_same_params(net, back);
    /* fill: another network of the same shape takes the file's parameters */
    nb_net *other = io_small_net(99);
    cr_assert_eq(nb_safetensors_fill(other, path), NB_OK);
    assert_same_params(net, other);
    /* a file of another shape: refused, parameters unchanged */
    nb_layer_spec s2[2] = {{5, NB_ACT_RELU, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *small;
    cr_assert_eq(nb_net_create(&small, 3, s2, 2, 1), NB_OK);
    float before[64];
    size_t np = nb_net_num_params(small);
    memcpy(before, nb_net_params(small), np * sizeof(float));
    cr_assert_eq(nb_safetensors_fill(small, path), NB_ERR_SHAPE);
    cr_assert(memcmp(before, nb_net_params(small), np * sizeof(float)) == 0);
    nb_net *wide; /* same layer count, other input width */
    nb_layer_spec s3[3] = {{5, NB_ACT_RELU, 0}, {4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_net_create(&wide, 4, s3, 3, 1), NB_OK);
    cr_assert_eq(nb_safetensors_fill(wide, path), NB_ERR_SHAPE);
    /* I/O errors */
    nb_net *none = NULL;
    cr_assert_eq(nb_safetensors_load(&none, io_path(dir, "missing"), spec, 3), NB_ERR_IO);
    cr_assert_null(none);
    cr_assert_eq(nb_safetensors_save(net, NULL, NULL, "/nonexistent-dir/m.safetensors"), NB_ERR_IO);
    nb_net_free(wide);
    nb_net_free(small);
    nb_net_free(other);
    nb_net_free(back);
    nb_net_free(net);
}

Test(safetensors, argument_errors)
{
    nb_net *net = io_small_net(1), *out = NULL;
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(NULL, &size, net, NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save_mem(&data, NULL, net, NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, NULL, NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save(NULL, NULL, NULL, "x"), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save(net, NULL, NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, NULL, NULL), NB_OK);
    cr_assert_eq(nb_safetensors_load_mem(NULL, data, size, ONE, 1), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_mem(&out, NULL, size, ONE, 1), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_mem(&out, data, size, NULL, 1), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_mem(&out, data, size, NULL, 0), NB_OK); /* its metadata */
    nb_net_free(out);
    out = NULL;
    cr_assert_eq(nb_safetensors_load_mem(&out, data, size, ONE, 0), NB_ERR_ARG);
    nb_layer_spec bad[3] = {{0, NB_ACT_RELU, 0}, {0, NB_ACT_COUNT, 0}, {0, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_safetensors_load_mem(&out, data, size, bad, 3), NB_ERR_ARG);
    nb_layer_spec wrong_units[3] = {{5, NB_ACT_RELU, 0}, {3, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_safetensors_load_mem(&out, data, size, wrong_units, 3), NB_ERR_SHAPE);
    cr_assert_eq(nb_safetensors_fill_mem(NULL, data, size), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_fill_mem(net, NULL, size), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_fill(net, NULL), NB_ERR_NULL);
    cr_assert_null(out);
    free(data);
    /* saving refuses non-finite parameters */
    nb_net_params(net)[3] = NAN;
    void *sentinel = &size, *d2 = sentinel;
    cr_assert_eq(nb_safetensors_save_mem(&d2, &size, net, NULL, NULL), NB_ERR_NONFINITE);
    cr_assert_eq(d2, sentinel);
    nb_net_free(net);
}

/* ---- the container's bounds --------------------------------------------------------------- */

Test(safetensors_bounds, valid_baseline_and_padding)
{
    expect_load(VALID, NULL, 32, 1, NB_OK);
    expect_load(VALID "        ", NULL, 32, 1, NB_OK); /* trailing space padding */
    expect_load("{\"__metadata__\":{\"format\":\"pt\"}," W23 "," B2 "}", NULL, 32, 1, NB_OK);
}

Test(safetensors_bounds, shorter_than_the_length_field)
{
    unsigned char b[8] = {0};
    for (size_t n = 0; n < 8; n++) {
        nb_net *net = NULL;
        cr_assert_eq(nb_safetensors_load_mem(&net, b, n, ONE, 1), NB_ERR_TRUNCATED);
    }
}

Test(safetensors_bounds, header_length_limit)
{
    size_t size;
    nb_net *net = NULL;
    unsigned char *b = st_bytes(VALID, 100000001u, NULL, 0, &size);
    cr_assert_eq(nb_safetensors_load_mem(&net, b, size, ONE, 1), NB_ERR_LIMIT);
    free(b);
    b = st_bytes(VALID, UINT64_MAX - 1, NULL, 0, &size);
    cr_assert_eq(nb_safetensors_load_mem(&net, b, size, ONE, 1), NB_ERR_LIMIT);
    free(b);
    /* at the limit: allowed, but longer than this file */
    b = st_bytes(VALID, 100000000u, NULL, 0, &size);
    cr_assert_eq(nb_safetensors_load_mem(&net, b, size, ONE, 1), NB_ERR_TRUNCATED);
    free(b);
    cr_assert_null(net);
}

Test(safetensors_bounds, every_prefix_is_truncated)
{
    nb_net *net = io_small_net(2), *out = NULL;
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, NULL, NULL), NB_OK);
    nb_layer_spec spec[3] = {{5, NB_ACT_RELU, 0}, {4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    for (size_t n = 0; n < size; n++) {
        nb_status st = nb_safetensors_load_mem(&out, data, n, spec, 3);
        cr_assert_eq(st, NB_ERR_TRUNCATED, "prefix %zu of %zu: %s", n, size, nb_status_str(st));
    }
    /* and one byte more is trailing data */
    unsigned char *longer = calloc(1, size + 1);
    memcpy(longer, data, size);
    cr_assert_eq(nb_safetensors_load_mem(&out, longer, size + 1, spec, 3), NB_ERR_CORRUPT);
    cr_assert_null(out);
    free(longer);
    free(data);
    nb_net_free(net);
}

Test(safetensors_bounds, header_is_a_json_object)
{
    expect_load("", NULL, 0, 1, NB_ERR_CORRUPT);                  /* length 0 */
    expect_load(" " VALID, NULL, 32, 1, NB_ERR_CORRUPT);          /* must start with '{' */
    expect_load("[" VALID "]", NULL, 32, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":", NULL, 0, 1, NB_ERR_CORRUPT);    /* not JSON */
    expect_load(VALID "x", NULL, 32, 1, NB_ERR_CORRUPT);          /* trailing garbage */
    expect_load(VALID "{}", NULL, 32, 1, NB_ERR_CORRUPT);         /* two values */
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 0, 24) ",\"0.weight\":" T1("F32", "[2,3]", 0, 24) "}",
                NULL, 24, 1, NB_ERR_CORRUPT);                      /* duplicate names */
    expect_load("{\"0.weight\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2,3],"
                "\"data_offsets\":[0,24]}}", NULL, 24, 1, NB_ERR_CORRUPT); /* duplicate field */
    expect_load("{\"0.w\\u0000\":" T1("F32", "[2,3]", 0, 24) "}", NULL, 24, 1, NB_ERR_CORRUPT);
    /* a NUL byte inside the header */
    unsigned char b[64];
    size_t size;
    unsigned char *f = st_bytes("{\"a\":1}", UINT64_MAX, NULL, 0, &size);
    memcpy(b, f, size);
    b[10] = 0;
    nb_net *net = NULL;
    cr_assert_eq(nb_safetensors_load_mem(&net, b, size, ONE, 1), NB_ERR_CORRUPT);
    free(f);
    /* deep nesting is refused (Jansson bounds its depth), not a stack overflow */
    static char deep[9000] = "{\"__metadata__\":";
    size_t at = strlen(deep);
    for (int i = 0; i < 4000; i++)
        deep[at++] = '[';
    for (int i = 0; i < 4000; i++)
        deep[at++] = ']';
    deep[at++] = '}';
    deep[at] = 0;
    expect_load(deep, NULL, 0, 1, NB_ERR_CORRUPT);
}

Test(safetensors_bounds, tensor_fields)
{
    expect_load("{\"0.weight\":[1,2]}", NULL, 0, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3]}}", NULL, 24, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24],\"x\":1}}",
                NULL, 24, 1, NB_ERR_CORRUPT);                     /* unknown field */
    expect_load("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"offsets\":[0,24]}}", NULL, 24, 1,
                NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":{\"dtype\":32,\"shape\":[2,3],\"data_offsets\":[0,24]}}", NULL, 24,
                1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":6,\"data_offsets\":[0,24]}}", NULL, 24,
                1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":" T1("F32", "[2,-3]", 0, 24) "}", NULL, 24, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":" T1("F32", "[2,3.0]", 0, 24) "}", NULL, 24, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":" T1("F32", "[2,\"3\"]", 0, 24) "}", NULL, 24, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0]}}", NULL,
                24, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24,24]}}",
                NULL, 24, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", -24, 0) "}", NULL, 24, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 24, 0) "}", NULL, 24, 1, NB_ERR_CORRUPT);
}

Test(safetensors_bounds, dtypes)
{
    expect_load("{\"0.weight\":" T1("F7", "[2,3]", 0, 24) "}", NULL, 24, 1, NB_ERR_UNSUPPORTED);
    expect_load("{\"0.weight\":" T1("f32", "[2,3]", 0, 24) "}", NULL, 24, 1, NB_ERR_UNSUPPORTED);
    /* known, well-formed, but not a float type nablas converts */
    expect_load("{\"0.weight\":" T1("I32", "[2,3]", 0, 24) "}", NULL, 24, 1, NB_ERR_UNSUPPORTED);
    expect_load("{\"0.weight\":" T1("U8", "[2,3]", 0, 6) "}", NULL, 6, 1, NB_ERR_UNSUPPORTED);
    /* F16, BF16, F64 convert */
    expect_load("{\"0.weight\":" T1("F16", "[2,3]", 0, 12) "}", NULL, 12, 1, NB_OK);
    expect_load("{\"0.weight\":" T1("BF16", "[2,3]", 0, 12) "}", NULL, 12, 1, NB_OK);
    expect_load("{\"0.weight\":" T1("F64", "[2,3]", 0, 48) "}", NULL, 48, 1, NB_OK);
}

Test(safetensors_bounds, shapes_and_sizes)
{
    expect_load("{\"0.weight\":" T1("F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", NULL, 4, 1,
                NB_ERR_UNSUPPORTED);                               /* more than 8 dimensions */
    expect_load("{\"0.weight\":" T1("F32", "[2147483648,2147483648,2147483648]", 0, 4) "}", NULL,
                4, 1, NB_ERR_CORRUPT);                             /* element count overflows */
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 0, 20) "}", NULL, 20, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 0, 28) "}", NULL, 28, 1, NB_ERR_CORRUPT);
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 0, 4611686018427387905) "}", NULL, 24, 1,
                NB_ERR_CORRUPT);                                   /* offset above 2^62 */
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 0, 99999999999999999999) "}", NULL, 24, 1,
                NB_ERR_CORRUPT);                                   /* beyond 64-bit integers */
}

Test(safetensors_bounds, offsets_tile_the_buffer)
{
    /* beyond the buffer: the file is shorter than its header says */
    expect_load(VALID, NULL, 28, 1, NB_ERR_TRUNCATED);
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 8, 32) "}", NULL, 24, 1, NB_ERR_CORRUPT);
    /* overlap */
    expect_load("{" W23 ",\"0.bias\":" T1("F32", "[2]", 20, 28) "}", NULL, 28, 1, NB_ERR_CORRUPT);
    /* gap */
    expect_load("{" W23 ",\"0.bias\":" T1("F32", "[2]", 28, 36) "}", NULL, 36, 1, NB_ERR_CORRUPT);
    /* not starting at 0 */
    expect_load("{\"0.weight\":" T1("F32", "[2,3]", 4, 28) "}", NULL, 28, 1, NB_ERR_CORRUPT);
    /* trailing bytes */
    expect_load(VALID, NULL, 36, 1, NB_ERR_CORRUPT);
    /* no tensors: the buffer must be empty, and there is no network */
    expect_load("{}", NULL, 4, 1, NB_ERR_CORRUPT);
    expect_load("{}", NULL, 0, 1, NB_ERR_SHAPE);
    /* in any order in the header; empty tensors take no bytes */
    expect_load("{" B2 ",\"x\":" T1("F32", "[0,3]", 32, 32) "," W23 "}", NULL, 32, 1,
                NB_ERR_UNSUPPORTED); /* tiles, but "x" is not a layer tensor */
    expect_load("{" B2 "," W23 "}", NULL, 32, 1, NB_OK);
}

Test(safetensors_bounds, metadata)
{
    expect_load("{\"__metadata__\":[]," W23 "," B2 "}", NULL, 32, 1, NB_ERR_CORRUPT);
    expect_load("{\"__metadata__\":{\"a\":1}," W23 "," B2 "}", NULL, 32, 1, NB_ERR_CORRUPT);
    expect_load("{\"__metadata__\":{\"a\":{}}," W23 "," B2 "}", NULL, 32, 1, NB_ERR_CORRUPT);
    expect_load("{\"__metadata__\":{}," W23 "," B2 "}", NULL, 32, 1, NB_OK);
}

Test(safetensors_bounds, parser_leaves_output_untouched)
{
    size_t size;
    unsigned char *b = st_bytes(VALID, UINT64_MAX, NULL, 30, &size);
    nb__st_file f;
    memset(&f, 0x5a, sizeof f);
    nb__st_file before = f;
    cr_assert_eq(nb__st_parse(&f, b, size), NB_ERR_TRUNCATED);
    cr_assert(memcmp(&f, &before, sizeof f) == 0);
    free(b);
}

/* ---- the mapping onto a network ------------------------------------------------------------ */

Test(safetensors_names, state_dict_names)
{
    /* not "M.weight" / "M.bias" (M without an empty component): refused */
    const char *bad[] = {"0weight", "0.weights", "0.Weight", "0.weight.x", ".weight", "a..weight",
                         "a.", "bn.running_mean", "num_batches_tracked"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char json[256];
        snprintf(json, sizeof json, "{\"%s\":" T1("F32", "[2,3]", 0, 24) "}", bad[k]);
        expect_load(json, NULL, 24, 1, NB_ERR_UNSUPPORTED);
    }
    /* the names of ordinary modules: a lone Linear, a Sequential inside a module, attributes */
    const char *good[] = {"weight", "01.weight", "-1.weight", "1234567890.weight", "model.0.weight",
                          "net.layers.3.weight", "fc1.weight", "encoder.fc1.weight", "123456789.weight"};
    for (size_t k = 0; k < sizeof good / sizeof *good; k++) {
        char json[256];
        snprintf(json, sizeof json, "{\"%s\":" T1("F32", "[2,3]", 0, 24) "}", good[k]);
        expect_load(json, NULL, 24, 1, NB_OK);
    }
}

Test(safetensors_names, layers_and_shapes)
{
    /* a bias without its weight */
    expect_load("{\"0.bias\":" T1("F32", "[2]", 0, 8) "}", NULL, 8, 1, NB_ERR_SHAPE);
    /* weight not 2-D, bias not 1-D, wrong bias length, empty weight */
    expect_load("{\"0.weight\":" T1("F32", "[6]", 0, 24) "}", NULL, 24, 1, NB_ERR_SHAPE);
    expect_load("{\"0.weight\":" T1("F32", "[1,2,3]", 0, 24) "}", NULL, 24, 1, NB_ERR_SHAPE);
    expect_load("{" W23 ",\"0.bias\":" T1("F32", "[1,2]", 24, 32) "}", NULL, 32, 1, NB_ERR_SHAPE);
    expect_load("{" W23 ",\"0.bias\":" T1("F32", "[3]", 24, 36) "}", NULL, 36, 1, NB_ERR_SHAPE);
    expect_load("{\"0.weight\":" T1("F32", "[0,3]", 0, 0) "}", NULL, 0, 1, NB_ERR_SHAPE);
    expect_load("{\"0.weight\":" T1("F32", "[2,0]", 0, 0) "}", NULL, 0, 1, NB_ERR_SHAPE);
    /* layer count differs from the specification, both ways */
    expect_load(VALID, NULL, 32, 2, NB_ERR_SHAPE);
    const char *two = "{" W23 "," B2 ",\"2.weight\":" T1("F32", "[1,2]", 32, 40) "}";
    expect_load(two, NULL, 40, 2, NB_OK); /* and no bias: zero */
    expect_load(two, NULL, 40, 1, NB_ERR_SHAPE);
    /* widths do not chain */
    expect_load("{" W23 ",\"1.weight\":" T1("F32", "[1,3]", 24, 36) "}", NULL, 36, 2, NB_ERR_SHAPE);
}

Test(safetensors_names, indices_in_numeric_order_and_missing_bias_is_zero)
{
    /* "10" sorts before "9" as a string: the layers must be taken by number */
    float v[2 * 3 + 2 + 1 * 2];
    for (int i = 0; i < 10; i++)
        v[i] = (float)(i + 1);
    unsigned char raw[40];
    nb__le_put_f32s(raw, v, 10);
    const char *json = "{\"10.weight\":" T1("F32", "[1,2]", 32, 40) ",\"9.weight\":"
                       T1("F32", "[2,3]", 0, 24) ",\"9.bias\":" T1("F32", "[2]", 24, 32) "}";
    size_t size;
    unsigned char *b = st_bytes(json, UINT64_MAX, raw, 40, &size);
    nb_net *net;
    cr_assert_eq(nb_safetensors_load_mem(&net, b, size, TWO, 2), NB_OK);
    cr_assert_eq(nb_net_inputs(net), 3);
    cr_assert_eq(nb_net_outputs(net), 1);
    nb_tensor W, B;
    nb_net_layer_params(net, 0, &W, &B);
    cr_assert(W.rows == 3 && W.cols == 2);
    /* PyTorch [[1,2,3],[4,5,6]] (out x in) is nablas' [[1,4],[2,5],[3,6]] */
    const float want[6] = {1, 4, 2, 5, 3, 6};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(W.data[i], want[i]);
    cr_assert(B.data[0] == 7 && B.data[1] == 8);
    nb_net_layer_params(net, 1, &W, &B);
    cr_assert(W.data[0] == 9 && W.data[1] == 10 && B.data[0] == 0);
    nb_layer_spec s;
    nb_net_layer(net, 0, &s);
    cr_assert_eq(s.act, NB_ACT_RELU, "activations come from the specification");
    nb_net_free(net);
    free(b);
}

Test(safetensors_names, non_finite_values)
{
    unsigned char raw[48] = {0};
    const char *f32 = "{\"0.weight\":" T1("F32", "[1,1]", 0, 4) "}";
    nb__le_put_f32(raw, NAN);
    expect_load(f32, raw, 4, 1, NB_ERR_NONFINITE);
    nb__le_put_f32(raw, INFINITY);
    expect_load(f32, raw, 4, 1, NB_ERR_NONFINITE);
    const char *f16 = "{\"0.weight\":" T1("F16", "[1,1]", 0, 2) "}";
    nb__le_put_u16(raw, 0x7c00); /* +inf */
    expect_load(f16, raw, 2, 1, NB_ERR_NONFINITE);
    nb__le_put_u16(raw, 0x7e00); /* NaN */
    expect_load(f16, raw, 2, 1, NB_ERR_NONFINITE);
    const char *bf16 = "{\"0.weight\":" T1("BF16", "[1,1]", 0, 2) "}";
    nb__le_put_u16(raw, 0x7fc0);
    expect_load(bf16, raw, 2, 1, NB_ERR_NONFINITE);
    const char *f64 = "{\"0.weight\":" T1("F64", "[1,1]", 0, 8) "}";
    nb__le_put_f64(raw, 1e39); /* finite, but not a float */
    expect_load(f64, raw, 8, 1, NB_ERR_NONFINITE);
    nb__le_put_f64(raw, -1e39);
    expect_load(f64, raw, 8, 1, NB_ERR_NONFINITE);
    nb__le_put_f64(raw, 3.4e38);
    expect_load(f64, raw, 8, 1, NB_OK);
    /* fill leaves the network as it was */
    nb_net *net;
    nb_layer_spec one = {1, NB_ACT_IDENTITY, 0};
    cr_assert_eq(nb_net_create(&net, 1, &one, 1, 3), NB_OK);
    float w = nb_net_params(net)[0];
    nb__le_put_f32(raw, NAN);
    size_t size;
    unsigned char *b = st_bytes(f32, UINT64_MAX, raw, 4, &size);
    cr_assert_eq(nb_safetensors_fill_mem(net, b, size), NB_ERR_NONFINITE);
    cr_assert_eq(nb_net_params(net)[0], w);
    free(b);
    nb_net_free(net);
}

Test(safetensors_names, conversions_are_exact)
{
    cr_assert_eq(nb__f16_to_f32(0x3c00), 1.0f);
    cr_assert_eq(nb__f16_to_f32(0xc000), -2.0f);
    cr_assert_eq(nb__f16_to_f32(0x7bff), 65504.0f);         /* largest half */
    cr_assert_eq(nb__f16_to_f32(0x0400), ldexpf(1, -14));   /* smallest normal */
    cr_assert_eq(nb__f16_to_f32(0x0001), ldexpf(1, -24));   /* smallest subnormal */
    cr_assert_eq(nb__f16_to_f32(0x03ff), ldexpf(1023, -24));
    cr_assert_eq(nb__f16_to_f32(0x3555), 0x555p-12f); /* 1/3 rounded */
    float nz = nb__f16_to_f32(0x8000);
    cr_assert(nz == 0 && signbit(nz));
    cr_assert(isinf(nb__f16_to_f32(0xfc00)) && nb__f16_to_f32(0xfc00) < 0);
    cr_assert(isnan(nb__f16_to_f32(0x7c01)));
    /* F16 / BF16 / F64 values through a file */
    unsigned char raw[8];
    nb__le_put_u16(raw, 0x3e00); /* 1.5 */
    nb__le_put_u16(raw + 2, 0xc0a0); /* bf16 -5.0 */
    const char *json = "{\"0.weight\":" T1("F16", "[1,1]", 0, 2) ",\"0.bias\":" T1("BF16", "[1]", 2, 4) "}";
    size_t size;
    unsigned char *b = st_bytes(json, UINT64_MAX, raw, 4, &size);
    nb_net *net;
    cr_assert_eq(nb_safetensors_load_mem(&net, b, size, ONE, 1), NB_OK);
    cr_assert_eq(nb_net_params(net)[0], 1.5f);
    cr_assert_eq(nb_net_params(net)[1], -5.0f);
    nb_net_free(net);
    free(b);
    nb__le_put_f64(raw, 0.1);
    b = st_bytes("{\"0.weight\":" T1("F64", "[1,1]", 0, 8) "}", UINT64_MAX, raw, 8, &size);
    cr_assert_eq(nb_safetensors_load_mem(&net, b, size, ONE, 1), NB_OK);
    cr_assert_eq(nb_net_params(net)[0], 0.1f);
    nb_net_free(net);
    free(b);
}

/* The target standardisation folds into the last layer: the imported network answers in the
   targets' units, y = y' std + mean.  A one-layer network gets both folds. */
static void check_target_fold(nb_net *net, const nb_norm *norm, const nb_norm *tnorm)
{
    size_t in = nb_net_inputs(net), out = nb_net_outputs(net);
    nb_tensor X = io_random(30, in, 4), Xn, Y1, Y2;
    nb_tensor_alloc(&Xn, 30, in);
    nb_tensor_alloc(&Y1, 30, out);
    nb_tensor_alloc(&Y2, 30, out);
    if (norm)
        cr_assert_eq(nb_norm_apply_to(norm, &X, &Xn), NB_OK);
    else
        memcpy(Xn.data, X.data, 30 * in * sizeof(float));
    cr_assert_eq(nb_net_predict(net, &Xn, &Y1), NB_OK);
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, norm, tnorm), NB_OK);
    nb_layer_spec spec[8];
    for (size_t l = 0; l < nb_net_num_layers(net); l++)
        nb_net_layer(net, l, &spec[l]);
    nb_net *back;
    cr_assert_eq(nb_safetensors_load_mem(&back, data, size, spec, nb_net_num_layers(net)), NB_OK);
    cr_assert_eq(nb_net_predict(back, &X, &Y2), NB_OK);
    const float *m = nb_norm_mean(tnorm), *sd = nb_norm_std(tnorm);
    for (size_t i = 0; i < 30; i++)
        for (size_t o = 0; o < out; o++) {
            double want = (double)Y1.data[i * out + o] * sd[o] + m[o];
            cr_assert(fabs(Y2.data[i * out + o] - want) <= 1e-5 * (1 + fabs(want)),
                      "row %zu output %zu: %g vs %g", i, o, (double)Y2.data[i * out + o], want);
        }
    nb_net_free(back);
    free(data);
    nb_tensor_free(&X);
    nb_tensor_free(&Xn);
    nb_tensor_free(&Y1);
    nb_tensor_free(&Y2);
}

Test(safetensors, target_standardisation_is_folded_into_the_last_layer)
{
    float tm[2] = {250.0f, -3.0f}, ts[2] = {40.0f, 0.5f}, im[3] = {1, 2, 3}, is[3] = {2, 0.5f, 4};
    nb_norm *tnorm, *norm, *t1;
    cr_assert_eq(nb_norm_create(&tnorm, 2, tm, ts), NB_OK);
    cr_assert_eq(nb_norm_create(&norm, 3, im, is), NB_OK);
    nb_net *net = io_small_net(11); /* last activation identity */
    check_target_fold(net, NULL, tnorm);
    check_target_fold(net, norm, tnorm);
    nb_layer_spec one = {2, NB_ACT_IDENTITY, 0};
    nb_net *lin;
    cr_assert_eq(nb_net_create(&lin, 3, &one, 1, 5), NB_OK);
    check_target_fold(lin, norm, tnorm); /* first and last layer at once */
    /* wrong width; a last activation the affine map cannot pass through */
    cr_assert_eq(nb_norm_create(&t1, 1, tm, ts), NB_OK);
    void *data = NULL;
    size_t size;
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, net, NULL, t1), NB_ERR_SHAPE);
    nb_layer_spec sig[2] = {{4, NB_ACT_RELU, 0}, {2, NB_ACT_SIGMOID, 0}};
    nb_net *s;
    cr_assert_eq(nb_net_create(&s, 3, sig, 2, 5), NB_OK);
    cr_assert_eq(nb_safetensors_save_mem(&data, &size, s, NULL, tnorm), NB_ERR_UNSUPPORTED);
    cr_assert_null(data);
    nb_net_free(s);
    nb_net_free(lin);
    nb_net_free(net);
    nb_norm_free(t1);
    nb_norm_free(norm);
    nb_norm_free(tnorm);
}
