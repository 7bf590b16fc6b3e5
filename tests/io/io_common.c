#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"

nb_net *io_small_net(uint64_t seed)
{
    nb_layer_spec specs[] = {{5, NB_ACT_RELU, 0}, {4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    cr_assert_eq(nb_net_create(&net, 3, specs, 3, seed), NB_OK);
    /* non-zero biases so that they are tested too */
    float *p = nb_net_params(net);
    for (size_t i = 0; i < nb_net_num_params(net); i++)
        p[i] += 0.01f * (float)(i % 7);
    return net;
}

nb_tensor io_random(size_t rows, size_t cols, uint64_t seed)
{
    nb_tensor t;
    cr_assert_eq(nb_tensor_alloc(&t, rows, cols), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (size_t i = 0; i < rows * cols; i++)
        t.data[i] = (float)(4.0 * nb_rng_uniform(&r) - 2.0);
    return t;
}

const char *io_tmpdir(void)
{
    static char dir[64];
    strcpy(dir, "/tmp/nablas-io-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

const char *io_path(const char *dir, const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

size_t io_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

void io_write(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

void *io_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}
