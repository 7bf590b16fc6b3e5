/* Non-finite values through the kernels, against PyTorch (tests/data/nonfinite, written by
   tools/make_reference.py): NaN and +-inf inputs give NaN and +-inf exactly where PyTorch does
   (ReLU of NaN is NaN, softmax of a row holding NaN or +inf is all NaN, ...), and the finite
   elements keep the kernel tolerance.  BCE of a y outside [0, 1], which PyTorch refuses, is
   NaN.  Also the fused dense + ReLU forward of the network. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nablas.h"
#include "parity_util.h"

#define TOL 1e-5

/* NaN where r is NaN, the same infinity where r is infinite, elsewhere relative error <= TOL
   against max(|r_i|, floor). */
static void same(const float *c, const double *r, size_t n, double floor, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(r[i])) {
            cr_expect(isnan(c[i]), "%s[%zu]: %g, PyTorch NaN", what, i, (double)c[i]);
        } else if (isinf(r[i])) {
            cr_expect((double)c[i] == r[i], "%s[%zu]: %g, PyTorch %g", what, i, (double)c[i], r[i]);
        } else {
            double den = fmax(fabs(r[i]), floor), d = fabs((double)c[i] - r[i]);
            cr_expect(isfinite(c[i]) && (d == 0.0 || d <= TOL * den), "%s[%zu]: %.9g, PyTorch %.9g",
                      what, i, (double)c[i], r[i]);
        }
    }
}

static double finite_max(const npy_array *a)
{
    double m = 0.0;
    for (size_t i = 0; i < a->n; i++)
        if (isfinite(a->data[i]))
            m = fmax(m, fabs(a->data[i]));
    return m;
}

static nb_tensor load(const char *name, size_t rows, npy_array *keep)
{
    *keep = parity_load("nonfinite", name);
    return nb_tensor_view(parity_floats(keep), rows, keep->n / rows);
}

static void act_case(nb_act act, const char *tag, size_t rows)
{
    char name[96];
    npy_array a[5];
    static const char *const part[] = {"Z", "G", "A", "dZ", "Z"};
    nb_tensor t[5]; /* t[4]: Z kept, for the activations whose derivative needs it */
    for (int k = 0; k < 5; k++) {
        snprintf(name, sizeof name, "act_%s_%s", tag, part[k]);
        t[k] = load(name, rows, &a[k]);
    }
    cr_assert_eq(nb_act_forward(act, &t[0]), NB_OK);
    cr_assert_eq(nb_act_backward_z(act, &t[4], &t[0], &t[1]), NB_OK);
    snprintf(name, sizeof name, "%s A", tag);
    same(t[0].data, a[2].data, a[2].n, 1e-30, name);
    snprintf(name, sizeof name, "%s dZ", tag);
    same(t[1].data, a[3].data, a[3].n, finite_max(&a[3]), name); /* max norm, as test_kernels */
    for (int k = 0; k < 5; k++) {
        free(t[k].data);
        npy_free(&a[k]);
    }
}

Test(nonfinite, activations)
{
    for (int act = 0; act < NB_ACT_COUNT; act++)
        if (act != NB_ACT_SOFTMAX)
            act_case((nb_act)act, nb_act_name((nb_act)act), 1);
    act_case(NB_ACT_SOFTMAX, "softmax_7x3", 7);
    act_case(NB_ACT_SOFTMAX, "softmax_7x20", 7);
}

static void loss_case(nb_loss kind, const char *tag, size_t rows)
{
    char name[96];
    npy_array a[4];
    static const char *const part[] = {"Y", "T", "loss", "G"};
    nb_tensor t[4];
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "%s_%s", tag, part[k]);
        t[k] = load(name, k == 2 ? 1 : rows, &a[k]);
    }
    float loss = 0.0f;
    cr_assert_eq(nb_loss_forward(kind, &t[0], &t[1], &loss), NB_OK);
    cr_assert_eq(nb_loss_backward(kind, &t[0], &t[1], &t[3]), NB_OK);
    snprintf(name, sizeof name, "%s loss", tag);
    same(&loss, a[2].data, 1, 1e-30, name);
    snprintf(name, sizeof name, "%s G", tag);
    same(t[3].data, a[3].data, a[3].n, 1e-30, name);
    for (int k = 0; k < 4; k++) {
        free(t[k].data);
        npy_free(&a[k]);
    }
}

Test(nonfinite, losses)
{
    loss_case(NB_LOSS_MSE, "mse_1x24", 1);
    for (int cols = 3; cols <= 20; cols += 17)
        for (int r = 0; r < 7; r++) {
            char tag[32];
            snprintf(tag, sizeof tag, "ce_%d_row%d", cols, r);
            loss_case(NB_LOSS_SOFTMAX_CE, tag, 1);
        }
    static const char *const bce[] = {"in_range", "nan_head", "nan_tail", "inf", "ninf",
                                      "above_one", "below_zero"};
    for (size_t k = 0; k < sizeof bce / sizeof *bce; k++) {
        char tag[32];
        snprintf(tag, sizeof tag, "bce_%s", bce[k]);
        loss_case(NB_LOSS_BCE, tag, 1);
    }
}

/* The network's forward fuses ReLU into small dense layers (dense_small_w.h): a NaN input
   must come out NaN there too, and a negative pre-activation 0. */
Test(nonfinite, fused_dense_relu)
{
    nb_layer_spec spec[] = {{3, NB_ACT_RELU, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 2, spec, 1, 0), NB_OK);
    float *p = nb_net_params(net); /* W (2 x 3) then b (3) */
    const float w[9] = {1, 0, -1, 0, 1, 0, 0, 0, 0};
    for (int i = 0; i < 9; i++)
        p[i] = w[i];
    float x[8] = {NAN, 1, 2, 3, 4, -5, 1, 1}, y[12];
    nb_tensor X = nb_tensor_view(x, 4, 2), Y = nb_tensor_view(y, 4, 3);
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    /* NaN * 0 is NaN: the whole row */
    cr_assert(isnan(y[0]) && isnan(y[1]) && isnan(y[2]), "row 0: %g %g %g", (double)y[0],
              (double)y[1], (double)y[2]);
    cr_assert(y[3] == 2.0f && y[4] == 3.0f && y[5] == 0.0f);
    cr_assert(y[9] == 1.0f && y[10] == 1.0f && y[11] == 0.0f);
    nb_net_free(net);
}
