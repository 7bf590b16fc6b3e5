/* safetensors metadata of a model: loss, standardisations and names as nablas.* entries
   (st_meta.c). */
#ifndef NB_PERSIST_ST_META_H
#define NB_PERSIST_ST_META_H

#include <jansson.h>
#include "persist/st_names.h"

/* Adds m's loss, names and (with_norms) standardisations to the metadata object meta.
   NB_ERR_SHAPE if a list does not fit m->net; NB_ERR_UNSUPPORTED for a name that is not
   UTF-8; NB_ERR_NOMEM. */
nb_status nb__st_meta_put(json_t *meta, const nb_model *m, bool with_norms);

/* Whether f's metadata holds a standardisation. */
bool nb__st_meta_has_norm(const nb__st_file *f);

/* Fills m's loss, standardisations and names from f's metadata (m->net set, the rest zero);
   on failure m's fields other than net are freed and zeroed again. */
nb_status nb__st_meta_get(nb_model *m, const nb__st_file *f, nb_st_error *err);

/* Copies the n strings of the JSON array a (not taken) into *out, a new array of n strings of
   1..NB_MODEL_MAX_NAME bytes without NUL, freed by nb__meta_names_free; also for ONNX
   metadata (onnx_meta.c). NB_ERR_CORRUPT with *bad the index of the first string that is
   not such a name; NB_ERR_NOMEM; on failure *out is untouched. */
nb_status nb__meta_names_copy(const json_t *a, size_t n, char ***out, size_t *bad);

/* Frees names[0..n) and names (NULL is fine). */
void nb__meta_names_free(char **names, size_t n);

#endif
