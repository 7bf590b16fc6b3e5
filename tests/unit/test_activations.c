/* Every activation, forward and backward, against the double reference on many shapes, and at
   extreme inputs.  Tolerances: 1e-5 forward, 1e-4 backward (norm-wise relative error). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static const size_t shapes[][2] = {{1, 1}, {1, 17}, {17, 1}, {17, 13}, {3, 1031}, {256, 1024}};
enum { N_SHAPES = sizeof shapes / sizeof *shapes };

TestSuite(activations, .fini = tc_leak_check);

Test(activations, forward_matches_reference)
{
    double worst = 0;
    for (int a = 0; a < NB_ACT_COUNT; a++)
        for (size_t s = 0; s < N_SHAPES; s++) {
            size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
            nb_rng r;
            nb_rng_seed(&r, 10 * (uint64_t)a + s);
            float *z = tc_falloc(n);
            tc_fill_uniform(&r, z, n, -8, 8);
            double *ref = tc_dalloc(n);
            ref_act_fwd((nb_act)a, z, ref, rows, cols);
            nb_tensor Z = nb_tensor_view(z, rows, cols);
            cr_assert_eq(nb_act_forward((nb_act)a, &Z), NB_OK);
            double e = tc_rel_err(z, ref, n);
            cr_assert_leq(e, 1e-5, "%s forward %zux%zu: relative error %g", nb_act_name(a), rows,
                          cols, e);
            worst = e > worst ? e : worst;
            free(z);
            free(ref);
        }
    fprintf(stderr, "worst relative error, activation forward: %.3g\n", worst);
}

Test(activations, backward_matches_reference)
{
    double worst = 0;
    for (int a = 0; a < NB_ACT_COUNT; a++)
        for (size_t s = 0; s < N_SHAPES; s++) {
            size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
            nb_rng r;
            nb_rng_seed(&r, 1000 + 10 * (uint64_t)a + s);
            /* A = f(Z) as forward leaves it, rounded to float; G = dL/dA */
            float *z = tc_falloc(n), *A = tc_falloc(n), *g = tc_falloc(n);
            double *tmp = tc_dalloc(n), *ref = tc_dalloc(n);
            tc_fill_uniform(&r, z, n, -4, 4);
            tc_fill_uniform(&r, g, n, -1, 1);
            ref_act_fwd((nb_act)a, z, tmp, rows, cols);
            for (size_t i = 0; i < n; i++)
                A[i] = (float)tmp[i];
            ref_act_bwd((nb_act)a, z, A, g, ref, rows, cols);
            float *A0 = tc_fdup(A, n);
            nb_tensor At = nb_tensor_view(A, rows, cols), G = nb_tensor_view(g, rows, cols);
            nb_tensor Zt = nb_tensor_view(z, rows, cols);
            cr_assert_eq(nb_act_backward_z((nb_act)a, &Zt, &At, &G), NB_OK);
            double e = tc_rel_err(g, ref, n);
            cr_assert_leq(e, 1e-4, "%s backward %zux%zu: relative error %g", nb_act_name(a), rows,
                          cols, e);
            cr_assert_eq(memcmp(A0, A, n * sizeof(float)), 0, "A modified");
            worst = e > worst ? e : worst;
            free(z);
            free(A);
            free(g);
            free(A0);
            free(tmp);
            free(ref);
        }
    fprintf(stderr, "worst relative error, activation backward: %.3g\n", worst);
}

/* L = sum_j w_j f(z)_j in double, straight from the definitions. */
static double weighted_act(nb_act a, const double *z, const float *w, size_t n)
{
    double l = 0, m = z[0], s = 0;
    for (size_t j = 1; j < n; j++)
        m = fmax(m, z[j]);
    for (size_t j = 0; j < n; j++)
        s += exp(z[j] - m);
    for (size_t j = 0; j < n; j++)
        l += w[j] * (a == NB_ACT_SOFTMAX ? exp(z[j] - m) / s : ref_act_scalar(a, z[j]));
    return l;
}

/* The backward kernels against the true derivative of the forward (central differences in
   double): catches a backward formula that is consistent with the reference but wrong. */
