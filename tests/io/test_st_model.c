/* safetensors models: the loss, standardisations and names in the metadata (bit-identical
   round trips, every malformed entry refused with its key), state_dict key names (natural
   order, a given order, skipped modules) and the argument errors of the model functions. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"
#include "core/le_codec.h"

/* Whether the n bytes at data contain the string s. */
static bool contains(const void *data, size_t n, const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp((const char *)data + i, s, len) == 0)
            return true;
    return false;
}

static char *dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    return strcpy(d, s);
}

static char **names(size_t n, const char *const *v)
{
    char **out = malloc(n * sizeof *out);
    for (size_t k = 0; k < n; k++)
        out[k] = dup(v[k]);
    return out;
}

/* A 3-5-4-2 regression model with both standardisations and column names (loader-owned
   layout, so nb_model_free frees it). */
static nb_model regression_model(void)
{
    nb_model m = {0};
    m.net = io_small_net(11);
    m.loss = NB_LOSS_MSE;
    const float mean[3] = {10.1f, -0.3f, 1e-7f}, sd[3] = {2.5f, 0.1f, 3.3333333f};
    const float tmean[2] = {250.0f, -1.0f / 3.0f}, tsd[2] = {40.0f, 0.01f};
    cr_assert_eq(nb_norm_create(&m.norm, 3, mean, sd), NB_OK);
    cr_assert_eq(nb_norm_create(&m.target_norm, 2, tmean, tsd), NB_OK);
    const char *f[3] = {"height", "temp \"C\"", "dose/kg"}, *t[2] = {"yield", "loss_rate"};
    m.n_feature_names = 3;
    m.feature_names = names(3, f);
    m.n_target_names = 2;
    m.target_names = names(2, t);
    return m;
}

static void assert_same_norm(const nb_norm *a, const nb_norm *b)
{
    cr_assert_eq(nb_norm_features(a), nb_norm_features(b));
    size_t n = nb_norm_features(a);
    cr_assert(memcmp(nb_norm_mean(a), nb_norm_mean(b), n * sizeof(float)) == 0, "mean bits");
    cr_assert(memcmp(nb_norm_std(a), nb_norm_std(b), n * sizeof(float)) == 0, "std bits");
}

static void assert_same_names(size_t na, char **a, size_t nb, char **b)
{
    cr_assert_eq(na, nb);
    for (size_t k = 0; k < na; k++)
        cr_assert_str_eq(a[k], b[k]);
}

Test(st_model, round_trip_keeps_everything_bit_for_bit)
{
    nb_model m = regression_model();
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, false), NB_OK);
    nb_model back;
    nb_st_error err;
    cr_assert_eq(nb_safetensors_load_model_mem(&back, data, size, NULL, 0, NULL, &err), NB_OK,
                 "%s", err.reason);
    cr_assert_eq(nb_net_num_params(back.net), nb_net_num_params(m.net));
    cr_assert(memcmp(nb_net_params(back.net), nb_net_params(m.net),
                     nb_net_num_params(m.net) * sizeof(float)) == 0, "unfolded weights");
    assert_same_norm(m.norm, back.norm);
    assert_same_norm(m.target_norm, back.target_norm);
    assert_same_names(m.n_feature_names, m.feature_names, back.n_feature_names, back.feature_names);
    assert_same_names(m.n_target_names, m.target_names, back.n_target_names, back.target_names);
    cr_assert_eq(back.loss, NB_LOSS_MSE);
    cr_assert_eq(back.n_classes, 0);
    /* the whole model saves to the same model file */
    void *f1, *f2;
    size_t s1, s2;
    cr_assert_eq(nb_model_save_mem(&f1, &s1, &m), NB_OK);
    cr_assert_eq(nb_model_save_mem(&f2, &s2, &back), NB_OK);
    cr_assert(s1 == s2 && memcmp(f1, f2, s1) == 0, "model files differ");
    /* a network alone cannot say that it takes standardised inputs */
    nb_net *net = (nb_net *)data;
    cr_assert_eq(nb_safetensors_load_mem(&net, data, size, NULL, 0), NB_ERR_UNSUPPORTED);
    cr_assert_eq(net, (nb_net *)data);
    cr_assert_eq(nb_safetensors_fill_mem(back.net, data, size), NB_ERR_UNSUPPORTED);
    free(f1);
    free(f2);
    free(data);
    nb_model_free(&back);
    nb_model_free(&m);
}

