/* Bounded reads for the loaders and atomic whole-file writes, shared by the model, NPY, CSV
   and CLI writers.

   Reads: the input is read in growing chunks and the format's own parser is asked after each
   chunk whether the bytes so far are a complete file, a proper prefix (read on) or wrong (stop
   at once).  So a loader never holds much more than the header allows (at most twice: the
   chunks double), fails on the first chunk when the magic or the header is wrong (`nablas info
   /dev/zero`), and pipes and devices are read the same way as regular files.

   Writes: the bytes go to a temporary file in the target's directory (rename is atomic only
   within one file system), are flushed and fsync'd, and only then renamed over the target; on
   any failure the temporary file is removed and the target is left as it was.  The target must
   be a regular file or a new name: devices, FIFOs, sockets and directories are refused.  A
   symbolic link is followed and its final target replaced (the link stays), unless the kernel
   itself would refuse to follow it (fs.protected_symlinks: a link in a sticky, world-writable
   directory whose owner is neither the process's effective user nor the directory's owner),
   because the links are resolved here, in user space, where the kernel's rule does not apply.
   The target's directory is opened once and every later step works relative to it: the
   temporary file is created there with O_EXCL, and just before the rename the name is looked
   at again without following links: if it is now a link (swapped during the write) the write
   fails, and if it is a file the caller's guard (nb__write_guard: the CLI's "never over an
   input") is asked about its device and inode.  A new file gets
   0666 & ~umask (the kernel applies the umask at open); a replaced file keeps its mode (and its
   owner where the process may set it).  Temporary names are fixed-length, `nablas-tmp-XXXXXX`,
   so that any target name that fits NAME_MAX works. */
#define _XOPEN_SOURCE 700 /* S_ISVTX */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/base.h"
#include "core/file_io.h"

nb__tmp_hook_fn nb__tmp_hook;
nb__write_guard_fn nb__write_guard;

/* ---- reading ---------------------------------------------------------------------------- */

enum { FIRST_CHUNK = 1 << 12 };

/* read() until n bytes or end of input; returns the count, or -1 on an error. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

nb_status nb__read_checked(const char *path, size_t max_size, nb__prefix_fn check, void *ctx,
                           unsigned char **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NB_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        errno = e; /* the caller's message says why: "Is a directory" */
        return NB_ERR_IO;
    }
    size_t cap = FIRST_CHUNK, n = 0;
    unsigned char *buf = NULL;
    nb_status st_check = NB_ERR_TRUNCATED;
    bool eof = false;
    for (;;) {
        if (n == cap || !buf) {
            if (buf && (cap > max_size || cap > SIZE_MAX / 2)) {
                st_check = NB_ERR_LIMIT;
                break;
            }
            size_t ncap = buf ? cap * 2 : cap;
            unsigned char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                st_check = NB_ERR_NOMEM;
                break;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t r = read_full(fd, buf + n, cap - n);
        if (r < 0) {
            st_check = NB_ERR_IO;
            break;
        }
        n += (size_t)r;
        eof = n < cap;
        if (n > max_size) {
            st_check = NB_ERR_LIMIT;
            break;
        }
        /* complete files are judged at the end of the input only: more bytes after a
           complete file are trailing garbage, which the check then reports */
        st_check = check ? check(buf, n, eof, ctx) : NB_ERR_TRUNCATED;
        if (eof || st_check != NB_ERR_TRUNCATED)
            break;
    }
    close(fd);
    if (st_check == NB_ERR_TRUNCATED && eof && !check)
        st_check = NB_OK; /* no format check: the whole input */
    if (st_check != NB_OK) {
        free(buf);
        return st_check;
    }
    *data = buf;
    *size = n;
    return NB_OK;
}

/* ---- paths ------------------------------------------------------------------------------ */

/* The directory part of path ("." if none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The kernel's fs.protected_symlinks rule for the link `link` (lstat'd as st). */
static bool protected_link(const char *link, const struct stat *st)
{
    char *dir = dir_of(link);
    struct stat ds;
    bool ok = dir && stat(dir, &ds) == 0;
    free(dir);
    if (!ok)
        return false; /* the follow fails on its own */
    return (ds.st_mode & S_ISVTX) && (ds.st_mode & S_IWOTH) && st->st_uid != geteuid()
           && st->st_uid != ds.st_uid;
}

