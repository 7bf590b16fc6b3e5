/* The atomic writer and links it does not resolve blindly: a link that appears at the target
   after it was followed is refused at the rename (ELOOP), the caller's guard sees the file
   about to be replaced and can refuse it (EPERM), and the kernel's fs.protected_symlinks rule
   (another user's link in a sticky, world-writable directory is not followed) holds for the
   links the writer follows itself.  The old file, the link's target and the directory are left
   as they were, without a temporary file. */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_io.h"
#include "io_common.h"

static void expect_content(const char *path, const char *want)
{
    size_t n;
    char *got = io_read(path, &n);
    cr_assert(got && n == strlen(want) && memcmp(got, want, n) == 0, "%s changed", path);
    free(got);
}

static dev_t refuse_dev;
static ino_t refuse_ino;
static char guard_path[600];
static int guard_calls;

static bool guard(const char *path, dev_t dev, ino_t ino)
{
    snprintf(guard_path, sizeof guard_path, "%s", path);
    guard_calls++;
    return !(dev == refuse_dev && ino == refuse_ino);
}

Test(write_links, the_guard_sees_the_file_to_be_replaced)
{
    const char *dir = io_tmpdir();
    char data[512], link[512], other[512];
    strcpy(data, io_path(dir, "data.csv"));
    strcpy(link, io_path(dir, "out.nbm"));
    strcpy(other, io_path(dir, "other.nbm"));
    io_write(data, "the data", 8);
    io_write(other, "other", 5);
    struct stat st;
    cr_assert_eq(stat(data, &st), 0);
    refuse_dev = st.st_dev;
    refuse_ino = st.st_ino;
    nb__write_guard = guard;
    cr_assert_eq(symlink("data.csv", link), 0); /* the output's link now leads to the data */
    errno = 0;
    cr_expect_eq(nb_write_file_atomic(link, "model", 5), NB_ERR_IO);
    cr_expect_eq(errno, EPERM);
    cr_expect_str_eq(guard_path, link, "the guard gets the path as given");
    expect_content(data, "the data");
    /* another file, and a new name, are written as before */
    cr_assert_eq(unlink(link), 0);
    cr_assert_eq(symlink("other.nbm", link), 0);
    cr_expect_eq(nb_write_file_atomic(link, "model", 5), NB_OK);
    expect_content(other, "model");
    int calls = guard_calls;
    cr_expect_eq(nb_write_file_atomic(io_path(dir, "new.nbm"), "n", 1), NB_OK);
    cr_expect_eq(guard_calls, calls, "a new file has nothing to guard");
    nb__write_guard = NULL;
    cr_expect_eq(io_count_entries(dir), 4, "a temporary file was left behind");
}

/* The tmp hook runs after the target was followed and looked at: swap a link in there. */
static char swap_target[512], swap_victim[512];
static void swap_hook(const char *tmp)
{
    if (!tmp || !swap_target[0])
        return;
    cr_assert_eq(unlink(swap_target), 0);
    cr_assert_eq(symlink(swap_victim, swap_target), 0);
    swap_target[0] = '\0';
}

Test(write_links, a_link_swapped_in_during_the_write_is_refused)
{
    const char *dir = io_tmpdir();
    strcpy(swap_target, io_path(dir, "model.nbm"));
    strcpy(swap_victim, io_path(dir, "victim"));
    io_write(swap_target, "old model", 9);
    io_write(swap_victim, "victim", 6);
    char target[512];
    strcpy(target, swap_target);
    nb__tmp_hook = swap_hook;
    errno = 0;
    cr_expect_eq(nb_write_file_atomic(target, "new model", 9), NB_ERR_IO);
    cr_expect_eq(errno, ELOOP);
    nb__tmp_hook = NULL;
    expect_content(swap_victim, "victim");
    struct stat st;
    cr_assert_eq(lstat(target, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the swapped-in link itself was replaced");
    cr_expect_eq(io_count_entries(dir), 2, "a temporary file was left behind");
}

Test(write_links, another_users_link_in_a_sticky_directory_is_not_followed)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to give a link to another user");
    const char *top = io_tmpdir();
    char sticky[512], link[600], own[600], victim[512], mine[512];
    strcpy(sticky, io_path(top, "sticky"));
    strcpy(victim, io_path(top, "victim"));
    strcpy(mine, io_path(top, "mine"));
    cr_assert_eq(mkdir(sticky, 0777), 0);
    cr_assert_eq(chmod(sticky, 01777), 0);
    io_write(victim, "victim", 6);
    snprintf(link, sizeof link, "%s/theirs", sticky);
    snprintf(own, sizeof own, "%s/ours", sticky);
    cr_assert_eq(symlink(victim, link), 0);
    cr_assert_eq(lchown(link, 65534, 65534), 0);
    cr_assert_eq(symlink(mine, own), 0);
    cr_expect(nb__link_protected(link));
    cr_expect(!nb__link_protected(own));
    errno = 0;
    cr_expect_eq(nb_write_file_atomic(link, "x", 1), NB_ERR_IO);
    cr_expect_eq(errno, EACCES);
    expect_content(victim, "victim");
    cr_expect_null(nb__follow_links(link));
    cr_expect_eq(nb_write_file_atomic(own, "mine", 4), NB_OK, "our own link is followed");
    expect_content(mine, "mine");
    /* the directory's owner's link is followed; so is any link once the directory is not
       sticky, or not world-writable */
    cr_assert_eq(chown(sticky, 65534, 65534), 0);
    cr_expect(!nb__link_protected(link));
    cr_assert_eq(chown(sticky, 0, 0), 0);
    cr_assert_eq(chmod(sticky, 0777), 0);
    cr_expect(!nb__link_protected(link));
    cr_assert_eq(chmod(sticky, 01775), 0);
    cr_expect(!nb__link_protected(link));
    cr_expect_eq(io_count_entries(sticky), 2, "a temporary file was left behind");
}
