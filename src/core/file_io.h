/* Bounded reads for the loaders, and what the CLI needs to know about the atomic writer (which
   is public: nb_write_file_atomic in nablas/data.h). */
#ifndef NB_IO_FILE_IO_H
#define NB_IO_FILE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "nablas/status.h"

/* A format's verdict on the first n bytes of its input (eof: there are no more): NB_OK for a
   complete, valid file, NB_ERR_TRUNCATED for a proper prefix (read on), any other status to
   stop reading at once.  ctx is the caller's. */
typedef nb_status (*nb__prefix_fn)(const unsigned char *b, size_t n, bool eof, void *ctx);

/* Reads path (a regular file, pipe or device; not a directory) in doubling chunks, asking
   check after each, and stops as soon as it says anything but NB_ERR_TRUNCATED.  NB_ERR_IO if
   the input cannot be opened or read, NB_ERR_LIMIT past max_size bytes, else check's status.
   With check NULL the whole input is read (up to max_size).  On success *data (malloc'd) and
   *size hold the bytes read. */
nb_status nb__read_checked(const char *path, size_t max_size, nb__prefix_fn check, void *ctx,
                           unsigned char **data, size_t *size);

/* path with every symbolic link along its last component followed (relative links resolved
   against the link's directory), malloc'd; path itself (a copy) if it is not a link or does
   not exist; NULL on a loop (errno ELOOP), an unreadable link, a link the kernel's
   fs.protected_symlinks rule forbids following (errno EACCES: see nb__link_protected) or no
   memory. */
char *nb__follow_links(const char *path);
/* Whether path is a symbolic link that the kernel's fs.protected_symlinks rule forbids
   following: in a sticky, world-writable directory (/tmp), a link owned by neither the
   process's effective user nor the directory's owner. */
bool nb__link_protected(const char *path);

/* Creates and removes a temporary file in dir, as the atomic writer would: 0, or the errno
   that refused it (a read-only or pseudo file system such as /proc or /sys). */
int nb__probe_dir(const char *dir);

/* Asked by the atomic writer just before it renames its temporary file over an existing file
   (path: as the writer was given it; dev/ino: the file about to be replaced, found without
   following links): false refuses the write (NB_ERR_IO, errno EPERM), so that a link changed
   during a run cannot make a save replace an input.  NULL (the default): no check.  Not for
   concurrent writers. */
typedef bool (*nb__write_guard_fn)(const char *path, dev_t dev, ino_t ino);
extern nb__write_guard_fn nb__write_guard;

/* The atomic writer's temporary files: DIR/nablas-tmp-XXXXXX, the X from [a-z0-9]. */
#define NB__TMP_PREFIX "nablas-tmp-"
enum { NB__TMP_SUFFIX_LEN = 6 };

/* Called with the temporary file's path just before it is created, and with NULL once it has
   been renamed or removed: the CLI stores the path for its SIGINT/SIGTERM handler, which
   removes the file.  NULL (the default): no calls.  Not for concurrent writers. */
typedef void (*nb__tmp_hook_fn)(const char *tmp_path);
extern nb__tmp_hook_fn nb__tmp_hook;

/* The public atomic writer (nablas/data.h, whose contract it follows), declared again here so
   that core, which does not see the data layer's header, compiles it against its prototype. */
nb_status nb_write_file_atomic(const char *path, const void *data, size_t size);

/* The one save path of the file formats: encode obj into a malloc'd buffer, write it to path
   atomically (nb_write_file_atomic), free the buffer. */
typedef nb_status (*nb__encode_fn)(const void *obj, void **data, size_t *size);
nb_status nb__save_encoded(const char *path, nb__encode_fn encode, const void *obj);

/* The one load path of the file formats: read path (nb__read_checked with check and its ctx,
   at most max_size bytes), decode the bytes into obj, free them.  NB_ERR_NULL if path or obj is
   NULL. */
typedef nb_status (*nb__decode_fn)(void *obj, const unsigned char *data, size_t size);
nb_status nb__load_decoded(const char *path, size_t max_size, nb__prefix_fn check,
                           void *check_ctx, nb__decode_fn decode, void *obj);

#endif
