/* Data sets: freeing what a reader made, and the validation split. */
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "nablas/data.h"
#include "nablas/rng.h"

void nb_dataset_free(nb_dataset *d)
{
    if (!d)
        return;
    nb_tensor_free(&d->X);
    nb_tensor_free(&d->T);
    for (size_t k = 0; d->class_names && k < d->n_classes; k++)
        free(d->class_names[k]);
    free(d->class_names);
    for (size_t k = 0; d->feature_names && k < d->n_features; k++)
        free(d->feature_names[k]);
    free(d->feature_names);
    for (size_t k = 0; d->target_names && k < d->n_target_names; k++)
        free(d->target_names[k]);
    free(d->target_names);
    memset(d, 0, sizeof *d);
}

enum { SPLIT_SALT = 0x5eedf00d }; /* the split's order is not the first epoch's */

/* dst row k = src row idx[k], for k < n */
static void gather(nb_tensor *dst, const nb_tensor *src, const size_t *idx, size_t n)
{
    size_t c = src->cols;
    for (size_t k = 0; k < n; k++)
        memcpy(dst->data + k * c, src->data + idx[k] * c, c * sizeof(float));
}

nb_status nb_split_rows(nb_tensor *Xt, nb_tensor *Tt, nb_tensor *Xv, nb_tensor *Tv,
                        const nb_tensor *X, const nb_tensor *T, size_t n_val, uint64_t seed)
{
    if (!Xt || !Xv || (T && (!Tt || !Tv)))
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    if (T)
        NB_TRY(nb__check_shape(T, X->rows, T->cols));
    size_t rows = X->rows, n_tr = rows - n_val;
    if (n_val == 0 || n_val >= rows)
        return NB_ERR_SHAPE;
    if (rows > SIZE_MAX / sizeof(size_t))
        return NB_ERR_OVERFLOW;
    size_t *perm = malloc(rows * sizeof *perm);
    nb_tensor xt = {0}, tt = {0}, xv = {0}, tv = {0};
    nb_status st = perm ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK)
        st = nb_tensor_alloc(&xt, n_tr, X->cols);
    if (st == NB_OK)
        st = nb_tensor_alloc(&xv, n_val, X->cols);
    if (st == NB_OK && T)
        st = nb_tensor_alloc(&tt, n_tr, T->cols);
    if (st == NB_OK && T)
        st = nb_tensor_alloc(&tv, n_val, T->cols);
    if (st != NB_OK) {
        free(perm);
        nb_tensor_free(&xt);
        nb_tensor_free(&xv);
        nb_tensor_free(&tt);
        nb_tensor_free(&tv);
        return st;
    }
    nb_rng_shuffle(perm, rows, seed ^ SPLIT_SALT, 0);
    gather(&xt, X, perm, n_tr);
    gather(&xv, X, perm + n_tr, n_val);
    if (T) {
        gather(&tt, T, perm, n_tr);
        gather(&tv, T, perm + n_tr, n_val);
        *Tt = tt;
        *Tv = tv;
    }
    *Xt = xt;
    *Xv = xv;
    free(perm);
    return NB_OK;
}
