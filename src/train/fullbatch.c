/* What the two full-batch trainers share: stop-reason names and the checks of their data. */
#include <math.h>

#include "train/fullbatch.h"

const char *nb_fb_stop_name(nb_fb_stop stop)
{
    static const char *const names[NB_FB_STOP_COUNT] = {
        "iterations", "goal", "gradient", "mu_max", "validation",
        "change", "direction", "evals", "callback",
    };
    return (unsigned)stop < (unsigned)NB_FB_STOP_COUNT ? names[stop] : NULL;
}

nb_status nb__fb_check_data(const nb_net *net, const nb_tensor *X, const nb_tensor *T)
{
    if (!net || !X || !T)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    NB_TRY(nb__check_tensor(T));
    if (X->cols != nb_net_inputs(net))
        return NB_ERR_SHAPE;
    NB_TRY(nb__check_shape(T, X->rows, nb_net_outputs(net)));
    return nb__check_blas_dims(X->rows, nb_net_num_params(net), 0);
}

bool nb__fb_finite(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * 0.0; /* NaN if any element is NaN or infinite */
    return s == 0.0;
}