Test(activations, backward_is_the_derivative)
{
    enum { N = 6 };
    const float zs[N] = {-3.0f, -0.7f, -0.01f, 0.02f, 0.5f, 2.5f};
    for (int a = 0; a < NB_ACT_COUNT; a++) {
        float A[N], g[N], w[N], z[N];
        nb_rng r;
        nb_rng_seed(&r, (uint64_t)a);
        tc_fill_uniform(&r, w, N, -1, 1);
        memcpy(A, zs, sizeof zs);
        memcpy(z, zs, sizeof zs);
        memcpy(g, w, sizeof w);
        nb_tensor At = nb_tensor_view(A, 1, N), G = nb_tensor_view(g, 1, N);
        nb_tensor Zt = nb_tensor_view(z, 1, N);
        cr_assert_eq(nb_act_forward((nb_act)a, &At), NB_OK);
        cr_assert_eq(nb_act_backward_z((nb_act)a, &Zt, &At, &G), NB_OK);
        for (size_t k = 0; k < N; k++) {
            const double h = 1e-6;
            double zp[N], zm[N];
            for (size_t j = 0; j < N; j++)
                zp[j] = zm[j] = zs[j];
            zp[k] += h;
            zm[k] -= h;
            double fd = (weighted_act((nb_act)a, zp, w, N) - weighted_act((nb_act)a, zm, w, N)) / (2 * h);
            cr_assert_float_eq(g[k], fd, 1e-4 * fmax(1.0, fabs(fd)),
                               "%s: dL/dz_%zu = %g, finite difference %g", nb_act_name(a), k, g[k], fd);
        }
    }
}

/* ReLU-family derivative at exactly 0 is taken from the z <= 0 side, as PyTorch does. */
Test(activations, relu_family_at_zero)
{
    float z[2] = {0.0f, -0.0f}, g[2] = {3.0f, 3.0f};
    nb_tensor Z = nb_tensor_view(z, 1, 2), G = nb_tensor_view(g, 1, 2);
    cr_assert_eq(nb_act_forward(NB_ACT_RELU, &Z), NB_OK);
    cr_assert(z[0] == 0.0f && z[1] == 0.0f);
    cr_assert_eq(nb_act_backward(NB_ACT_RELU, &Z, &G), NB_OK);
    cr_assert(g[0] == 0.0f && g[1] == 0.0f);
    z[0] = z[1] = 0.0f;
    g[0] = g[1] = 3.0f;
    cr_assert_eq(nb_act_forward(NB_ACT_LEAKY_RELU, &Z), NB_OK);
    cr_assert_eq(nb_act_backward(NB_ACT_LEAKY_RELU, &Z, &G), NB_OK);
    cr_assert_float_eq(g[0], 0.03f, 1e-7);
}

Test(activations, leaky_relu_slope_is_0_01)
{
    float z[3] = {-200.0f, -1.0f, 5.0f}, g[3] = {1, 1, 1};
    nb_tensor Z = nb_tensor_view(z, 1, 3), G = nb_tensor_view(g, 1, 3);
    cr_assert_eq(nb_act_forward(NB_ACT_LEAKY_RELU, &Z), NB_OK);
    cr_assert_float_eq(z[0], -2.0f, 1e-6);
    cr_assert_float_eq(z[1], -0.01f, 1e-8);
    cr_assert_eq(z[2], 5.0f);
    cr_assert_eq(nb_act_backward(NB_ACT_LEAKY_RELU, &Z, &G), NB_OK);
    cr_assert_float_eq(g[0], 0.01f, 1e-8);
    cr_assert_float_eq(g[1], 0.01f, 1e-8);
    cr_assert_eq(g[2], 1.0f);
}

