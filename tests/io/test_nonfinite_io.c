/* Non-finite models: nb_model_save refuses a NaN or infinite parameter (NB_ERR_NONFINITE,
   nothing written, an existing file kept), and the loader refuses a file holding one (with a
   valid checksum: a forgery or a writer's bug) as NB_ERR_CORRUPT. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io_common.h"

Test(nonfinite_io, save_refuses_nan_and_inf_parameters)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "m.nbm"));
    io_write(path, "old", 3);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        nb_net *net = io_small_net(5);
        nb_net_params(net)[17 + k] = bad[k];
        nb_model m = {.net = net, .loss = NB_LOSS_MSE};
        cr_assert_eq(nb_model_save(&m, path), NB_ERR_NONFINITE, "value %d", k);
        void *data = NULL;
        size_t size = 0;
        cr_assert_eq(nb_model_save_mem(&data, &size, &m), NB_ERR_NONFINITE);
        cr_assert_null(data);
        cr_assert_eq(nb_net_save(net, NB_LOSS_MSE, NULL, path), NB_ERR_NONFINITE);
        nb_net_free(net);
    }
    size_t size;
    char *old = io_read(path, &size);
    cr_assert(old && size == 3 && memcmp(old, "old", 3) == 0, "the existing file was touched");
    free(old);
    cr_assert_eq(io_count_entries(dir), 1, "a temporary file was left behind");
}

Test(nonfinite_io, load_refuses_a_nan_parameter_as_corrupt)
{
    nb_net *net = io_small_net(6);
    nb_model m = {.net = net, .loss = NB_LOSS_MSE};
    unsigned char *data;
    size_t size;
    cr_assert_eq(nb_model_save_mem((void **)&data, &size, &m), NB_OK);
    const size_t params_off = 40 + 16 * 3; /* header, 3 layers, no norm, no classes */
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        unsigned char *b = malloc(size);
        memcpy(b, data, size);
        memcpy(b + params_off + 4 * (size_t)(10 * k), &bad[k], 4); /* little-endian host */
        uint32_t crc = (uint32_t)crc32_z(0L, b, (z_size_t)(size - 4));
        for (int i = 0; i < 4; i++)
            b[size - 4 + i] = (unsigned char)(crc >> (8 * i));
        nb_model back;
        memset(&back, 0, sizeof back);
        cr_assert_eq(nb_model_load_mem(&back, b, size), NB_ERR_CORRUPT, "value %d", k);
        cr_assert_null(back.net);
        free(b);
    }
    nb_model back;
    cr_assert_eq(nb_model_load_mem(&back, data, size), NB_OK); /* the unforged bytes load */
    nb_model_free(&back);
    free(data);
    nb_net_free(net);
}
