/* The SGD step against the double reference (norm-wise relative error 1e-5), and its edge
   values of the learning rate. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

TestSuite(sgd, .fini = tc_leak_check);

Test(sgd, matches_reference)
{
    static const size_t shapes[][2] = {{1, 1}, {1, 17}, {17, 1}, {17, 13}, {784, 1024}};
    const float lrs[] = {0.0f, 1e-4f, 0.01f, 0.5f, 3.0f};
    double worst = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (size_t k = 0; k < sizeof lrs / sizeof *lrs; k++) {
            size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
            nb_rng r;
            nb_rng_seed(&r, 10 * s + k);
            float *p = tc_falloc(n), *d = tc_falloc(n);
            double *ref = tc_dalloc(n);
            tc_fill_uniform(&r, p, n, -1, 1);
            tc_fill_uniform(&r, d, n, -1, 1);
            ref_sgd(p, d, ref, n, lrs[k]);
            float *d0 = tc_fdup(d, n);
            nb_tensor P = nb_tensor_view(p, rows, cols), D = nb_tensor_view(d, rows, cols);
            cr_assert_eq(nb_sgd_step(&P, &D, lrs[k]), NB_OK);
            double e = tc_rel_err(p, ref, n);
            cr_assert_leq(e, 1e-5, "%zux%zu lr %g: relative error %g", rows, cols, lrs[k], e);
            cr_assert_eq(memcmp(d0, d, n * sizeof(float)), 0, "dP modified");
            worst = e > worst ? e : worst;
            free(p);
            free(d);
            free(ref);
            free(d0);
        }
    fprintf(stderr, "worst relative error, sgd: %.3g\n", worst);
}

Test(sgd, zero_learning_rate_leaves_parameters_bit_identical)
{
    float p[5] = {1, -2, 3e-30f, 4e30f, -0.0f}, d[5] = {1e30f, -1e30f, 5, 0, 7};
    float p0[5];
    memcpy(p0, p, sizeof p);
    nb_tensor P = nb_tensor_view(p, 1, 5), D = nb_tensor_view(d, 1, 5);
    cr_assert_eq(nb_sgd_step(&P, &D, 0.0f), NB_OK);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(p[i], p0[i], "p[%d] changed", i);
    cr_assert_eq(nb_sgd_step(&P, &D, -0.0f), NB_OK, "-0 is not negative");
}

Test(sgd, hand_computed_step)
{
    float p[3] = {1, 2, 3}, d[3] = {10, -10, 0.5f};
    nb_tensor P = nb_tensor_view(p, 3, 1), D = nb_tensor_view(d, 3, 1);
    cr_assert_eq(nb_sgd_step(&P, &D, 0.1f), NB_OK);
    cr_assert_float_eq(p[0], 0.0f, 1e-6);
    cr_assert_float_eq(p[1], 3.0f, 1e-6);
    cr_assert_float_eq(p[2], 2.95f, 1e-6);
}
