/* Every loss, forward and backward, against the double reference on many shapes, plus analytic
   values at extreme inputs.  Tolerances: 1e-5 forward, 1e-4 backward (norm-wise relative). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static const size_t shapes[][2] = {{1, 1}, {1, 17}, {17, 1}, {17, 13}, {3, 1031}, {256, 1024}};
enum { N_SHAPES = sizeof shapes / sizeof *shapes };

/* Predictions and targets that suit the loss: probabilities for BCE, logits and probability
   rows (one-hot or soft) for softmax-CE, anything for MSE. */
static void make_data(nb_loss kind, nb_rng *r, float *Y, float *T, size_t rows, size_t cols,
                      bool variant)
{
    size_t n = rows * cols;
    switch (kind) {
    case NB_LOSS_MSE:
        tc_fill_uniform(r, Y, n, -3, 3);
        tc_fill_uniform(r, T, n, -3, 3);
        break;
    case NB_LOSS_BCE:
        tc_fill_uniform(r, Y, n, 0.01, 0.99);
        if (variant) /* hard labels */
            for (size_t i = 0; i < n; i++)
                T[i] = (float)nb_rng_below(r, 2);
        else
            tc_fill_uniform(r, T, n, 0, 1);
        break;
    default:
        tc_fill_uniform(r, Y, n, -6, 6);
        tc_fill_prob_rows(r, T, rows, cols, variant);
        break;
    }
}

TestSuite(losses, .fini = tc_leak_check);

Test(losses, forward_and_backward_match_reference)
{
    double worst_f = 0, worst_b = 0;
    for (int k = 0; k < NB_LOSS_COUNT; k++)
        for (size_t s = 0; s < N_SHAPES; s++)
            for (int variant = 0; variant < 2; variant++) {
                size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
                nb_rng r;
                nb_rng_seed(&r, 100 * (uint64_t)k + 10 * s + (uint64_t)variant);
                float *Y = tc_falloc(n), *T = tc_falloc(n), *g = tc_falloc(n);
                double *ref = tc_dalloc(n);
                make_data((nb_loss)k, &r, Y, T, rows, cols, variant);
                float *Y0 = tc_fdup(Y, n), *T0 = tc_fdup(T, n);
                nb_tensor Yt = nb_tensor_view(Y, rows, cols), Tt = nb_tensor_view(T, rows, cols);
                nb_tensor G = nb_tensor_view(g, rows, cols);

                float loss = NAN;
                cr_assert_eq(nb_loss_forward((nb_loss)k, &Yt, &Tt, &loss), NB_OK);
                double rl = ref_loss_fwd((nb_loss)k, Y, T, rows, cols);
                double ef = fabs(loss - rl) / fmax(fabs(rl), 1e-30);
                cr_assert_leq(ef, 1e-5, "%s forward %zux%zu: %.9g vs %.9g", nb_loss_name(k), rows,
                              cols, loss, rl);

                tc_fill_nan(g, n); /* G is overwritten */
                cr_assert_eq(nb_loss_backward((nb_loss)k, &Yt, &Tt, &G), NB_OK);
                ref_loss_bwd((nb_loss)k, Y, T, ref, rows, cols);
                double eb = tc_rel_err(g, ref, n);
                cr_assert_leq(eb, 1e-4, "%s backward %zux%zu: relative error %g", nb_loss_name(k),
                              rows, cols, eb);
                cr_assert_eq(memcmp(Y0, Y, n * sizeof(float)), 0, "Y modified");
                cr_assert_eq(memcmp(T0, T, n * sizeof(float)), 0, "T modified");
                worst_f = ef > worst_f ? ef : worst_f;
                worst_b = eb > worst_b ? eb : worst_b;
                free(Y);
                free(T);
                free(g);
                free(ref);
                free(Y0);
                free(T0);
            }
    fprintf(stderr, "worst relative error, loss forward %.3g, loss backward %.3g\n", worst_f,
            worst_b);
}

/* The gradients are the derivatives of the losses: central differences of the double
   reference loss (steps on float inputs, so the step is what the floats really moved). */