bool nb__link_protected(const char *path)
{
    struct stat st;
    return path && lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && protected_link(path, &st);
}

char *nb__follow_links(const char *path)
{
    char *cur = strdup(path);
    for (int depth = 0; cur && depth < 40; depth++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        if (protected_link(cur, &st)) {
            free(cur);
            errno = EACCES; /* what the kernel answers */
            return NULL;
        }
        char target[PATH_MAX];
        ssize_t len = readlink(cur, target, sizeof target - 1);
        if (len <= 0) {
            free(cur);
            return NULL;
        }
        target[len] = '\0';
        char *next;
        if (target[0] == '/') {
            next = strdup(target);
        } else { /* relative to the link's own directory */
            char *dir = dir_of(cur);
            next = dir ? malloc(strlen(dir) + 1 + (size_t)len + 1) : NULL;
            if (next)
                sprintf(next, "%s/%s", dir, target);
            free(dir);
        }
        free(cur);
        cur = next;
    }
    if (cur)
        errno = ELOOP;
    free(cur);
    return NULL;
}

/* ---- writing ---------------------------------------------------------------------------- */

/* dir/nablas-tmp-XXXXXX with 6 characters from the time, the pid and a counter. */
static void tmp_name(char *out, size_t cap, const char *dir, unsigned attempt)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid() << 20
                 ^ (uint64_t)ts.tv_sec ^ attempt * 0xbf58476d1ce4e5b9ULL;
    char suffix[NB__TMP_SUFFIX_LEN + 1];
    for (int i = 0; i < NB__TMP_SUFFIX_LEN; i++, x /= 36)
        suffix[i] = digits[x % 36];
    suffix[NB__TMP_SUFFIX_LEN] = '\0';
    snprintf(out, cap, "%s/%s%s", dir, NB__TMP_PREFIX, suffix);
}

static void notify(const char *tmp)
{
    if (nb__tmp_hook)
        nb__tmp_hook(tmp);
}

/* The directory of the target opened (its fd, or -1 with errno set), after the checks that the
   path is a regular file or nothing: *replacing says whether a file is there, *old its stat. */
static int open_target_dir(const char *path, const char *dir, const char *name, struct stat *old,
                           bool *replacing)
{
    /* the path as the kernel follows it: /dev/stdout on a pipe is a FIFO, never a file */
    if (stat(path, old) == 0 && !S_ISREG(old->st_mode))
        return -1;
    if (!*name) {
        errno = EISDIR;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    *replacing = fstatat(dfd, name, old, AT_SYMLINK_NOFOLLOW) == 0;
    bool refused = false;
    if (*replacing && S_ISLNK(old->st_mode)) {
        errno = ELOOP; /* a link appeared after it was followed: as O_NOFOLLOW would say */
        refused = true;
    } else if (*replacing && !S_ISREG(old->st_mode)) {
        refused = true; /* a device, FIFO, socket or directory is never replaced */
    }
    if (refused) {
        int e = errno;
        close(dfd);
        errno = e;
        return -1;
    }
    return dfd;
}

/* A new temporary file in dfd (its fd, or -1 with errno set); tmp gets its path. */
static int create_tmp(int dfd, char *tmp, size_t cap, const char *dir)
{
    int fd = -1;
    const char *tmp_base = tmp + strlen(dir) + 1;
    for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
        tmp_name(tmp, cap, dir, attempt);
        notify(tmp);
        /* 0666 & ~umask for a new file: the kernel applies the umask here */
        fd = openat(dfd, tmp_base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0)
            notify(NULL);
        if (fd < 0 && errno != EEXIST)
            return -1;
    }
    return fd;
}

