/* Whole-file reads for the loaders (the atomic writer is public, in nablas/data.h). */
#ifndef NB_IO_FILE_IO_H
#define NB_IO_FILE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include "nablas.h"

/* Reads the whole file into a malloc'd buffer (*data, *size set only on success).
   NB_ERR_IO if it cannot be opened or read, NB_ERR_OVERFLOW if larger than max_size. */
nb_status nb__read_file(const char *path, size_t max_size, unsigned char **data, size_t *size);

/* The one save path of the file formats: encode obj into a malloc'd buffer, write it to path
   atomically (nb_write_file_atomic), free the buffer. */
typedef nb_status (*nb__encode_fn)(const void *obj, void **data, size_t *size);
nb_status nb__save_encoded(const char *path, nb__encode_fn encode, const void *obj);

#endif
