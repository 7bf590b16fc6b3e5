/* Saving and loading: bit-identical predictions, everything in the model survives, and every
   argument error is reported without writing anything. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"

static void assert_same_predictions(nb_net *a, nb_net *b, const nb_tensor *X)
{
    size_t out = nb_net_outputs(a);
    nb_tensor Ya, Yb;
    cr_assert_eq(nb_tensor_alloc(&Ya, X->rows, out), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&Yb, X->rows, out), NB_OK);
    cr_assert_eq(nb_net_predict(a, X, &Ya), NB_OK);
    cr_assert_eq(nb_net_predict(b, X, &Yb), NB_OK);
    cr_assert_eq(memcmp(Ya.data, Yb.data, X->rows * out * sizeof(float)), 0);
    nb_tensor_free(&Ya);
    nb_tensor_free(&Yb);
}

Test(model_io, save_load_gives_bit_identical_predictions)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "m.nbm"));
    nb_net *net = io_small_net(7);
    cr_assert_eq(nb_net_save(net, NB_LOSS_SOFTMAX_CE, NULL, path), NB_OK);
    nb_net *back = NULL;
    nb_loss loss = NB_LOSS_MSE;
    nb_norm *norm = (nb_norm *)&loss; /* must be overwritten with NULL */
    cr_assert_eq(nb_net_load(&back, &loss, &norm, path), NB_OK);
    cr_assert_eq(loss, NB_LOSS_SOFTMAX_CE);
    cr_assert_null(norm);
    cr_assert_eq(nb_net_num_layers(back), 3);
    cr_assert_eq(nb_net_inputs(back), 3);
    for (size_t l = 0; l < 3; l++) {
        nb_layer_spec s1, s2;
        nb_net_layer(net, l, &s1);
        nb_net_layer(back, l, &s2);
        cr_assert(s1.units == s2.units && s1.act == s2.act);
    }
    cr_assert_eq(memcmp(nb_net_params(net), nb_net_params(back), 54 * sizeof(float)), 0);
    nb_tensor X = io_random(300, 3, 11);
    assert_same_predictions(net, back, &X);
    nb_tensor_free(&X);
    nb_net_free(net);
    nb_net_free(back);
}

Test(model_io, model_with_norm_and_classes_round_trips)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "m.nbm"));
    nb_net *net = io_small_net(3);
    nb_tensor X = io_random(50, 3, 5);
    nb_norm *norm;
    cr_assert_eq(nb_norm_fit(&norm, &X), NB_OK);
    char *names[] = {"cat", "dog"};
    nb_model m = {.net = net, .loss = NB_LOSS_SOFTMAX_CE, .norm = norm, .n_classes = 2,
                  .class_names = names};
    cr_assert_eq(nb_model_save(&m, path), NB_OK);
    nb_model got;
    cr_assert_eq(nb_model_load(&got, path), NB_OK);
    cr_assert_eq(got.loss, NB_LOSS_SOFTMAX_CE);
    cr_assert_eq(got.version, 1u); /* nothing that needs version 2 */
    cr_assert_not_null(got.norm);
    cr_assert_eq(memcmp(nb_norm_mean(got.norm), nb_norm_mean(norm), 3 * sizeof(float)), 0);
    cr_assert_eq(memcmp(nb_norm_std(got.norm), nb_norm_std(norm), 3 * sizeof(float)), 0);
    cr_assert_eq(got.n_classes, 2);
    cr_assert_str_eq(got.class_names[0], "cat");
    cr_assert_str_eq(got.class_names[1], "dog");
    assert_same_predictions(net, got.net, &X);
    /* the file's bytes are what save_mem produces */
    void *mem;
    size_t msize, fsize;
    cr_assert_eq(nb_model_save_mem(&mem, &msize, &m), NB_OK);
    void *file = io_read(path, &fsize);
    cr_assert_eq(msize, fsize);
    cr_assert_eq(memcmp(mem, file, msize), 0);
    /* and loading from memory gives the same model */
    nb_model got2;
    cr_assert_eq(nb_model_load_mem(&got2, mem, msize), NB_OK);
    cr_assert_eq(got2.crc32, got.crc32);
    assert_same_predictions(net, got2.net, &X);
    free(mem);
    free(file);
    nb_model_free(&got);
    nb_model_free(&got2);
    cr_assert_null(got.net);
    nb_model_free(NULL);
    nb_norm_free(norm);
    nb_net_free(net);
    nb_tensor_free(&X);
}

