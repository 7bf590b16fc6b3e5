/* What every source of the library shares: compiler switches, NB_TRY, argument checks and
   aligned allocation. */
#ifndef NB_CORE_BASE_H
#define NB_CORE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include "nablas/status.h"
#include "nablas/tensor.h"

/* ThreadSanitizer: its runtime starts after the dynamic loader has run the target_clones
   (ifunc) resolvers, which then crash on their instrumented code; a TSan build takes the
   baseline loops (tools/tsan.sh). */
#if defined(__SANITIZE_THREAD__)
#define NB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NB_TSAN 1
#endif
#endif

/* Hot loops compiled for AVX-512, AVX2 and baseline x86-64, picked at load time (GCC, ELF):
   the library is never built with -march=native.  -Dvector_isa=avx512|avx2|baseline builds
   one of the variants alone (NB_VECTOR_ISA_*), so that CI tests each on one machine
   (tools/clones.sh); such a library needs a CPU with that instruction set. */
#if defined(NB_VECTOR_ISA_AVX512)
#define NB_CLONES __attribute__((target("avx512f")))
#elif defined(NB_VECTOR_ISA_AVX2)
#define NB_CLONES __attribute__((target("avx2")))
#elif defined(NB_VECTOR_ISA_BASELINE)
#define NB_CLONES
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__ELF__) \
    && !defined(NB_TSAN)
#define NB_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NB_CLONES
#endif

/* GCC's vector extensions as the fast kernels use them (__builtin_shuffle among others, which
   clang lacks): with other compilers those kernels give way to the portable loops and BLAS. */
#if defined(__GNUC__) && !defined(__clang__)
#define NB_GCC_VECTORS 1
#endif

/* For helpers that must be inlined into each clone of the kernel calling them (vector helpers:
   an out-of-line call would pass vectors differently under each ISA's ABI). */
#define NB_INLINE static inline __attribute__((always_inline))

#define NB_TRY(expr)                  \
    do {                              \
        nb_status nb_try_ = (expr);   \
        if (nb_try_ != NB_OK)         \
            return nb_try_;           \
    } while (0)

/* A float32 tensor: NB_ERR_NULL for a NULL tensor or data, NB_ERR_TYPE for a float64 one,
   NB_ERR_SHAPE for an empty one, NB_ERR_OVERFLOW if its byte size does not fit size_t.  Every
   float32-only function checks its tensors with this (or nb__check_shape), so each of them
   refuses float64 tensors. */
nb_status nb__check_tensor(const nb_tensor *t);
/* As nb__check_tensor, then NB_ERR_SHAPE unless t is rows x cols. */
nb_status nb__check_shape(const nb_tensor *t, size_t rows, size_t cols);
/* The same checks for a tensor of element type dtype (NB_ERR_TYPE if it has the other one). */
nb_status nb__check_tensor_as(const nb_tensor *t, nb_dtype dtype);
nb_status nb__check_shape_as(const nb_tensor *t, size_t rows, size_t cols, nb_dtype dtype);
/* sizeof(float) or sizeof(double). */
size_t nb__dtype_size(nb_dtype d);
/* True if the memory of a and b overlaps (either may be NULL: no overlap). */
bool nb__overlap(const nb_tensor *a, const nb_tensor *b);
/* NB_ERR_OVERFLOW if any dimension does not fit the BLAS integer type. */
nb_status nb__check_blas_dims(size_t a, size_t b, size_t c);

/* 64-byte aligned, zero-filled allocation of n floats (NULL on failure or overflow). */
float *nb__alloc_floats(size_t n);
double *nb__alloc_doubles(size_t n);

/* Rows [*lo, *hi) of slice part of parts (part < parts) of n rows: contiguous, near-equal
   slices, the first n % parts one row longer (core/slice.c; threads and MPI ranks). */
void nb__slice(size_t n, size_t part, size_t parts, size_t *lo, size_t *hi);

#endif