Test(st_model, classifier_names_and_loss)
{
    nb_model m = {0};
    m.net = io_small_net(12);
    m.loss = NB_LOSS_SOFTMAX_CE;
    const char *c[2] = {"setosa", "virginica"}, *t[1] = {"species"};
    m.n_classes = 2;
    m.class_names = names(2, c);
    m.n_target_names = 1;
    m.target_names = names(1, t);
    void *data;
    size_t size;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, true), NB_OK);
    cr_assert(contains(data, size, "\"nablas.loss\":\"softmax-ce\""));
    nb_model back;
    cr_assert_eq(nb_safetensors_load_model_mem(&back, data, size, NULL, 0, NULL, NULL), NB_OK);
    cr_assert_eq(back.loss, NB_LOSS_SOFTMAX_CE);
    assert_same_names(2, m.class_names, back.n_classes, back.class_names);
    assert_same_names(1, m.target_names, back.n_target_names, back.target_names);
    cr_assert_null(back.norm);
    /* no standardisation: the network alone loads as before */
    nb_net *net;
    cr_assert_eq(nb_safetensors_load_mem(&net, data, size, NULL, 0), NB_OK);
    nb_net_free(net);
    free(data);
    nb_model_free(&back);
    nb_model_free(&m);
}

Test(st_model, fold_puts_no_standardisation_in_the_metadata)
{
    nb_model m = regression_model();
    void *data, *old;
    size_t size, old_size;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, true), NB_OK);
    cr_assert(!contains(data, size, "feature_mean"));
    cr_assert(contains(data, size, "nablas.feature_names"));
    /* the folded weights are nb_safetensors_save's */
    cr_assert_eq(nb_safetensors_save_mem(&old, &old_size, m.net, m.norm, m.target_norm), NB_OK);
    nb_model back;
    cr_assert_eq(nb_safetensors_load_model_mem(&back, data, size, NULL, 0, NULL, NULL), NB_OK);
    cr_assert_null(back.norm);
    cr_assert_null(back.target_norm);
    nb_net *folded;
    cr_assert_eq(nb_safetensors_load_mem(&folded, old, old_size, NULL, 0), NB_OK);
    cr_assert(memcmp(nb_net_params(folded), nb_net_params(back.net),
                     nb_net_num_params(folded) * sizeof(float)) == 0);
    nb_net_free(folded);
    nb_model_free(&back);
    free(old);
    free(data);
    nb_model_free(&m);
}

Test(st_model, save_errors)
{
    nb_model m = regression_model();
    void *data = NULL;
    size_t size = 0;
    cr_assert_eq(nb_safetensors_save_model_mem(NULL, &size, &m, false), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save_model_mem(&data, NULL, &m, false), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, NULL, false), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save_model(NULL, false, "x"), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_save_model(&m, false, NULL), NB_ERR_NULL);
    nb_model empty = {0};
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &empty, false), NB_ERR_NULL);
    /* lists that do not fit the network */
    m.n_feature_names = 2;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, false), NB_ERR_SHAPE);
    m.n_feature_names = 3;
    m.n_classes = 3;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, false), NB_ERR_SHAPE);
    m.n_classes = 0;
    nb_norm *wrong;
    const float one[2] = {1, 1};
    cr_assert_eq(nb_norm_create(&wrong, 2, one, one), NB_OK);
    nb_norm *keep = m.norm;
    m.norm = wrong;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, false), NB_ERR_SHAPE);
    m.norm = keep;
    nb_norm_free(wrong);
    m.loss = NB_LOSS_COUNT;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, false), NB_ERR_ARG);
    m.loss = NB_LOSS_MSE;
    /* a name that is not UTF-8 has no JSON string */
    m.feature_names[1][0] = (char)0xff;
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &m, false), NB_ERR_UNSUPPORTED);
    cr_assert_null(data, "nothing made on failure");
    nb_model_free(&m);
    /* folding a target standardisation needs an identity last layer */
    nb_layer_spec s[2] = {{3, NB_ACT_RELU, 0}, {2, NB_ACT_SIGMOID, 0}};
    nb_model t = {0};
    cr_assert_eq(nb_net_create(&t.net, 2, s, 2, 1), NB_OK);
    const float mu[2] = {0, 0}, sd[2] = {1, 2};
    cr_assert_eq(nb_norm_create(&t.target_norm, 2, mu, sd), NB_OK);
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &t, true), NB_ERR_UNSUPPORTED);
    cr_assert_eq(nb_safetensors_save_model_mem(&data, &size, &t, false), NB_OK);
    free(data);
    nb_model_free(&t);
}

