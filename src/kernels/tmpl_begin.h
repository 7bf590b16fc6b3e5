/* One source, two precisions: opens a kernel template (kernels/<family>_t.h) for one element
   type.  The file that instantiates a template defines NB_PREC (32 or 64) and includes it:

       #define NB_PREC 32
       #include "kernels/flat_t.h"   // float:  nb__sgd, nb_argmax, ...
       #define NB_PREC 64
       #include "kernels/flat_t.h"   // double: nb__sgd_f64, nb_argmax_f64, ...

   Inside a template, NB_T is the element type and NB_FN(name) the instantiation's name: the
   float32 one keeps the name the library always had, the float64 one gains "_f64".  Every
   template includes this file first and kernels/tmpl_end.h last (which undefines all of it,
   NB_PREC included), so a template can be included again for the other type.  See
   docs/conventions.md ("One source, two precisions"). */
#ifndef NB_PREC
#error "define NB_PREC (32 or 64) before including a kernel template"
#endif

#include <cblas.h>
#include <stdint.h>

#if NB_PREC == 32
#define NB_T float
#define NB_FN(name) name
#define NB_GEMM cblas_sgemm
#define NB_UINT uint32_t     /* an element's bits */
#define NB_EXP_BITS 0x7f800000u
#elif NB_PREC == 64
#define NB_T double
#define NB_FN(name) name##_f64
#define NB_GEMM cblas_dgemm
#define NB_UINT uint64_t
#define NB_EXP_BITS 0x7ff0000000000000u
#else
#error "NB_PREC must be 32 or 64"
#endif
