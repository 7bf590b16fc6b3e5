/* Plain stochastic gradient descent: P <- P - lr dP. */
#include <math.h>

#include "kernels/kernels.h"

NB_CLONES
void nb__sgd(float *restrict P, const float *restrict dP, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++)
        P[i] -= lr * dP[i];
}

nb_status nb_sgd_step(nb_tensor *P, const nb_tensor *dP, float lr)
{
    NB_TRY(nb__check_tensor(P));
    NB_TRY(nb__check_tensor(dP));
    if (!isfinite(lr) || lr < 0.0f)
        return NB_ERR_ARG;
    NB_TRY(nb__check_shape(dP, P->rows, P->cols));
    if (nb__overlap(P, dP))
        return NB_ERR_ALIAS;
    nb__sgd(P->data, dP->data, P->rows * P->cols, lr);
    return NB_OK;
}
