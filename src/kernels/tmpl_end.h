/* Closes a kernel template (see kernels/tmpl_begin.h). */
#undef NB_T
#undef NB_FN
#undef NB_GEMM
#undef NB_UINT
#undef NB_EXP_BITS
#undef NB_PREC
