/* Whole-file reads for the loaders (the atomic writer is public, in nablas/data.h). */
#ifndef NB_IO_FILE_IO_H
#define NB_IO_FILE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include "nablas.h"

/* Reads the whole file into a malloc'd buffer (*data, *size set only on success).
   NB_ERR_IO if it cannot be opened or read, NB_ERR_OVERFLOW if larger than max_size. */
nb_status nb__read_file(const char *path, size_t max_size, unsigned char **data, size_t *size);

#endif
