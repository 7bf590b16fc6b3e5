/* The model's own version-2 sections: target standardisation (tag 1), feature column names
   (tag 2) and target column names (tag 3).  Payloads in docs/model-format.md. */
#ifndef NB_IO_MODEL_META_H
#define NB_IO_MODEL_META_H

#include <stdbool.h>
#include "persist/model_sections.h"

#define NB__META_SECTIONS 3

/* Checks n names of a model (class, feature or target column names) for saving: each present
   (NB_ERR_NULL), not empty and at most NB_MODEL_MAX_NAME bytes (NB_ERR_ARG); *bytes (may be
   NULL) gets their lengths' sum.  The array itself must not be NULL. */
nb_status nb__names_check(const char *const *names, size_t n, uint64_t *bytes);
/* Checks the version-2 fields of m for saving (NB_ERR_NULL / NB_ERR_ARG / NB_ERR_SHAPE). */
nb_status nb__meta_check(const nb_model *m);
/* Encodes the sections m needs into out (room for NB__META_SECTIONS), *n of them, each payload
   malloc'd: release with nb__meta_release. */
nb_status nb__meta_encode(const nb_model *m, nb__section *out, size_t *n);
void nb__meta_release(nb__section *s, size_t n);

/* The flags tag (1..3) is written with. */
uint32_t nb__meta_flags(uint32_t tag);
/* Checks a loaded section with a tag in 1..3 against the network's shape (NB_ERR_CORRUPT). */
nb_status nb__meta_validate(const nb__section *s, size_t inputs, size_t outputs, nb_loss loss,
                            bool has_classes);
/* Builds the field of m that a validated section describes. */
nb_status nb__meta_build(nb_model *m, const nb__section *s);

#endif
