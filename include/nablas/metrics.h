/* nablas: regression metrics (RMSE, MAE and R² per target column and overall, accumulated in
   double, in the targets' own units) and classification metrics (the confusion matrix, and
   precision, recall, F1 and support per class with their averages, as scikit-learn's
   classification_report).

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

/* ---- classification -------------------------------------------------------------------- */

/* The classes of outputs with `cols` columns: cols, or 2 for one column (a 0.5 threshold). */
size_t nb_confusion_classes(size_t cols);

/* counts[t * k + p] = the rows of true class t predicted as class p, k = nb_confusion_classes
   (Y->cols).  Y: outputs (logits or probabilities; the class of a row is nb_class_of's), T:
   one-hot targets (or one 0/1 column) of the same shape.  counts (k * k, the caller's) is
   overwritten.  NB_ERR_NULL for a NULL argument, NB_ERR_SHAPE if the shapes differ or there
   are no rows, NB_ERR_OVERFLOW if k * k counts do not fit in memory's sizes; counts is written
   only on success. */
nb_status nb_confusion_compute(const nb_tensor *Y, const nb_tensor *T, size_t *counts);

/* Per class c (true class: rows; predicted: columns of the confusion matrix C):
     precision_c = C[c][c] / Σ_t C[t][c]     recall_c = C[c][c] / Σ_p C[c][p]
     F1_c = 2 · precision_c · recall_c / (precision_c + recall_c)   support_c = Σ_p C[c][p]
   A ratio with a zero denominator is 0 (scikit-learn's zero_division default).  The macro
   averages are the plain means over the k classes; the weighted ones weight each class by its
   support; accuracy is the trace over the total, as classification_report prints them. */
typedef struct nb_class_metrics {
    size_t classes;                   /* k */
    size_t total;                     /* rows counted (Σ support) */
    double *precision, *recall, *f1;  /* k values each, owned (nb_class_metrics_free) */
    size_t *support;                  /* k values, owned */
    double accuracy;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
} nb_class_metrics;

/* Frees the per-class arrays and zeroes m.  Safe on NULL and on a zeroed struct. */
void nb_class_metrics_free(nb_class_metrics *m);

/* *out = the metrics of the k x k confusion matrix `counts` (rows: true class, columns:
   predicted class, as nb_confusion_compute writes it); free them with nb_class_metrics_free.
   NB_ERR_NULL for a NULL argument, NB_ERR_ARG if k < 2 or the matrix counts no row,
   NB_ERR_OVERFLOW if the counts overflow their sum, NB_ERR_NOMEM.  *out is set only on
   success; counts is not modified. */
nb_status nb_class_metrics_compute(const size_t *counts, size_t k, nb_class_metrics *out);

#ifdef __cplusplus
}
#endif
#endif
