/* safetensors import: the dense layers found in a state_dict's tensor names (st_names.c). */
#ifndef NB_PERSIST_ST_NAMES_H
#define NB_PERSIST_ST_NAMES_H

#include "persist/st_format.h"

typedef struct nb__st_layer {
    const nb__st_tensor *w, *b; /* b may be NULL: no bias */
    size_t in, out;
} nb__st_layer;

/* Says why an import stopped (err may be NULL) and returns st. */
nb_status nb__st_fail(nb_st_error *err, nb_status st, const char *key, const char *fmt, ...);

/* The layers of f as names says (NULL: natural order, nothing skipped), their shapes checked
   against each other.  n_layers: the number expected (0: any).  *L (malloc'd, *n entries) is
   set only on success. */
nb_status nb__st_layers(const nb__st_file *f, const nb_st_names *names, size_t n_layers,
                        nb__st_layer **L, size_t *n, nb_st_error *err);

#endif