/* ---- crafted files ------------------------------------------------------------------------ */

#define T1(dt, shape, b, e) "{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

/* The 2 x 3 layer "0" (32 bytes of data) with the given metadata entries. */
static unsigned char *with_meta(const char *meta, size_t *size)
{
    char json[2048];
    snprintf(json, sizeof json, "{\"__metadata__\":{\"nablas.activations\":\"identity\"%s%s},"
             "\"0.weight\":" T1("F32", "[2,3]", 0, 24) ",\"0.bias\":" T1("F32", "[2]", 24, 32) "}",
             *meta ? "," : "", meta);
    size_t jl = strlen(json);
    unsigned char *b = calloc(1, 8 + jl + 32);
    nb__le_put_u64(b, jl);
    memcpy(b + 8, json, jl);
    *size = 8 + jl + 32;
    return b;
}

static void expect_meta(const char *meta, nb_status want, const char *key)
{
    size_t size;
    unsigned char *b = with_meta(meta, &size);
    nb_model m = {.net = (nb_net *)b}, keep = m;
    nb_st_error err;
    nb_status st = nb_safetensors_load_model_mem(&m, b, size, NULL, 0, NULL, &err);
    cr_assert_eq(st, want, "%s: got %s (%s)", meta, nb_status_str(st), err.reason);
    if (st == NB_OK) {
        nb_model_free(&m);
    } else {
        cr_assert(memcmp(&m, &keep, sizeof m) == 0, "output touched on failure");
        cr_assert_str_eq(err.key, key, "%s", meta);
        cr_assert(strstr(err.reason, key) != NULL, "'%s' does not name %s", err.reason, key);
    }
    free(b);
}

