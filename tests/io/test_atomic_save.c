/* A save that fails part-way (a full disk, simulated with RLIMIT_FSIZE; a rename that cannot
   happen) leaves the previous file intact and readable and no temporary file behind.
   Criterion runs every test in its own process, so the resource limit stays in the test. */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_common.h"

static void predict(nb_net *net, const nb_tensor *X, nb_tensor *Y)
{
    cr_assert_eq(nb_tensor_alloc(Y, X->rows, nb_net_outputs(net)), NB_OK);
    cr_assert_eq(nb_net_predict(net, X, Y), NB_OK);
}

Test(atomic_save, full_disk_keeps_the_old_model)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "m.nbm"));
    nb_net *old = io_small_net(1);
    cr_assert_eq(nb_net_save(old, NB_LOSS_MSE, NULL, path), NB_OK);
    size_t old_size;
    void *old_bytes = io_read(path, &old_size);

    /* A bigger network whose file exceeds the size limit: write() fails with EFBIG. */
    nb_layer_spec specs[] = {{200, NB_ACT_RELU}, {2, NB_ACT_IDENTITY}};
    nb_net *big;
    cr_assert_eq(nb_net_create(&big, 3, specs, 2, 5), NB_OK);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {1000, 1000};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    cr_assert_eq(nb_net_save(big, NB_LOSS_MSE, NULL, path), NB_ERR_IO);

    cr_assert_eq(io_count_entries(dir), 1, "the temporary file was not removed");
    size_t now_size;
    void *now_bytes = io_read(path, &now_size);
    cr_assert_eq(now_size, old_size);
    cr_assert_eq(memcmp(now_bytes, old_bytes, old_size), 0);
    nb_net *back;
    cr_assert_eq(nb_net_load(&back, NULL, NULL, path), NB_OK);
    nb_tensor X = io_random(20, 3, 2), Y1, Y2;
    predict(old, &X, &Y1);
    predict(back, &X, &Y2);
    cr_assert_eq(memcmp(Y1.data, Y2.data, 40 * sizeof(float)), 0);
    nb_tensor_free(&X);
    nb_tensor_free(&Y1);
    nb_tensor_free(&Y2);
    free(old_bytes);
    free(now_bytes);
    nb_net_free(old);
    nb_net_free(big);
    nb_net_free(back);
}

Test(atomic_save, failed_rename_removes_the_temporary_file)
{
    const char *dir = io_tmpdir();
    char target[512];
    strcpy(target, io_path(dir, "taken"));
    cr_assert_eq(mkdir(target, 0755), 0);
    io_write(io_path(target, "inside"), "x", 1); /* rename cannot replace a non-empty directory */
    nb_net *net = io_small_net(1);
    cr_assert_eq(nb_net_save(net, NB_LOSS_MSE, NULL, target), NB_ERR_IO);
    cr_assert_eq(io_count_entries(dir), 1);
    struct stat st;
    cr_assert_eq(stat(target, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    nb_net_free(net);
}

Test(atomic_save, missing_directory_and_bad_paths)
{
    const char *dir = io_tmpdir();
    nb_net *net = io_small_net(1);
    cr_assert_eq(nb_net_save(net, NB_LOSS_MSE, NULL, io_path(dir, "no/such/m.nbm")), NB_ERR_IO);
    cr_assert_eq(nb_net_save(net, NB_LOSS_MSE, NULL, ""), NB_ERR_ARG);
    cr_assert_eq(nb_write_file_atomic(NULL, "x", 1), NB_ERR_NULL);
    cr_assert_eq(nb_write_file_atomic(io_path(dir, "f"), NULL, 1), NB_ERR_NULL);
    cr_assert_eq(io_count_entries(dir), 0);
    nb_net_free(net);
}

Test(atomic_save, write_replaces_the_whole_file)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "f.txt"));
    cr_assert_eq(nb_write_file_atomic(path, "a long first version\n", 21), NB_OK);
    cr_assert_eq(nb_write_file_atomic(path, "short\n", 6), NB_OK);
    size_t n;
    char *got = io_read(path, &n);
    cr_assert_eq(n, 6);
    cr_assert_eq(memcmp(got, "short\n", 6), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);
    cr_assert_eq(nb_write_file_atomic(path, NULL, 0), NB_OK); /* an empty file is fine */
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 0);
    cr_assert_eq(io_count_entries(dir), 1);
    free(got);
}

Test(atomic_save, relative_path_in_the_working_directory)
{
    const char *dir = io_tmpdir();
    cr_assert_eq(chdir(dir), 0);
    nb_net *net = io_small_net(2);
    cr_assert_eq(nb_net_save(net, NB_LOSS_BCE, NULL, "rel.nbm"), NB_OK);
    nb_net *back;
    nb_loss loss;
    cr_assert_eq(nb_net_load(&back, &loss, NULL, "rel.nbm"), NB_OK);
    cr_assert_eq(loss, NB_LOSS_BCE);
    cr_assert_eq(io_count_entries("."), 1);
    nb_net_free(net);
    nb_net_free(back);
}
