/* Thread settings: nablas' kernels run on the caller's thread; OpenBLAS owns the others. */
#include <cblas.h>

#include "nablas/threads.h"

nb_status nb_set_threads(int n)
{
    if (n < 1)
        return NB_ERR_ARG;
    openblas_set_num_threads(n);
    return NB_OK;
}

int nb_get_threads(void) { return openblas_get_num_threads(); }

const char *nb_blas_corename(void)
{
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}
