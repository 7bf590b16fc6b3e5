/* nablas: prediction in one call on a loaded model, in the user's units, as `nablas predict`
   writes it.

   A model (include/nablas/model.h) knows more than its network: the input standardisation,
   the target standardisation, the loss and the class names.  A predictor applies all of it:
   inputs are standardised as in training, regression outputs come back in the targets' units
   (the target standardisation undone), softmax cross-entropy classifiers give the softmax
   probabilities of each class (rows sum to 1), and nb_predictor_classes gives each row's class
   index (into m->class_names when the model has them).  Binary cross-entropy models give their
   sigmoid outputs, which are probabilities already.

   Threads: a predictor holds its own workspace and only reads the model, so several threads
   may predict with one model at once, each with its own predictor; one predictor must not be
   used by two threads at once.  After nb_predictor_create nothing allocates.  The model must
   outlive its predictors and stay unchanged while they run. */
#ifndef NABLAS_PREDICT_H
#define NABLAS_PREDICT_H

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_predictor nb_predictor;

/* A predictor for m, processing up to max_batch rows at a time (any number of rows per call).
   NB_ERR_NULL (out, m or m->net NULL), NB_ERR_SHAPE (max_batch 0, or a standardisation whose
   width is not the network's), NB_ERR_OVERFLOW, NB_ERR_NOMEM; *out is set only on success. */
nb_status nb_predictor_create(nb_predictor **out, const nb_model *m, size_t max_batch);
void nb_predictor_free(nb_predictor *p); /* NULL is a no-op */

/* Y (rows x the network's outputs, caller's memory) = the model's answer for X (rows x
   inputs, the user's units), as above.  NB_ERR_NULL, NB_ERR_SHAPE (wrong widths, or Y not
   rows x outputs), NB_ERR_ALIAS (X and Y overlap).  A non-finite input gives non-finite
   outputs in its row only. */
nb_status nb_predictor_run(nb_predictor *p, const nb_tensor *X, nb_tensor *Y);

/* classes[i] (rows entries, caller's memory) = the class of row i of X: the index of the
   largest output (the first of equal maxima), or for one output 1 if it is >= 0.5, else 0
   (nb_class_of).  NB_ERR_NULL, NB_ERR_SHAPE, NB_ERR_STATE (not a classifier: a model without
   class names whose loss is MSE). */
nb_status nb_predictor_classes(nb_predictor *p, const nb_tensor *X, size_t *classes);

/* The same in double precision, for callers whose data are doubles (the network still computes
   in float32).  x is rows x the network's inputs and y rows x its outputs, row-major doubles
   in the caller's memory (a Fortran x(inputs, rows) is that matrix).  The predictor narrows
   up to max_batch rows at a time into float buffers it made at create time (nothing
   allocates), runs nb_predictor_run on them and widens the answers, so on inputs that are
   floats already the results are the float path's, bit for bit, widened.  Narrowing rounds
   to nearest as a cast does; a finite double beyond float's range becomes +-infinity (as an
   IEEE cast would make it), so that row's outputs are non-finite as for any non-finite input;
   nothing is refused for its value.  NB_ERR_NULL (p, x or y NULL; x may be NULL when rows is
   0), NB_ERR_ALIAS (x and y overlap), NB_ERR_OVERFLOW (rows x width beyond size_t).  rows 0 is
   a no-op.  On failure y is untouched; a failure in a later block (none is expected after
   the checks) leaves the earlier blocks' rows written. */
nb_status nb_predictor_run_f64(nb_predictor *p, const double *x, size_t rows, double *y);
/* classes[i] as nb_predictor_classes for the double rows x (rows x inputs).  NB_ERR_NULL,
   NB_ERR_STATE (not a classifier), NB_ERR_OVERFLOW. */
nb_status nb_predictor_classes_f64(nb_predictor *p, const double *x, size_t rows,
                                   size_t *classes);
/* The network's widths, for callers that pass bare arrays (0 for a NULL predictor). */
size_t nb_predictor_inputs(const nb_predictor *p);
size_t nb_predictor_outputs(const nb_predictor *p);

/* One call without a predictor: creates one for X's rows, runs it and frees it (so it
   allocates; use a predictor in a loop).  Statuses as nb_predictor_create and _run. */
nb_status nb_model_predict(const nb_model *m, const nb_tensor *X, nb_tensor *Y);

#ifdef __cplusplus
}
#endif
#endif
