/* The validation split: every row lands exactly once, in training or validation, with its
   own target; the split is a function of the seed; bad arguments leave the outputs alone. */
#include <criterion/criterion.h>
#include <string.h>

#include "io_common.h"

enum { ROWS = 23, FX = 3, FT = 2 };

static void fill(float *x, float *t)
{
    for (size_t i = 0; i < ROWS; i++) {
        for (size_t j = 0; j < FX; j++)
            x[i * FX + j] = (float)(i * 10 + j); /* row i recognisable by x[0] / 10 */
        t[i * FT] = (float)i;
        t[i * FT + 1] = -(float)i;
    }
}

Test(dataset, split_partitions_the_rows)
{
    float x[ROWS * FX], t[ROWS * FT];
    fill(x, t);
    nb_tensor X = nb_tensor_view(x, ROWS, FX), T = nb_tensor_view(t, ROWS, FT);
    nb_tensor Xt, Tt, Xv, Tv;
    cr_assert_eq(nb_split_rows(&Xt, &Tt, &Xv, &Tv, &X, &T, 5, 3), NB_OK);
    cr_assert(Xt.rows == ROWS - 5 && Xv.rows == 5 && Tt.rows == ROWS - 5 && Tv.rows == 5);
    cr_assert(Xt.cols == FX && Tt.cols == FT);
    int seen[ROWS] = {0};
    for (int part = 0; part < 2; part++) {
        const nb_tensor *xs = part ? &Xv : &Xt, *ts = part ? &Tv : &Tt;
        for (size_t k = 0; k < xs->rows; k++) {
            size_t i = (size_t)(xs->data[k * FX] / 10);
            cr_assert_lt(i, ROWS);
            seen[i]++;
            cr_assert_eq(memcmp(xs->data + k * FX, x + i * FX, FX * sizeof(float)), 0);
            cr_assert_eq(memcmp(ts->data + k * FT, t + i * FT, FT * sizeof(float)), 0,
                         "row %zu lost its target", i);
        }
    }
    for (size_t i = 0; i < ROWS; i++)
        cr_assert_eq(seen[i], 1, "row %zu appears %d times", i, seen[i]);

    /* the same seed, the same split; another seed, another one */
    nb_tensor Xt2, Tt2, Xv2, Tv2, Xt3, Tt3, Xv3, Tv3;
    cr_assert_eq(nb_split_rows(&Xt2, &Tt2, &Xv2, &Tv2, &X, &T, 5, 3), NB_OK);
    cr_assert_eq(nb_split_rows(&Xt3, &Tt3, &Xv3, &Tv3, &X, &T, 5, 4), NB_OK);
    cr_assert_eq(memcmp(Xv.data, Xv2.data, 5 * FX * sizeof(float)), 0);
    cr_assert_neq(memcmp(Xv.data, Xv3.data, 5 * FX * sizeof(float)), 0);
    nb_tensor *all[] = {&Xt, &Tt, &Xv, &Tv, &Xt2, &Tt2, &Xv2, &Tv2, &Xt3, &Tt3, &Xv3, &Tv3};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        nb_tensor_free(all[k]);
}

Test(dataset, split_errors_leave_outputs_alone)
{
    float x[ROWS * FX], t[ROWS * FT];
    fill(x, t);
    nb_tensor X = nb_tensor_view(x, ROWS, FX), T = nb_tensor_view(t, ROWS, FT);
    nb_tensor short_T = nb_tensor_view(t, ROWS - 1, FT);
    nb_tensor Xt = {7, 7, NULL, NULL}, Tt = Xt, Xv = Xt, Tv = Xt;
    cr_assert_eq(nb_split_rows(&Xt, &Tt, &Xv, &Tv, &X, &T, 0, 1), NB_ERR_SHAPE);
    cr_assert_eq(nb_split_rows(&Xt, &Tt, &Xv, &Tv, &X, &T, ROWS, 1), NB_ERR_SHAPE);
    cr_assert_eq(nb_split_rows(&Xt, &Tt, &Xv, &Tv, &X, &short_T, 2, 1), NB_ERR_SHAPE);
    cr_assert_eq(nb_split_rows(NULL, &Tt, &Xv, &Tv, &X, &T, 2, 1), NB_ERR_NULL);
    cr_assert_eq(nb_split_rows(&Xt, NULL, &Xv, &Tv, &X, &T, 2, 1), NB_ERR_NULL);
    cr_assert_eq(nb_split_rows(&Xt, &Tt, &Xv, &Tv, NULL, &T, 2, 1), NB_ERR_NULL);
    cr_assert(Xt.rows == 7 && Tt.rows == 7 && Xv.rows == 7 && Tv.rows == 7);
    /* no targets: only X is split */
    cr_assert_eq(nb_split_rows(&Xt, NULL, &Xv, NULL, &X, NULL, 2, 1), NB_OK);
    cr_assert(Xt.rows == ROWS - 2 && Xv.rows == 2 && Tt.rows == 7);
    nb_tensor_free(&Xt);
    nb_tensor_free(&Xv);
}
