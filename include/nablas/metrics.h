/* nablas: regression metrics: RMSE, MAE and R² per target column and overall, accumulated in
   double, in the targets' own units.

   Definitions (n rows, column j, prediction y, target t, t̄_j the column's mean):
     RMSE_j = sqrt(Σ (y - t)² / n)        MAE_j = Σ |y - t| / n
     R²_j   = 1 - Σ (y - t)² / Σ (t - t̄_j)²   (a constant target column gets 1 when predicted
              exactly and 0 otherwise, as scikit-learn's r2_score does)
   Overall: RMSE and MAE over all n · cols values; R² the mean of the columns' R² (scikit-learn's
   default 'uniform_average'). */
#ifndef NABLAS_METRICS_H
#define NABLAS_METRICS_H

#include "net.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_regression_metrics {
    size_t rows, cols;
    double *rmse, *mae, *r2;           /* cols values each, owned (nb_regression_metrics_free) */
    double rmse_all, mae_all, r2_all;  /* over all columns */
} nb_regression_metrics;

/* Frees the per-column arrays and zeroes m.  Safe on NULL and on a zeroed struct. */
void nb_regression_metrics_free(nb_regression_metrics *m);

/* *out = the metrics of predictions Y against targets T (same shape, rows >= 1); free them
   with nb_regression_metrics_free.  NB_ERR_NULL for a NULL argument, NB_ERR_SHAPE if the shapes
   differ, NB_ERR_ARG if T holds a non-finite value, NB_ERR_NONFINITE if Y does,
   NB_ERR_NOMEM.  *out is set only on success. */
nb_status nb_regression_metrics_compute(const nb_tensor *Y, const nb_tensor *T,
                                        nb_regression_metrics *out);

/* Runs the network on X (norm, if not NULL, standardises X first, as nb_infer_ctx does) and
   measures against T in the targets' units: when target_norm is not NULL the network predicts
   standardised targets, and its outputs are mapped back (y * std + mean) before comparing.
   X is not modified; the work is done in chunks, so memory does not grow with the rows.
   *out (free with nb_regression_metrics_free) is set only on success.  NB_ERR_NULL for a NULL
   net, X, T or out; NB_ERR_SHAPE if X, T, the network and the standardisations disagree; and
   the statuses of nb_regression_metrics_compute. */
nb_status nb_net_evaluate_regression(const nb_net *net, const nb_norm *norm,
                                     const nb_norm *target_norm, const nb_tensor *X,
                                     const nb_tensor *T, nb_regression_metrics *out);

#ifdef __cplusplus
}
#endif
#endif
