/* Shared helpers for the io tests: small networks, scratch directories, file bytes. */
#ifndef IO_COMMON_H
#define IO_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "nablas.h"

/* A 3-input network 3-5-4-2 (relu, tanh, identity), parameters from seed. */
nb_net *io_small_net(uint64_t seed);
/* rows x cols of U[-2, 2) from seed (caller frees with nb_tensor_free). */
nb_tensor io_random(size_t rows, size_t cols, uint64_t seed);
/* A fresh scratch directory (never removed: tests run in /tmp). */
const char *io_tmpdir(void);
/* dir/name in a static buffer that the next call overwrites. */
const char *io_path(const char *dir, const char *name);
/* Number of entries in dir besides . and .. */
size_t io_count_entries(const char *dir);
/* Writes / reads a whole file; read returns a malloc'd buffer or NULL. */
void io_write(const char *path, const void *data, size_t size);
void *io_read(const char *path, size_t *size);

#endif
