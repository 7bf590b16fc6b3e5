/* nablas: model files.  A model is a network plus what is needed to use it on new data: the
   loss it was trained with, an optional input standardisation, optional class names, and
   (format version 2) an optional target standardisation and the names of the feature and
   target columns it was trained on.
   The file format is documented byte by byte in docs/model-format.md: explicit little-endian,
   versioned, CRC-32 checked.

   Saving is atomic: a temporary file in the same directory is written, flushed, fsync'd and
   renamed over the target, so a failed or interrupted save leaves the previous file intact.
   Loading validates everything (magic, version, bounds with overflow-checked arithmetic, total
   length, checksum, then the values) before building anything; each failure has its own
   status; on failure the outputs are left untouched. */
#ifndef NABLAS_MODEL_H
#define NABLAS_MODEL_H

#include <stdint.h>
#include "net.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The newest format version this library reads and writes.  A model with nothing that needs
   version 2 (no target standardisation, no column names) is still written as version 1, so
   that older readers keep reading it; both versions load. */
#define NB_MODEL_FORMAT_VERSION 2u
#define NB_MODEL_MAX_LAYERS 4096u       /* a file with more layers is corrupt */
#define NB_MODEL_MAX_WIDTH 0x7fffffffu  /* widths must fit BLAS's 32-bit integers */
#define NB_MODEL_MAX_CLASSES 65536u
#define NB_MODEL_MAX_NAME 255u          /* bytes per class or column name */

/* Ownership: a loaded model owns net, norm and class_names (free with nb_model_free).
   For saving, the caller fills the fields with its own objects; nothing is taken over. */
typedef struct nb_model {
    nb_net *net;
    nb_loss loss;
    nb_norm *norm;      /* input standardisation, or NULL */
    size_t n_classes;   /* 0, or == the network's outputs */
    char **class_names; /* n_classes names (1..NB_MODEL_MAX_NAME bytes, no NUL), or NULL */
    /* Version 2.  The network then predicts standardised targets: a prediction y' means
       y = y' * std + mean per output column.  Only with NB_LOSS_MSE. */
    nb_norm *target_norm;     /* output (target) standardisation, or NULL */
    size_t n_feature_names;   /* 0, or == the network's inputs */
    char **feature_names;     /* names of the input columns (as class names), or NULL */
    size_t n_target_names;    /* 0, or == outputs; 1 (the label column) with class names */
    char **target_names;      /* names of the target columns, or NULL */
    /* Filled by the loaders, ignored by the savers: */
    uint32_t version;   /* the file's format version (1 or 2) */
    uint32_t crc32;     /* the file's checksum (verified) */
    size_t skipped_sections; /* optional version-2 sections this library did not know */
} nb_model;

/* Frees what a loader put in m and zeroes it.  Safe on NULL and on a zeroed model. */
void nb_model_free(nb_model *m);

/* NB_ERR_NONFINITE if a parameter or the standardisation holds a NaN or an infinity (such a
   model could only predict NaN; nothing is written).  The path rules are
   nb_write_file_atomic's. */
nb_status nb_model_save(const nb_model *m, const char *path);
/* The file's bytes in a malloc'd buffer (free with free()). */
nb_status nb_model_save_mem(void **data, size_t *size, const nb_model *m);

/* *m is set only on success.  NB_ERR_IO (cannot read), NB_ERR_BAD_MAGIC, NB_ERR_VERSION,
   NB_ERR_TRUNCATED (shorter than its header says, including every proper prefix of a valid
   file), NB_ERR_CORRUPT (sizes out of bounds or inconsistent, trailing bytes, bad values such
   as a non-finite parameter or standardisation), NB_ERR_CHECKSUM, NB_ERR_UNSUPPORTED (a
   required section this library does not know), NB_ERR_NOMEM. */
nb_status nb_model_load(nb_model *m, const char *path);
nb_status nb_model_load_mem(nb_model *m, const void *data, size_t size);

/* Shorthands without class names.  norm may be NULL.  On load, loss and norm may be NULL
   (not wanted); *norm becomes NULL when the file has no standardisation.  A model with a
   target standardisation gives NB_ERR_UNSUPPORTED on load (its network answers in
   standardised units, which the shorthand could not say): load it with nb_model_load. */
nb_status nb_net_save(const nb_net *net, nb_loss loss, const nb_norm *norm, const char *path);
nb_status nb_net_load(nb_net **net, nb_loss *loss, nb_norm **norm, const char *path);
nb_status nb_net_load_mem(nb_net **net, nb_loss *loss, nb_norm **norm, const void *data,
                          size_t size);

#ifdef __cplusplus
}
#endif
#endif
