/* nablas: getting data in and out: per-feature standardisation, a CSV reader for numeric
   tables, an NPY (NumPy) reader and writer, and an atomic file writer.

   Ownership.  Every object these functions create (nb_norm, the tensors and names inside an
   nb_dataset, an NPY tensor) belongs to the caller, who releases it with the matching free
   function.  Outputs are set only on success; on failure they are left untouched.
   The library never prints: errors come back as a status, and the CSV reader also fills an
   nb_io_error with the line, the column and the reason. */
#ifndef NABLAS_DATA_H
#define NABLAS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- standardisation ----------------------------------------------------------------------- */

/* x' = (x - mean) / std per feature (column).  Opaque; created by fit or from values. */
typedef struct nb_norm nb_norm;

/* Mean and (population) standard deviation of every column of X, accumulated in double.
   A column whose std is not > 1e-12 (constant, or nearly so) gets std 1, so that it becomes
   (x - mean) instead of a division by zero.  NB_ERR_ARG if X holds a non-finite value. */
nb_status nb_norm_fit(nb_norm **out, const nb_tensor *X);
/* From given values: std[j] must be finite and > 0, mean[j] finite (else NB_ERR_ARG). */
nb_status nb_norm_create(nb_norm **out, size_t features, const float *mean, const float *std);
void nb_norm_free(nb_norm *n); /* NULL is a no-op */

size_t nb_norm_features(const nb_norm *n);    /* 0 if NULL */
const float *nb_norm_mean(const nb_norm *n);  /* features values, owned by n; NULL if n is NULL */
const float *nb_norm_std(const nb_norm *n);

/* In place: X <- (X - mean) / std, row by row.  X has nb_norm_features columns. */
nb_status nb_norm_apply(const nb_norm *n, nb_tensor *X);
/* Y = (X - mean) / std, Y the caller's (same shape as X; may be X itself). */
nb_status nb_norm_apply_to(const nb_norm *n, const nb_tensor *X, nb_tensor *Y);
/* The inverse, in place: Y <- Y * std + mean, row by row (e.g. standardised predictions back
   to the targets' units).  Y has nb_norm_features columns. */
nb_status nb_norm_unapply(const nb_norm *n, nb_tensor *Y);

/* ---- data sets ----------------------------------------------------------------------------- */

/* What a reader found: features, targets and (for a class label column) the class names. */
typedef struct nb_dataset {
    nb_tensor X;          /* rows x features (nb_tensor_alloc'd) */
    nb_tensor T;          /* rows x targets; data == NULL when no targets were asked for */
    size_t n_classes;     /* > 0 when T is one-hot classes from a label column */
    char **class_names;   /* n_classes strings (class k is column k of T), else NULL */
    size_t n_features;    /* == X.cols */
    char **feature_names; /* n_features strings from the header, or NULL without a header */
    size_t n_target_names; /* target columns (or 1: the label column) named by the header */
    char **target_names;   /* their header names in the order asked, or NULL */
} nb_dataset;

/* Frees everything in d and zeroes it.  Safe on NULL and on a zeroed dataset. */
void nb_dataset_free(nb_dataset *d);

/* The validation split: a seeded random n_val of the rows of X (and T) go to Xv (Tv), the
   others, in the shuffled order, to Xt (Tt); the four are nb_tensor_alloc'd (free them with
   nb_tensor_free), and set only on success.  The order is nb_rng_shuffle's for a seed derived
   from `seed` (so that it differs from the training order of the same seed).  T may be NULL
   (then Tt and Tv are left alone).  NB_ERR_SHAPE unless 0 < n_val < rows and T has X's rows. */
nb_status nb_split_rows(nb_tensor *Xt, nb_tensor *Tt, nb_tensor *Xv, nb_tensor *Tv,
                        const nb_tensor *X, const nb_tensor *T, size_t n_val, uint64_t seed);

/* Where and why reading failed.  line and column are 1-based (0 if not about one place). */
typedef struct nb_io_error {
    size_t line, column;
    char message[200];
} nb_io_error;

/* ---- CSV ------------------------------------------------------------------------------------ */

/* The format read: fields separated by `delimiter`; a field may be quoted with " (a doubled ""
   inside is one "), and may then hold delimiters and line breaks.  Line ends are LF, CRLF or
   CR.
   Lines that are empty or blank, and lines whose first non-blank character is '#', are
   skipped.  Unquoted fields are trimmed of spaces and tabs.  Every row must have as many fields
   as the first.  Every feature and target field must be a finite number (strtod in the C
   locale); an empty field is a missing value, which is an error.

   Targets.  label_column names a column of class labels (strings or integers) that become
   one-hot targets; target_columns lists numeric target columns (regression); at most one of
   them may be set; with neither, every column is a feature and T is empty.  A column is given
   by its header name or by its 0-based index (negative counts from the end: -1 is the last).
   Classes: if every label is a non-negative integer up to 65535 the classes are 0..max (names
   "0", "1", ...); otherwise the distinct labels in byte order.  `classes` fixes the class list
   instead (e.g. the one a model was trained with); a label outside it is an error. */
