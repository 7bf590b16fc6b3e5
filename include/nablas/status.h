/* nablas: status codes.  Every public function that can fail returns one of these. */
#ifndef NABLAS_STATUS_H
#define NABLAS_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nb_status {
    NB_OK = 0,
    NB_ERR_NULL,        /* a required pointer argument (or a tensor's data) is NULL */
    NB_ERR_SHAPE,       /* tensor shapes do not fit together, or a tensor is empty */
    NB_ERR_ARG,         /* invalid value: unknown enum, non-finite or out-of-range number */
    NB_ERR_ALIAS,       /* an output tensor overlaps an input it must not overlap */
    NB_ERR_NOMEM,       /* memory allocation failed */
    NB_ERR_OVERFLOW,    /* a size computation would overflow size_t */
    NB_ERR_LOSS_ACT,    /* the loss does not fit the network's output activation */
    NB_ERR_STATE,       /* call out of order (e.g. backward without a forward) */
    NB_ERR_IO,          /* a file could not be opened, read, written or renamed */
    NB_ERR_BAD_MAGIC,   /* the file is not of the expected kind */
    NB_ERR_VERSION,     /* the file's format version is not supported */
    NB_ERR_TRUNCATED,   /* the file is shorter than its header says */
    NB_ERR_CHECKSUM,    /* the file's checksum does not match its contents */
    NB_ERR_CORRUPT,     /* the file's header or sizes are inconsistent or out of bounds */
    NB_ERR_PARSE,       /* a text field could not be parsed */
    NB_ERR_UNSUPPORTED, /* well-formed input using a feature nablas does not support, or a
                           feature this build of nablas was configured without */
    NB_ERR_NONFINITE,   /* a NaN or infinity where finite numbers are needed: a loss, gradient,
                           parameter or statistic (training stops on it; saving refuses it) */
    NB_ERR_LIMIT,       /* the call would exceed a memory or size limit set by the caller or
                           documented for the input */
    NB_ERR_CPU,         /* this CPU lacks the instructions the call needs (e.g. AVX512-BF16) */
    NB_ERR_MPI,         /* an MPI call failed, or another rank reported an error */
    NB_ERR_TYPE,        /* a tensor's element type (float32, float64) is not the one the call
                           takes, or tensors of one call mix element types */
    NB_STATUS_COUNT     /* number of codes; not a status */
} nb_status;

/* A short English message for every code (and for out-of-range values); never NULL.
   The string is static: do not free it. */
const char *nb_status_str(nb_status s);

#ifdef __cplusplus
}
#endif
#endif