Test(st_model, malformed_metadata_named)
{
    expect_meta("", NB_OK, "");
    expect_meta("\"nablas.loss\":\"bce\"", NB_OK, "");
    expect_meta("\"nablas.loss\":\"hinge\"", NB_ERR_CORRUPT, "nablas.loss");
    expect_meta("\"nablas.feature_mean\":\"[1,2,3]\",\"nablas.feature_std\":\"[1,2,3]\"", NB_OK, "");
    expect_meta("\"nablas.feature_mean\":\"[1,2]\",\"nablas.feature_std\":\"[1,2]\"",
                NB_ERR_CORRUPT, "nablas.feature_mean");
    expect_meta("\"nablas.feature_mean\":\"[1,2,3]\",\"nablas.feature_std\":\"[1,0,3]\"",
                NB_ERR_CORRUPT, "nablas.feature_std");
    expect_meta("\"nablas.feature_mean\":\"[1,2,3]\",\"nablas.feature_std\":\"[1,-2,3]\"",
                NB_ERR_CORRUPT, "nablas.feature_std");
    expect_meta("\"nablas.feature_mean\":\"[1,2,1e39]\",\"nablas.feature_std\":\"[1,2,3]\"",
                NB_ERR_CORRUPT, "nablas.feature_mean");
    expect_meta("\"nablas.feature_mean\":\"[1,\\\"2\\\",3]\",\"nablas.feature_std\":\"[1,2,3]\"",
                NB_ERR_CORRUPT, "nablas.feature_mean");
    expect_meta("\"nablas.feature_mean\":\"not json\",\"nablas.feature_std\":\"[1,2,3]\"",
                NB_ERR_CORRUPT, "nablas.feature_mean");
    expect_meta("\"nablas.feature_mean\":\"[1,2,3]\"", NB_ERR_CORRUPT, "nablas.feature_std");
    expect_meta("\"nablas.target_std\":\"[1,2]\"", NB_ERR_CORRUPT, "nablas.target_mean");
    expect_meta("\"nablas.target_mean\":\"[1,2]\",\"nablas.target_std\":\"[1,2]\"", NB_OK, "");
    expect_meta("\"nablas.loss\":\"bce\",\"nablas.target_mean\":\"[1,2]\",\"nablas.target_std\":"
                "\"[1,2]\"", NB_ERR_CORRUPT, "nablas.target_mean");
    expect_meta("\"nablas.class_names\":\"[\\\"a\\\",\\\"b\\\"]\"", NB_OK, "");
    expect_meta("\"nablas.class_names\":\"[\\\"a\\\"]\"", NB_ERR_CORRUPT, "nablas.class_names");
    expect_meta("\"nablas.class_names\":\"[\\\"a\\\",\\\"\\\"]\"", NB_ERR_CORRUPT,
                "nablas.class_names");
    expect_meta("\"nablas.class_names\":\"[\\\"a\\\",7]\"", NB_ERR_CORRUPT, "nablas.class_names");
    expect_meta("\"nablas.feature_names\":\"[\\\"a\\\",\\\"b\\\"]\"", NB_ERR_CORRUPT,
                "nablas.feature_names");
    /* one target name goes with class names only */
    expect_meta("\"nablas.target_names\":\"[\\\"y\\\"]\"", NB_ERR_CORRUPT, "nablas.target_names");
    expect_meta("\"nablas.class_names\":\"[\\\"a\\\",\\\"b\\\"]\",\"nablas.target_names\":"
                "\"[\\\"y\\\"]\"", NB_OK, "");
    /* another producer's entries are not judged */
    expect_meta("\"format\":\"pt\",\"nablas.future\":\"x\"", NB_OK, "");
    expect_meta("\"nablas.activations2\":\"x\"", NB_OK, "");
}

/* ---- key names ------------------------------------------------------------------------------ */

/* A file of 1-output layers named keys[k] with shapes [out_k, in_k], no biases. */
static unsigned char *layers_file(size_t n, const char *const *keys, const int (*shape)[2],
                                  size_t *size)
{
    char json[4096];
    size_t at = (size_t)snprintf(json, sizeof json, "{"), off = 0;
    for (size_t k = 0; k < n; k++) {
        size_t bytes = 4 * (size_t)shape[k][0] * (size_t)shape[k][1];
        at += (size_t)snprintf(json + at, sizeof json - at, "%s\"%s\":{\"dtype\":\"F32\","
                               "\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}", k ? "," : "",
                               keys[k], shape[k][0], shape[k][1], off, off + bytes);
        off += bytes;
    }
    snprintf(json + at, sizeof json - at, "}");
    size_t jl = strlen(json);
    unsigned char *b = malloc(8 + jl + off);
    nb__le_put_u64(b, jl);
    memcpy(b + 8, json, jl);
    for (size_t i = 0; i < off / 4; i++)
        nb__le_put_f32(b + 8 + jl + 4 * i, (float)(i + 1));
    *size = 8 + jl + off;
    return b;
}

static const nb_layer_spec ANY3[3] = {{0, NB_ACT_RELU, 0}, {0, NB_ACT_RELU, 0}, {0, NB_ACT_IDENTITY, 0}};

static nb_status load_names(const unsigned char *b, size_t size, size_t n, const nb_st_names *nm,
                            nb_model *m, nb_st_error *err)
{
    return nb_safetensors_load_model_mem(m, b, size, ANY3, n, nm, err);
}