typedef struct nb_csv_opts {
    char delimiter;             /* ',' if 0 */
    bool header;                /* the first row names the columns */
    const char *label_column;   /* NAME or INDEX, or NULL */
    const char *target_columns; /* comma-separated NAMEs or INDEXes, or NULL */
    const char *const *classes; /* fixed class names, or NULL */
    size_t n_classes;
} nb_csv_opts;

/* Defaults: ',', header row, no targets, classes derived. */
nb_csv_opts nb_csv_opts_default(void);

/* The largest CSV input nb_csv_read takes (1 GiB): the parsed table needs a few times the
   text's size in memory; larger tables belong in .npy files. */
#define NB_CSV_MAX_BYTES ((size_t)1 << 30)

/* Reads a CSV file / a buffer of len bytes into *out.  err may be NULL.
   NB_ERR_IO: the file cannot be read; NB_ERR_PARSE: bad content (err says where and why),
   including a header naming two columns alike, a hexadecimal number (0x10: strtod would
   read it, a CSV means decimal), a file without data rows and binary data (a NUL byte: the file reader stops at
   the first chunk that holds one); NB_ERR_LIMIT: the file is larger than NB_CSV_MAX_BYTES
   (read in chunks: a pipe or device is read only that far); NB_ERR_ARG: bad options (e.g. an
   unknown column).
   gzip.  Input that begins with the gzip magic bytes 1f 8b (a .csv.gz file, or such bytes on a
   pipe) is decompressed first, one member or several concatenated, and the text it holds is
   read as above (line and column count in that text).  The decompressed text has the same
   limit, NB_ERR_LIMIT beyond NB_CSV_MAX_BYTES (the reader stops there: a decompression bomb
   costs no more memory than a plain file at the limit), and a NUL byte in it stops the reader
   (NB_ERR_PARSE); NB_ERR_TRUNCATED: the compressed data end early; NB_ERR_PARSE: corrupt data,
   a failed CRC, bytes after the last member. */
nb_status nb_csv_read(nb_dataset *out, const char *path, const nb_csv_opts *opts, nb_io_error *err);
nb_status nb_csv_read_mem(nb_dataset *out, const char *text, size_t len, const nb_csv_opts *opts,
                          nb_io_error *err);

/* ---- NPY ------------------------------------------------------------------------------------ */

/* Reads a .npy array (format 1.0, 2.0 or 3.0; C order; little-endian or byte-sized dtypes
   f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1) converted to float32.  A 1-D array of n becomes
   n x 1, a 2-D array rows x cols.  *out is nb_tensor_alloc'd (free with nb_tensor_free).
   NB_ERR_BAD_MAGIC, NB_ERR_VERSION, NB_ERR_CORRUPT (bad header), NB_ERR_TRUNCATED,
   NB_ERR_UNSUPPORTED (fortran_order, big-endian, other dtypes, 0-D or > 2-D), NB_ERR_SHAPE
   (an empty array). */
nb_status nb_npy_read(nb_tensor *out, const char *path);
/* As nb_npy_read; on NB_ERR_UNSUPPORTED err (if not NULL) says why: the dtype, Fortran order,
   big-endian data, the number of dimensions (its message is empty for other statuses). */
nb_status nb_npy_read_err(nb_tensor *out, const char *path, nb_io_error *err);
nb_status nb_npy_read_mem(nb_tensor *out, const void *data, size_t size);

/* Writes t as a 2-D little-endian float32 array (format 1.0), atomically (the object first,
   the path last, as every saver).  NB_ERR_IO (errno says why) leaves any file at path as it
   was. */
nb_status nb_npy_write(const nb_tensor *t, const char *path);
/* The same bytes into a malloc'd buffer (free with free()). */
nb_status nb_npy_write_mem(void **data, size_t *size, const nb_tensor *t);
/* Writes an array of ndim (1..NB_NPY_MAX_DIMS) dimensions, shape[0] x ... x shape[ndim-1],
   of the float32 values in C order (e.g. a Jacobian, rows x outputs x inputs), as
   nb_npy_write.  NB_ERR_SHAPE: ndim out of range or a zero dimension; NB_ERR_OVERFLOW. */
#define NB_NPY_MAX_DIMS 8
nb_status nb_npy_write_nd(const float *values, size_t ndim, const size_t *shape, const char *path);
nb_status nb_npy_write_nd_mem(void **data, size_t *size, const float *values, size_t ndim,
                              const size_t *shape);

/* ---- files ---------------------------------------------------------------------------------- */

/* Writes size bytes to path atomically: a temporary file (nablas-tmp-XXXXXX) in the same
   directory, fsync'd and renamed over path.  On failure (NB_ERR_IO, errno says why) the
   temporary file is removed and any previous file at path is left intact.  A symbolic link is
   followed and its target replaced, except where the kernel would not follow it either
   (fs.protected_symlinks: a link in a sticky, world-writable directory owned by neither the
   effective user nor the directory's owner; NB_ERR_IO, errno EACCES); an existing device,
   FIFO, socket or directory is refused (NB_ERR_IO).  The target's directory is opened once
   and the name looked at again just before the rename, without following links: a link that
   appeared there since is refused (NB_ERR_IO, errno ELOOP).  A new file gets 0666 & ~umask, a
   replaced one keeps its mode. */
nb_status nb_write_file_atomic(const char *path, const void *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
