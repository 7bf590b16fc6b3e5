/* gzip input: recognising it and inflating a whole buffer with a limit on the output, for the
   readers that take compressed text (CSV). */
#ifndef NB_DATA_GZIP_H
#define NB_DATA_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include "nablas/data.h"

/* Whether the n bytes at b begin with the gzip magic bytes 1f 8b. */
bool nb__is_gzip(const unsigned char *b, size_t n);

/* Inflates the gzip data in[0..n) (one member or several, concatenated as `cat a.gz b.gz`
   makes them) into *out, malloc'd with a NUL after its *out_size bytes; both are set only on
   success.  Stops as soon as the output passes max_out bytes (NB_ERR_LIMIT: a decompression
   bomb costs at most max_out + 1 bytes of memory) and, with text, at the first NUL byte it
   produces (NB_ERR_PARSE: binary data).  NB_ERR_TRUNCATED: the data end inside a member;
   NB_ERR_PARSE: not gzip data, a corrupt stream or a failed CRC, bytes after the last member;
   NB_ERR_NOMEM; NB_ERR_NULL.  err (may be NULL) says why (line and column 0). */
nb_status nb__gunzip(unsigned char **out, size_t *out_size, const unsigned char *in, size_t n,
                     size_t max_out, bool text, nb_io_error *err);

#endif