Test(activations, sigmoid_and_tanh_at_extremes)
{
    float z[] = {1000.0f, -1000.0f, 88.8f, -88.8f, 104.0f, -104.0f, FLT_MAX, -FLT_MAX, 0.0f};
    size_t n = sizeof z / sizeof *z;
    float s[sizeof z / sizeof *z], t[sizeof z / sizeof *z];
    memcpy(s, z, sizeof z);
    memcpy(t, z, sizeof z);
    nb_tensor S = nb_tensor_view(s, 1, n), T = nb_tensor_view(t, n, 1);
    cr_assert_eq(nb_act_forward(NB_ACT_SIGMOID, &S), NB_OK);
    cr_assert_eq(nb_act_forward(NB_ACT_TANH, &T), NB_OK);
    cr_assert(tc_all_finite(s, n) && tc_all_finite(t, n));
    for (size_t i = 0; i + 1 < n; i += 2) {
        cr_assert_eq(s[i], 1.0f, "sigmoid(%g) = %g", z[i], s[i]);
        cr_assert(s[i + 1] >= 0.0f && s[i + 1] < 1e-38f, "sigmoid(%g) = %g", z[i + 1], s[i + 1]);
        cr_assert_eq(t[i], 1.0f, "tanh(%g) = %g", z[i], t[i]);
        cr_assert_eq(t[i + 1], -1.0f, "tanh(%g) = %g", z[i + 1], t[i + 1]);
    }
    cr_assert_eq(s[1], 0.0f, "sigmoid(-1000) = %g", s[1]);
    cr_assert_eq(s[n - 1], 0.5f);
    cr_assert_eq(t[n - 1], 0.0f);
    /* saturated units pass no gradient, and nothing turns into NaN */
    float g[sizeof z / sizeof *z];
    for (size_t i = 0; i < n; i++)
        g[i] = 1.0f;
    nb_tensor G = nb_tensor_view(g, 1, n);
    cr_assert_eq(nb_act_backward(NB_ACT_SIGMOID, &S, &G), NB_OK);
    cr_assert(tc_all_finite(g, n));
    cr_assert_eq(g[0], 0.0f);
    cr_assert_float_eq(g[n - 1], 0.25f, 1e-7);
}

Test(activations, softmax_at_extremes)
{
    float z[] = {1000.0f, -1000.0f, /* */ 1000.0f, 1000.0f, /* */ -1000.0f, -1000.0f,
                 /* */ FLT_MAX, -FLT_MAX, /* */ -FLT_MAX, -FLT_MAX};
    nb_tensor Z = nb_tensor_view(z, 5, 2);
    cr_assert_eq(nb_act_forward(NB_ACT_SOFTMAX, &Z), NB_OK);
    cr_assert(tc_all_finite(z, 10));
    float expect[] = {1, 0, 0.5f, 0.5f, 0.5f, 0.5f, 1, 0, 0.5f, 0.5f};
    for (int i = 0; i < 10; i++)
        cr_assert_float_eq(z[i], expect[i], 1e-7, "softmax element %d = %g", i, z[i]);
    float g[10] = {1, -1, 1, -1, 2, 0, 1, -1, 0, 1};
    nb_tensor G = nb_tensor_view(g, 5, 2);
    cr_assert_eq(nb_act_backward(NB_ACT_SOFTMAX, &Z, &G), NB_OK);
    cr_assert(tc_all_finite(g, 10));
    cr_assert_float_eq(g[0], 0.0f, 1e-7); /* saturated row: no gradient */
    cr_assert_float_eq(g[2], 0.5f, 1e-7); /* 0.5 (1 - 0) */
    cr_assert_float_eq(g[3], -0.5f, 1e-7);
}

/* Softmax rows always sum to 1, for a wide row of widely spread values too. */
Test(activations, softmax_rows_sum_to_one)
{
    size_t rows = 9, cols = 1031;
    float *z = tc_falloc(rows * cols);
    nb_rng r;
    nb_rng_seed(&r, 5);
    tc_fill_uniform(&r, z, rows * cols, -50, 50);
    nb_tensor Z = nb_tensor_view(z, rows, cols);
    cr_assert_eq(nb_act_forward(NB_ACT_SOFTMAX, &Z), NB_OK);
    for (size_t i = 0; i < rows; i++) {
        double s = 0;
        for (size_t j = 0; j < cols; j++) {
            cr_assert(z[i * cols + j] >= 0.0f);
            s += z[i * cols + j];
        }
        cr_assert_float_eq(s, 1.0, 1e-5, "row %zu sums to %.9g", i, s);
    }
    free(z);
}