Test(losses, backward_is_the_derivative)
{
    enum { ROWS = 3, COLS = 4, N = ROWS * COLS };
    for (int k = 0; k < NB_LOSS_COUNT; k++) {
        nb_rng r;
        nb_rng_seed(&r, 77 + (uint64_t)k);
        float Y[N], T[N], g[N];
        make_data((nb_loss)k, &r, Y, T, ROWS, COLS, false);
        for (size_t j = 0; j < COLS; j++) /* a target row that does not sum to 1 */
            T[j] *= 0.6f;
        nb_tensor Yt = nb_tensor_view(Y, ROWS, COLS), Tt = nb_tensor_view(T, ROWS, COLS);
        nb_tensor G = nb_tensor_view(g, ROWS, COLS);
        cr_assert_eq(nb_loss_backward((nb_loss)k, &Yt, &Tt, &G), NB_OK);
        double scale = tc_max_abs(g, N);
        cr_assert_gt(scale, 1e-3, "%s gradient is trivially small", nb_loss_name(k));
        for (size_t i = 0; i < N; i++) {
            float y = Y[i], yp = y + 1e-5f, ym = y - 1e-5f; /* exact double losses: tiny steps */
            Y[i] = yp;
            double lp = ref_loss_fwd((nb_loss)k, Y, T, ROWS, COLS);
            Y[i] = ym;
            double lm = ref_loss_fwd((nb_loss)k, Y, T, ROWS, COLS);
            Y[i] = y;
            double fd = (lp - lm) / ((double)yp - ym);
            cr_assert_float_eq(g[i], fd, 1e-4 * scale, "%s: dL/dy_%zu = %g, finite difference %g",
                               nb_loss_name(k), i, g[i], fd);
        }
    }
}

Test(losses, hand_computed_values)
{
    float y[] = {1, 2, 3, 4}, t[] = {0, 2, 5, 3}, g[4], loss;
    nb_tensor Y = nb_tensor_view(y, 2, 2), T = nb_tensor_view(t, 2, 2), G = nb_tensor_view(g, 2, 2);
    cr_assert_eq(nb_loss_forward(NB_LOSS_MSE, &Y, &T, &loss), NB_OK);
    cr_assert_float_eq(loss, (1 + 0 + 4 + 1) / 4.0f, 1e-7);
    cr_assert_eq(nb_loss_backward(NB_LOSS_MSE, &Y, &T, &G), NB_OK);
    float eg[] = {0.5f, 0, -1, 0.5f}; /* 2 (y - t) / 4 */
    for (int i = 0; i < 4; i++)
        cr_assert_float_eq(g[i], eg[i], 1e-7);

    float p[] = {0.5f, 0.25f}, l[] = {1, 0};
    nb_tensor P = nb_tensor_view(p, 1, 2), L = nb_tensor_view(l, 1, 2), GB = nb_tensor_view(g, 1, 2);
    cr_assert_eq(nb_loss_forward(NB_LOSS_BCE, &P, &L, &loss), NB_OK);
    cr_assert_float_eq(loss, (float)((-log(0.5) - log(0.75)) / 2), 1e-7);
    cr_assert_eq(nb_loss_backward(NB_LOSS_BCE, &P, &L, &GB), NB_OK);
    cr_assert_float_eq(g[0], (float)(-0.5 / 0.25 / 2), 1e-6);
    cr_assert_float_eq(g[1], (float)(0.25 / (0.25 * 0.75) / 2), 1e-6);

    /* softmax-CE: logits [0, ln 3] give p = [1/4, 3/4] */
    float z[] = {0, (float)log(3.0)}, oh[] = {0, 1};
    nb_tensor Z = nb_tensor_view(z, 1, 2), OH = nb_tensor_view(oh, 1, 2);
    cr_assert_eq(nb_loss_forward(NB_LOSS_SOFTMAX_CE, &Z, &OH, &loss), NB_OK);
    cr_assert_float_eq(loss, (float)-log(0.75), 1e-6);
    cr_assert_eq(nb_loss_backward(NB_LOSS_SOFTMAX_CE, &Z, &OH, &GB), NB_OK);
    cr_assert_float_eq(g[0], 0.25f, 1e-6); /* p - t */
    cr_assert_float_eq(g[1], -0.25f, 1e-6);
}

