/* Standardisation: fitted means and standard deviations against a double reference, constant
   columns, application, and argument errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "io_common.h"

Test(norm, fit_matches_double_reference)
{
    nb_tensor X = io_random(1000, 4, 3);
    for (size_t i = 0; i < 1000; i++)
        X.data[i * 4 + 1] = 1000.0f + X.data[i * 4 + 1]; /* a large offset */
    nb_norm *n;
    cr_assert_eq(nb_norm_fit(&n, &X), NB_OK);
    cr_assert_eq(nb_norm_features(n), 4);
    for (size_t j = 0; j < 4; j++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < 1000; i++)
            s += X.data[i * 4 + j];
        double mean = s / 1000;
        for (size_t i = 0; i < 1000; i++)
            ss += (X.data[i * 4 + j] - mean) * (X.data[i * 4 + j] - mean);
        cr_assert_float_eq(nb_norm_mean(n)[j], mean, 1e-6 * fabs(mean) + 1e-7);
        cr_assert_float_eq(nb_norm_std(n)[j], sqrt(ss / 1000), 1e-6);
    }
    cr_assert_eq(nb_norm_apply(n, &X), NB_OK);
    for (size_t j = 0; j < 4; j++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < 1000; i++) {
            s += X.data[i * 4 + j];
            ss += X.data[i * 4 + j] * X.data[i * 4 + j];
        }
        cr_assert(fabs(s / 1000) < 1e-4, "column %zu mean %g", j, s / 1000);
        cr_assert(fabs(ss / 1000 - 1) < 1e-3);
    }
    nb_norm_free(n);
    nb_tensor_free(&X);
}

Test(norm, constant_column_gets_std_one)
{
    float d[] = {5, 1, 5, 2, 5, 3};
    nb_tensor X = nb_tensor_view(d, 3, 2);
    nb_norm *n;
    cr_assert_eq(nb_norm_fit(&n, &X), NB_OK);
    cr_assert_eq(nb_norm_mean(n)[0], 5.0f);
    cr_assert_eq(nb_norm_std(n)[0], 1.0f);
    cr_assert_eq(nb_norm_apply(n, &X), NB_OK);
    cr_assert_eq(d[0], 0.0f);
    cr_assert(isfinite(d[1]) && d[3] == 0.0f);
    nb_norm_free(n);
}

Test(norm, apply_to_a_separate_output)
{
    float mean[] = {1, -1}, sd[] = {2, 4};
    nb_norm *n;
    cr_assert_eq(nb_norm_create(&n, 2, mean, sd), NB_OK);
    float x[] = {3, 3, -1, -5}, y[4];
    nb_tensor X = nb_tensor_view(x, 2, 2), Y = nb_tensor_view(y, 2, 2);
    cr_assert_eq(nb_norm_apply_to(n, &X, &Y), NB_OK);
    cr_assert(y[0] == 1.0f && y[1] == 1.0f && y[2] == -1.0f && y[3] == -1.0f);
    cr_assert_eq(x[0], 3.0f);
    nb_norm_free(n);
}

Test(norm, errors_leave_outputs_untouched)
{
    nb_norm *n = (nb_norm *)&n;
    float mean[] = {0, 0}, sd[] = {1, 0}, bad[] = {NAN, 1};
    cr_assert_eq(nb_norm_create(&n, 2, mean, sd), NB_ERR_ARG);
    cr_assert_eq(nb_norm_create(&n, 2, bad, mean), NB_ERR_ARG);
    cr_assert_eq(nb_norm_create(&n, 0, mean, mean), NB_ERR_SHAPE);
    cr_assert_eq(nb_norm_create(&n, 2, NULL, sd), NB_ERR_NULL);
    float x[] = {1, NAN};
    nb_tensor X = nb_tensor_view(x, 1, 2);
    cr_assert_eq(nb_norm_fit(&n, &X), NB_ERR_ARG);
    cr_assert_eq(nb_norm_fit(&n, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_norm_fit(NULL, &X), NB_ERR_NULL);
    cr_assert_eq(n, (nb_norm *)&n);
    float one[] = {1, 1};
    nb_norm *ok;
    cr_assert_eq(nb_norm_create(&ok, 2, one, one), NB_OK);
    float y[3] = {7, 7, 7};
    nb_tensor W = nb_tensor_view(y, 1, 3);
    cr_assert_eq(nb_norm_apply(ok, &W), NB_ERR_SHAPE);
    cr_assert_eq(y[0], 7.0f);
    cr_assert_eq(nb_norm_apply(NULL, &W), NB_ERR_NULL);
    cr_assert_eq(nb_norm_features(NULL), 0);
    cr_assert_null(nb_norm_mean(NULL));
    nb_norm_free(ok);
    nb_norm_free(NULL);
}