Test(st_names, natural_order_given_order_and_skips)
{
    /* fc10 after fc2 (digit runs as numbers); out after fc*; "bn" a 1-D weight */
    const char *keys[5] = {"out.weight", "fc10.weight", "bn.weight", "fc2.weight", "bn.running_var"};
    const int shape[5][2] = {{1, 3}, {3, 4}, {4, 0}, {4, 2}, {4, 0}};
    size_t size;
    unsigned char *b = layers_file(5, keys, shape, &size);
    nb_model m;
    nb_st_error err;
    cr_assert_eq(load_names(b, size, 3, NULL, &m, &err), NB_ERR_UNSUPPORTED);
    cr_assert_str_eq(err.key, "bn.running_var");
    cr_assert(strstr(err.reason, "BatchNorm"), "%s", err.reason);
    const char *skip_stats[1] = {"bn.running_var"};
    nb_st_names nm = {NULL, 0, skip_stats, 1};
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_ERR_SHAPE);
    cr_assert_str_eq(err.key, "bn.weight");
    cr_assert(strstr(err.reason, "key 'bn.weight' has shape [4,0]"), "%s", err.reason);
    const char *skip_bn[1] = {"bn"};
    nm.skip = skip_bn;
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_OK, "%s", err.reason);
    cr_assert_eq(nb_net_inputs(m.net), 2);
    nb_tensor W, B;
    nb_net_layer_params(m.net, 0, &W, &B); /* fc2: the values after out (3) and fc10 (12) */
    cr_assert(W.rows == 2 && W.cols == 4 && W.data[0] == 16.0f, "fc2 first: %g", W.data[0]);
    nb_model_free(&m);
    /* a given order: the same layers; one that does not chain is refused by key */
    const char *order[3] = {"fc2", "fc10", "out"};
    nm.order = order;
    nm.n_order = 3;
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_OK, "%s", err.reason);
    nb_model_free(&m);
    const char *bad[3] = {"fc10", "fc2", "out"};
    nm.order = bad;
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_ERR_SHAPE);
    cr_assert_str_eq(err.key, "fc2.weight");
    cr_assert(strstr(err.reason, "key 'fc2.weight' has shape [4,2], which does not follow "
                                 "'fc10.weight' [3,4]"), "%s", err.reason);
    /* a module left out of the order, one named twice, one that is not there, empty entries */
    nm.n_order = 2;
    cr_assert_eq(load_names(b, size, 2, &nm, &m, &err), NB_ERR_UNSUPPORTED);
    cr_assert_str_eq(err.key, "out.weight");
    const char *twice[3] = {"fc2", "fc10", "fc2"};
    nm.order = twice;
    nm.n_order = 3;
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_ERR_ARG);
    cr_assert_str_eq(err.key, "fc2");
    const char *absent[4] = {"fc2", "fc10", "fc11", "out"};
    nm.order = absent;
    nm.n_order = 4;
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_ERR_SHAPE);
    cr_assert_str_eq(err.key, "fc11");
    const char *empty[1] = {""};
    nm.order = empty;
    nm.n_order = 1;
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_ERR_ARG);
    nm.order = NULL;
    nm.n_order = 0;
    nm.skip = empty;
    cr_assert_eq(load_names(b, size, 3, &nm, &m, &err), NB_ERR_ARG);
    free(b);
}

