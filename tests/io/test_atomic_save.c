/* A save that fails part-way (a full disk, simulated with RLIMIT_FSIZE; a rename that cannot
   happen) leaves the previous file intact and readable and no temporary file behind.
   Criterion runs every test in its own process, so the resource limit stays in the test. */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_io.h"
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
    nb_layer_spec specs[] = {{200, NB_ACT_RELU, 0}, {2, NB_ACT_IDENTITY, 0}};
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

/* ---- what the writer may replace, modes, temporary names, bounded reads ------------------------ */

Test(atomic_save, new_files_follow_the_umask_and_replaced_files_keep_their_mode)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "f"));
    mode_t old = umask(027);
    cr_assert_eq(nb_write_file_atomic(path, "a", 1), NB_OK);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", (unsigned)(st.st_mode & 07777));
    cr_assert_eq(chmod(path, 0600), 0);
    umask(0);
    cr_assert_eq(nb_write_file_atomic(path, "bb", 2), NB_OK);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "replacing widened the mode to %o",
                 (unsigned)(st.st_mode & 07777));
    umask(old);
}

Test(atomic_save, symlinks_are_followed_and_special_files_refused)
{
    const char *dir = io_tmpdir();
    char target[512], link[512], fifo[512];
    strcpy(target, io_path(dir, "target"));
    strcpy(link, io_path(dir, "link"));
    strcpy(fifo, io_path(dir, "fifo"));
    io_write(target, "old", 3);
    cr_assert_eq(symlink("target", link), 0); /* relative to the link's directory */
    cr_assert_eq(nb_write_file_atomic(link, "new!", 4), NB_OK);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link was replaced");
    size_t n;
    char *got = io_read(target, &n);
    cr_assert(got && n == 4 && memcmp(got, "new!", 4) == 0);
    free(got);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    cr_assert_eq(nb_write_file_atomic(fifo, "x", 1), NB_ERR_IO);
    cr_assert_eq(lstat(fifo, &st), 0);
    cr_assert(S_ISFIFO(st.st_mode), "the FIFO was replaced");
    cr_assert_eq(nb_write_file_atomic(dir, "x", 1), NB_ERR_IO); /* a directory */
    cr_assert_eq(io_count_entries(dir), 3, "a temporary file was left behind");
}

static char seen[2][600];
static int n_seen;
static void hook(const char *p)
{
    if (n_seen < 2)
        snprintf(seen[n_seen], sizeof seen[0], "%s", p ? p : "(null)");
    n_seen++;
}

Test(atomic_save, temporary_names_are_short_and_reported_to_the_hook)
{
    const char *dir = io_tmpdir();
    char path[600];
    memset(path, 0, sizeof path);
    snprintf(path, sizeof path, "%s/", dir);
    memset(path + strlen(path), 'n', 255); /* NAME_MAX: only a short temporary name fits */
    nb__tmp_hook = hook;
    cr_assert_eq(nb_write_file_atomic(path, "x", 1), NB_OK);
    nb__tmp_hook = NULL;
    cr_assert_eq(n_seen, 2);
    const char *base = strrchr(seen[0], '/') + 1;
    cr_assert_eq(strncmp(base, NB__TMP_PREFIX, strlen(NB__TMP_PREFIX)), 0, "%s", base);
    cr_assert_eq(strlen(base), strlen(NB__TMP_PREFIX) + NB__TMP_SUFFIX_LEN);
    cr_assert_str_eq(seen[1], "(null)");
    cr_assert_eq(io_count_entries(dir), 1);
}

Test(atomic_save, loaders_stop_at_the_first_bad_chunk_of_an_endless_device)
{
    nb_model m;
    cr_assert_eq(nb_model_load(&m, "/dev/zero"), NB_ERR_BAD_MAGIC);
    nb_tensor t;
    cr_assert_eq(nb_npy_read(&t, "/dev/zero"), NB_ERR_BAD_MAGIC);
    nb_dataset d;
    nb_io_error e;
    cr_assert_eq(nb_csv_read(&d, "/dev/zero", NULL, &e), NB_ERR_PARSE);
    cr_assert(strstr(e.message, "NUL byte"), "%s", e.message);
    cr_assert_eq(nb_model_load(&m, "/"), NB_ERR_IO); /* a directory */
}