Test(losses, softmax_ce_with_huge_logits)
{
    /* rows: confident and right, confident and wrong, a tie, and a soft target */
    float z[] = {1e4f, 0, -1e4f, /* */ 1e4f, 0, -1e4f, /* */ 1e4f, 1e4f, -1e4f, /* */ 1e4f, -1e4f, 0};
    float t[] = {1, 0, 0, /* */ 0, 1, 0, /* */ 1, 0, 0, /* */ 0.5f, 0.25f, 0.25f};
    float g[12], loss;
    nb_tensor Z = nb_tensor_view(z, 4, 3), T = nb_tensor_view(t, 4, 3), G = nb_tensor_view(g, 4, 3);
    double expect_rows[] = {0.0, 1e4, log(2.0), 0.25 * 2e4 + 0.25 * 1e4};
    for (int row = 0; row < 4; row++) { /* each row alone, against its analytic loss */
        nb_tensor Zr = nb_tensor_rows(&Z, (size_t)row, 1), Tr = nb_tensor_rows(&T, (size_t)row, 1);
        cr_assert_eq(nb_loss_forward(NB_LOSS_SOFTMAX_CE, &Zr, &Tr, &loss), NB_OK);
        cr_assert(isfinite(loss), "row %d: loss %g", row, loss);
        cr_assert_float_eq(loss, expect_rows[row], 1e-6 * fmax(1.0, expect_rows[row]),
                           "row %d: loss %.9g, expected %.9g", row, loss, expect_rows[row]);
    }
    cr_assert_eq(nb_loss_forward(NB_LOSS_SOFTMAX_CE, &Z, &T, &loss), NB_OK);
    double mean = (expect_rows[0] + expect_rows[1] + expect_rows[2] + expect_rows[3]) / 4;
    cr_assert_float_eq(loss, mean, 1e-6 * mean);

    cr_assert_eq(nb_loss_backward(NB_LOSS_SOFTMAX_CE, &Z, &T, &G), NB_OK);
    cr_assert(tc_all_finite(g, 12));
    float eg[] = {0, 0, 0, /* */ 1, -1, 0, /* */ -0.5f, 0.5f, 0, /* */ 0.5f, -0.25f, -0.25f};
    for (int i = 0; i < 12; i++)
        cr_assert_float_eq(g[i], eg[i] / 4, 1e-7, "g[%d] = %g, expected %g", i, g[i], eg[i] / 4);
}

Test(losses, bce_at_zero_and_one)
{
    /* y exactly 0 or 1: the logs clamp at -100, so the loss is 0 or 100 per element */
    float y[] = {0, 0, 1, 1}, t[] = {0, 1, 0, 1}, g[4], loss;
    nb_tensor Y = nb_tensor_view(y, 1, 4), T = nb_tensor_view(t, 1, 4), G = nb_tensor_view(g, 1, 4);
    cr_assert_eq(nb_loss_forward(NB_LOSS_BCE, &Y, &T, &loss), NB_OK);
    cr_assert_float_eq(loss, 200.0f / 4, 1e-5, "loss %g", loss);
    cr_assert_eq(nb_loss_backward(NB_LOSS_BCE, &Y, &T, &G), NB_OK);
    cr_assert(tc_all_finite(g, 4), "BCE gradient not finite: %g %g %g %g", g[0], g[1], g[2], g[3]);
    cr_assert_eq(g[0], 0.0f);
    cr_assert_eq(g[3], 0.0f);
    cr_assert_lt(g[1], 0.0f); /* pushes y up toward t = 1 */
    cr_assert_gt(g[2], 0.0f);
    cr_assert_float_eq(g[1], -1e12f / 4, 1e6, "guarded gradient %g", g[1]);
}

Test(losses, mse_of_identical_tensors_is_zero)
{
    float y[] = {1e30f, -3, 0.5f}, g[3], loss = NAN;
    nb_tensor Y = nb_tensor_view(y, 3, 1), G = nb_tensor_view(g, 3, 1);
    float t[3];
    memcpy(t, y, sizeof t);
    nb_tensor T = nb_tensor_view(t, 3, 1);
    cr_assert_eq(nb_loss_forward(NB_LOSS_MSE, &Y, &T, &loss), NB_OK);
    cr_assert_eq(loss, 0.0f);
    cr_assert_eq(nb_loss_backward(NB_LOSS_MSE, &Y, &T, &G), NB_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(g[i], 0.0f);
}
