/* The CSV readers' check for binary input (csv.c), shared with the CLI's standard input. */
#ifndef NB_DATA_CSV_NUL_H
#define NB_DATA_CSV_NUL_H

#include <stddef.h>
#include "nablas/data.h"

/* Scans the bytes b[*done..n) of a growing buffer for a NUL byte (binary data, e.g. /dev/zero),
   so that such input fails after a few kilobytes: NB_ERR_PARSE with *nul_at its offset in b;
   else NB_OK and *done = n. */
nb_status nb__csv_nul_scan(const unsigned char *b, size_t n, size_t *done, size_t *nul_at);

#endif