Test(model_io, trained_network_reloads_and_keeps_predicting)
{
    nb_net *net = io_small_net(9);
    nb_tensor X = io_random(64, 3, 1), T = io_random(64, 2, 2);
    nb_train_opts o = nb_train_opts_default();
    o.epochs = 3;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    void *mem;
    size_t size;
    nb_model m = {.net = net, .loss = NB_LOSS_MSE};
    cr_assert_eq(nb_model_save_mem(&mem, &size, &m), NB_OK);
    nb_net *back;
    cr_assert_eq(nb_net_load_mem(&back, NULL, NULL, mem, size), NB_OK);
    assert_same_predictions(net, back, &X);
    free(mem);
    nb_net_free(back);
    nb_net_free(net);
    nb_tensor_free(&X);
    nb_tensor_free(&T);
}

Test(model_io, argument_errors_write_nothing)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "m.nbm"));
    nb_net *net = io_small_net(1);
    cr_assert_eq(nb_net_save(NULL, NB_LOSS_MSE, NULL, path), NB_ERR_NULL);
    cr_assert_eq(nb_net_save(net, NB_LOSS_MSE, NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_net_save(net, NB_LOSS_COUNT, NULL, path), NB_ERR_ARG);
    nb_tensor X = io_random(10, 4, 1);
    nb_norm *wrong;
    cr_assert_eq(nb_norm_fit(&wrong, &X), NB_OK);
    cr_assert_eq(nb_net_save(net, NB_LOSS_MSE, wrong, path), NB_ERR_SHAPE);
    char *names[] = {"a", "b", "c"}, *empty[] = {"a", ""}, *null[] = {"a", NULL};
    nb_model m = {.net = net, .n_classes = 3, .class_names = names};
    cr_assert_eq(nb_model_save(&m, path), NB_ERR_ARG); /* 3 names, 2 outputs */
    m.n_classes = 2;
    m.class_names = empty;
    cr_assert_eq(nb_model_save(&m, path), NB_ERR_ARG);
    m.class_names = null;
    cr_assert_eq(nb_model_save(&m, path), NB_ERR_NULL);
    m.class_names = NULL;
    cr_assert_eq(nb_model_save(&m, path), NB_ERR_NULL);
    cr_assert_eq(nb_model_save(NULL, path), NB_ERR_NULL);
    cr_assert_eq(io_count_entries(dir), 0);
    void *d;
    size_t s;
    cr_assert_eq(nb_model_save_mem(NULL, &s, &m), NB_ERR_NULL);
    cr_assert_eq(nb_model_save_mem(&d, NULL, &m), NB_ERR_NULL);
    nb_net *out = (nb_net *)&s;
    cr_assert_eq(nb_net_load(&out, NULL, NULL, io_path(dir, "missing.nbm")), NB_ERR_IO);
    cr_assert_eq(nb_net_load(&out, NULL, NULL, dir), NB_ERR_IO); /* a directory */
    cr_assert_eq(out, (nb_net *)&s);
    cr_assert_eq(nb_net_load(NULL, NULL, NULL, path), NB_ERR_NULL);
    cr_assert_eq(nb_net_load_mem(&out, NULL, NULL, NULL, 10), NB_ERR_NULL);
    nb_model mm;
    cr_assert_eq(nb_model_load(&mm, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_model_load_mem(NULL, "x", 1), NB_ERR_NULL);
    nb_norm_free(wrong);
    nb_tensor_free(&X);
    nb_net_free(net);
}