Test(st_names, biases_and_counts_named)
{
    const char *keys[3] = {"net.0.weight", "net.2.bias", "net.2.weight"};
    const int shape[3][2] = {{4, 3}, {5, 1}, {2, 4}};
    size_t size;
    unsigned char *b = layers_file(3, keys, shape, &size);
    nb_model m;
    nb_st_error err;
    /* net.2.bias has shape [5,1]: not the bias of a 2-output weight */
    cr_assert_eq(load_names(b, size, 2, NULL, &m, &err), NB_ERR_SHAPE);
    cr_assert_str_eq(err.key, "net.2.bias");
    free(b);
    const char *lone[2] = {"enc.bias", "dec.weight"};
    const int sh2[2][2] = {{3, 1}, {2, 3}};
    b = layers_file(2, lone, sh2, &size);
    cr_assert_eq(load_names(b, size, 1, NULL, &m, &err), NB_ERR_SHAPE);
    cr_assert_str_eq(err.key, "enc.bias");
    cr_assert(strstr(err.reason, "'enc.weight'"), "%s", err.reason);
    free(b);
    const char *two[2] = {"a.weight", "b.weight"};
    const int sh3[2][2] = {{3, 2}, {1, 3}};
    b = layers_file(2, two, sh3, &size);
    cr_assert_eq(load_names(b, size, 3, NULL, &m, &err), NB_ERR_SHAPE);
    cr_assert(strstr(err.reason, "the file has 2 layers"), "%s", err.reason);
    nb_layer_spec units[2] = {{3, NB_ACT_RELU, 0}, {2, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_safetensors_load_model_mem(&m, b, size, units, 2, NULL, &err), NB_ERR_SHAPE);
    cr_assert_str_eq(err.key, "b.weight");
    /* without layers and without nablas' metadata: give the layers */
    cr_assert_eq(nb_safetensors_load_model_mem(&m, b, size, NULL, 0, NULL, &err), NB_ERR_ARG);
    cr_assert_str_eq(err.key, "nablas.activations");
    free(b);
}

Test(st_names, argument_errors)
{
    size_t size;
    unsigned char *b = with_meta("", &size);
    nb_model m;
    nb_st_error err;
    cr_assert_eq(nb_safetensors_load_model_mem(NULL, b, size, NULL, 0, NULL, &err), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_model_mem(&m, NULL, size, NULL, 0, NULL, &err), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_model_mem(&m, b, size, NULL, 1, NULL, &err), NB_ERR_NULL);
    nb_layer_spec bad = {0, NB_ACT_COUNT, 0};
    cr_assert_eq(nb_safetensors_load_model_mem(&m, b, size, &bad, 1, NULL, &err), NB_ERR_ARG);
    nb_st_names nm = {NULL, 1, NULL, 0};
    cr_assert_eq(nb_safetensors_load_model_mem(&m, b, size, NULL, 0, &nm, &err), NB_ERR_NULL);
    const char *null_entry[1] = {NULL};
    nb_st_names nm2 = {NULL, 0, null_entry, 1};
    cr_assert_eq(nb_safetensors_load_model_mem(&m, b, size, NULL, 0, &nm2, &err), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_model_mem(&m, b, size - 1, NULL, 0, NULL, &err),
                 NB_ERR_TRUNCATED);
    cr_assert(err.reason[0], "a reason for a truncated file");
    cr_assert_eq(nb_safetensors_load_model(NULL, "x", NULL, 0, NULL, &err), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_model(&m, NULL, NULL, 0, NULL, &err), NB_ERR_NULL);
    cr_assert_eq(nb_safetensors_load_model(&m, io_path(io_tmpdir(), "missing.safetensors"), NULL,
                                           0, NULL, &err), NB_ERR_IO);
    cr_assert(err.reason[0]);
    /* the file versions, err NULL allowed */
    const char *dir = io_tmpdir(), *path = io_path(dir, "m.safetensors");
    io_write(path, b, size);
    cr_assert_eq(nb_safetensors_load_model(&m, path, NULL, 0, NULL, NULL), NB_OK);
    cr_assert_eq(nb_safetensors_save_model(&m, false, io_path(dir, "back.safetensors")), NB_OK);
    nb_model back;
    cr_assert_eq(nb_safetensors_load_model(&back, io_path(dir, "back.safetensors"), NULL, 0, NULL,
                                           &err), NB_OK);
    cr_assert(memcmp(nb_net_params(m.net), nb_net_params(back.net), 8 * sizeof(float)) == 0);
    nb_model_free(&back);
    nb_model_free(&m);
    free(b);
}