/* The data written to fd, synced and closed (the replaced file's mode and owner kept). */
static bool write_and_close(int fd, const void *data, size_t size, const struct stat *old,
                            bool replacing)
{
    bool ok = true;
    if (replacing) { /* keep the replaced file's mode (and owner, where allowed) */
        ok = fchmod(fd, old->st_mode & 07777) == 0;
        if (fchown(fd, old->st_uid, old->st_gid) != 0) {
            /* only root may give a file away: an ordinary user's new file stays theirs */
        }
    }
    const unsigned char *p = data;
    for (size_t done = 0; ok && done < size;) {
        ssize_t w = write(fd, p + done, size - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    ok = ok && fsync(fd) == 0;
    return close(fd) == 0 && ok;
}

/* What the rename will replace, looked at now, in the directory opened above and without
   following a link: a link swapped in since is refused, a file is the guard's to judge. */
static bool still_replaceable(int dfd, const char *name, const char *path)
{
    struct stat now;
    if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0)
        return true;
    if (S_ISLNK(now.st_mode) || !S_ISREG(now.st_mode)) {
        errno = S_ISLNK(now.st_mode) ? ELOOP : EEXIST;
        return false;
    }
    if (nb__write_guard && !nb__write_guard(path, now.st_dev, now.st_ino)) {
        errno = EPERM;
        return false;
    }
    return true;
}

/* The temporary file renamed over the target (ok), or removed; errno kept on failure. */
static bool commit(int dfd, const char *tmp_base, const char *name, bool ok)
{
    if (!ok || renameat(dfd, tmp_base, dfd, name) != 0) {
        int e = errno;
        unlinkat(dfd, tmp_base, 0);
        notify(NULL);
        errno = e;
        return false;
    }
    notify(NULL);
    /* Make the rename itself durable; failure here does not undo it, so it is not an error. */
    fsync(dfd);
    return true;
}

/* The atomic write once the target's directory, its name and a path buffer are known. */
static nb_status write_in_dir(const char *path, const char *dir, const char *name, char *tmp,
                              size_t cap, const void *data, size_t size)
{
    struct stat old;
    bool replacing = false;
    int dfd = open_target_dir(path, dir, name, &old, &replacing);
    if (dfd < 0)
        return NB_ERR_IO;
    int fd = create_tmp(dfd, tmp, cap, dir);
    bool ok = fd >= 0 && write_and_close(fd, data, size, &old, replacing)
              && still_replaceable(dfd, name, path);
    ok = fd >= 0 && commit(dfd, tmp + strlen(dir) + 1, name, ok);
    int e = errno;
    close(dfd);
    errno = e;
    return ok ? NB_OK : NB_ERR_IO;
}

nb_status nb_write_file_atomic(const char *path, const void *data, size_t size)
{
    if (!path || (!data && size))
        return NB_ERR_NULL;
    if (!*path)
        return NB_ERR_ARG;
    char *target = nb__follow_links(path);
    char *dir = target ? dir_of(target) : NULL;
    const char *name = target ? base_of(target) : NULL;
    size_t cap = dir ? strlen(dir) + sizeof NB__TMP_PREFIX + NB__TMP_SUFFIX_LEN + 2 : 0;
    char *tmp = dir ? malloc(cap) : NULL;
    nb_status st;
    if (!tmp)
        st = target && dir ? NB_ERR_NOMEM : NB_ERR_IO;
    else
        st = write_in_dir(path, dir, name, tmp, cap, data, size);
    free(tmp);
    free(dir);
    free(target);
    return st;
}

int nb__probe_dir(const char *dir)
{
    size_t cap = strlen(dir) + sizeof NB__TMP_PREFIX + NB__TMP_SUFFIX_LEN + 2;
    char *tmp = malloc(cap);
    if (!tmp)
        return ENOMEM;
    int fd = -1, e = 0;
    for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
        tmp_name(tmp, cap, dir, attempt);
        notify(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        e = fd < 0 ? errno : 0;
        if (fd < 0)
            notify(NULL);
        if (fd < 0 && e != EEXIST)
            break;
    }
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
        notify(NULL);
    }
    free(tmp);
    return e;
}

nb_status nb__load_decoded(const char *path, size_t max_size, nb__prefix_fn check,
                           void *check_ctx, nb__decode_fn decode, void *obj)
{
    if (!path || !obj)
        return NB_ERR_NULL;
    unsigned char *data;
    size_t size;
    NB_TRY(nb__read_checked(path, max_size, check, check_ctx, &data, &size));
    nb_status st = decode(obj, data, size);
    free(data);
    return st;
}

nb_status nb__save_encoded(const char *path, nb__encode_fn encode, const void *obj)
{
    if (!path)
        return NB_ERR_NULL;
    void *data;
    size_t size;
    nb_status st = encode(obj, &data, &size);
    if (st != NB_OK)
        return st;
    st = nb_write_file_atomic(path, data, size);
    free(data);
    return st;
}
