/* Whole-file reads and atomic whole-file writes, shared by the model, NPY and CLI writers.
   An atomic write goes to a temporary file in the target's directory (rename is atomic only
   within one file system), is flushed and fsync'd, and only then renamed over the target; on
   any failure the temporary file is removed and the target is left as it was. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file_io.h"

nb_status nb__read_file(const char *path, size_t max_size, unsigned char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NB_ERR_IO;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    nb_status st = buf ? NB_OK : NB_ERR_NOMEM;
    while (st == NB_OK) {
        if (n == cap) {
            if (cap > max_size || cap > SIZE_MAX / 2) {
                st = NB_ERR_OVERFLOW;
                break;
            }
            unsigned char *nbuf = realloc(buf, cap * 2);
            if (!nbuf) {
                st = NB_ERR_NOMEM;
                break;
            }
            buf = nbuf;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = NB_ERR_IO;
            break;
        }
    }
    fclose(f);
    if (st == NB_OK && n > max_size)
        st = NB_ERR_OVERFLOW;
    if (st != NB_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = n;
    return NB_OK;
}

/* The directory part of path ("." if none), for the temporary file and the directory fsync. */
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

nb_status nb_write_file_atomic(const char *path, const void *data, size_t size)
{
    if (!path || (!data && size))
        return NB_ERR_NULL;
    if (!*path)
        return NB_ERR_ARG;
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    char *dir = dir_of(path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return NB_ERR_NOMEM;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp-XXXXXX", 12);
    nb_status st = NB_ERR_IO;
    int fd = mkstemp(tmp);
    if (fd < 0)
        goto out;
    fchmod(fd, 0644); /* mkstemp makes 0600; a saved model is an ordinary file */
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        goto out;
    }
    bool ok = (size == 0 || fwrite(data, 1, size, f) == size);
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        goto out;
    }
    /* Make the rename itself durable; failure here does not undo it, so it is not an error. */
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    st = NB_OK;
out:
    free(tmp);
    free(dir);
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
