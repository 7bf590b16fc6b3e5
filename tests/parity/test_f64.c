/* Kernel parity in float64: nablas' float64 dense, activation and loss kernels against
   torch.float64 on the same float64 inputs (tests/data/f64, tools/make_reference.py --f64).

   Tolerance 1e-12 relative, element by element, against max(|r|, floor): a correct double
   kernel lands within a few 1e-16 of torch.  The floor, 1e-3 of the array's largest
   magnitude, keeps elements that are sums with cancellation (matrix products, column sums,
   softmax gradients p sum(t) - t near p = t) or derivatives taken from the output (tanh's
   1 - a^2 and sigmoid's a (1 - a) near a = +-1, where one ulp of a, libm's or PyTorch's, is
   all of the difference) from demanding a relative accuracy neither side has there: those
   elements are held to 1e-15 of the largest one.  Where PyTorch's own float64 derivative
   cancels (GELU, its tanh form, ELU in the tails) the reference is autograd of the accurate
   form (tools/make_reference.py, F64_ACCURATE). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"
#include "parity_util.h"

#define F64_TOL 1e-12
#define F64_FLOOR 1e-3

static double worst_err = 0.0; /* of the running test (each runs in its own process) */
static char worst_where[128];

static void report(void) { parity_report("float64 kernels", worst_where, worst_err, F64_TOL); }
TestSuite(parity_f64, .fini = report);

static double rel_err(const double *c, const double *r, size_t n)
{
    double amax = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        amax = fmax(amax, isfinite(r[i]) ? fabs(r[i]) : 0.0);
    for (size_t i = 0; i < n; i++) {
        if (c[i] == r[i] || (isnan(c[i]) && isnan(r[i])))
            continue;
        double den = fmax(fabs(r[i]), F64_FLOOR * amax);
        double e = den > 0.0 ? fabs(c[i] - r[i]) / den : INFINITY;
        worst = isnan(e) ? INFINITY : fmax(worst, e);
    }
    return worst;
}

static void check(const double *c, const npy_array *r, const char *tag, const char *what)
{
    double e = rel_err(c, r->data, r->n);
    cr_expect(e <= F64_TOL, "%s %s: relative error %.3e > %.0e", tag, what, e, F64_TOL);
    if (e >= worst_err) {
        worst_err = e;
        snprintf(worst_where, sizeof worst_where, "%s %s", tag, what);
    }
}

/* f64/<tag>_<suffix>.npy as a float64 tensor over the array's own doubles (1-d: one row) */
static nb_tensor load(const char *tag, const char *suffix, npy_array *keep)
{
    char name[2304]; /* (GCC bounds the tag by the largest buffer it could come from) */
    snprintf(name, sizeof name, "%s_%s", tag, suffix);
    *keep = parity_load("f64", name);
    size_t rows = keep->ndim == 2 ? keep->shape[0] : 1;
    return nb_tensor_view_f64(keep->data, rows, keep->n / (rows ? rows : 1));
}

/* a float64 output tensor shaped like r */
static nb_tensor out_like(const npy_array *r, size_t rows)
{
    nb_tensor t;
    cr_assert_eq(nb_tensor_alloc_f64(&t, rows, r->n / rows), NB_OK);
    return t;
}

Test(parity_f64, dense_forward_backward)
{
    static const char *tags[] = {"dense_1x1x1", "dense_17x13x11", "dense_64x128x96",
                                 "dense_3x257x5"};
    for (size_t k = 0; k < sizeof tags / sizeof *tags; k++) {
        npy_array a[8];
        nb_tensor X = load(tags[k], "X", &a[0]), W = load(tags[k], "W", &a[1]);
        nb_tensor b = load(tags[k], "b", &a[2]), G = load(tags[k], "G", &a[3]);
        load(tags[k], "Z", &a[4]);
        load(tags[k], "dW", &a[5]);
        load(tags[k], "db", &a[6]);
        load(tags[k], "dX", &a[7]);
        nb_tensor Z = out_like(&a[4], X.rows), dW = out_like(&a[5], W.rows);
        nb_tensor db = out_like(&a[6], 1), dX = out_like(&a[7], X.rows);
        cr_assert_eq(nb_dense_forward(&X, &W, &b, &Z), NB_OK);
        cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, &db, &dX), NB_OK);
        check(Z.data64, &a[4], tags[k], "Z");
        check(dW.data64, &a[5], tags[k], "dW");
        check(db.data64, &a[6], tags[k], "db");
        check(dX.data64, &a[7], tags[k], "dX");
        nb_tensor *outs[] = {&Z, &dW, &db, &dX};
        for (size_t i = 0; i < 4; i++)
            nb_tensor_free(outs[i]);
        for (size_t i = 0; i < 8; i++)
            npy_free(&a[i]);
    }
}

static const char *const act_shapes[] = {"1x1", "17x13", "7x129", "wide_1x502"};

Test(parity_f64, activations)
{
    for (int k = 0; k < NB_ACT_COUNT; k++) {
        nb_act act = (nb_act)k;
        for (size_t s = 0; s < sizeof act_shapes / sizeof *act_shapes; s++) {
            char tag[96];
            snprintf(tag, sizeof tag, "act_%s_%s", nb_act_name(act), act_shapes[s]);
            npy_array a[4];
            nb_tensor Z = load(tag, "Z", &a[0]), G = load(tag, "G", &a[1]);
            load(tag, "A", &a[2]);
            load(tag, "dZ", &a[3]);
            size_t n = Z.rows * Z.cols;
            nb_tensor A = out_like(&a[2], Z.rows), dZ = out_like(&a[3], Z.rows);
            memcpy(A.data64, Z.data64, n * sizeof(double));
            cr_assert_eq(nb_act_forward(act, &A), NB_OK);
            check(A.data64, &a[2], tag, "A");
            /* backward from Z and A */
            memcpy(dZ.data64, G.data64, n * sizeof(double));
            cr_assert_eq(nb_act_backward_z(act, &Z, &A, &dZ), NB_OK);
            check(dZ.data64, &a[3], tag, "dZ (backward_z)");
            /* from A alone where the activation allows it */
            if (!nb_act_needs_input(act)) {
                memcpy(dZ.data64, G.data64, n * sizeof(double));
                cr_assert_eq(nb_act_backward(act, &A, &dZ), NB_OK);
                check(dZ.data64, &a[3], tag, "dZ (backward)");
            }
            nb_tensor_free(&A);
            nb_tensor_free(&dZ);
            for (size_t i = 0; i < 4; i++)
                npy_free(&a[i]);
        }
    }
}

Test(parity_f64, losses)
{
    static const char *const shapes[] = {"1x1", "17x13", "64x10", "5x33"};
    static const char *const kinds[] = {"mse", "bce", "ce_onehot", "ce_prob"};
    char tags[32][64];
    size_t nt = 0;
    for (size_t s = 0; s < 4; s++)
        for (size_t k = 0; k < 4; k++)
            snprintf(tags[nt++], sizeof tags[0], "loss_%s_%s", kinds[k], shapes[s]);
    snprintf(tags[nt++], sizeof tags[0], "loss_ce_partial_17x13");
    snprintf(tags[nt++], sizeof tags[0], "loss_ce_large_3x4");
    snprintf(tags[nt++], sizeof tags[0], "loss_bce_edges_1x8");
    for (size_t k = 0; k < nt; k++) {
        const char *tag = tags[k];
        nb_loss kind = strncmp(tag, "loss_mse", 8) == 0   ? NB_LOSS_MSE
                       : strncmp(tag, "loss_bce", 8) == 0 ? NB_LOSS_BCE
                                                           : NB_LOSS_SOFTMAX_CE;
        npy_array a[4];
        nb_tensor Y = load(tag, "Y", &a[0]), T = load(tag, "T", &a[1]);
        load(tag, "loss", &a[2]);
        load(tag, "G", &a[3]);
        nb_tensor G = out_like(&a[3], Y.rows);
        double loss = NAN;
        cr_assert_eq(nb_loss_forward_d(kind, &Y, &T, &loss), NB_OK);
        check(&loss, &a[2], tag, "loss");
        cr_assert_eq(nb_loss_backward(kind, &Y, &T, &G), NB_OK);
        check(G.data64, &a[3], tag, "G");
        float lf = NAN; /* the float-valued entry point rounds the same double */
        cr_assert_eq(nb_loss_forward(kind, &Y, &T, &lf), NB_OK);
        cr_expect_eq(lf, (float)loss, "%s", tag);
        nb_tensor_free(&G);
        for (size_t i = 0; i < 4; i++)
            npy_free(&a[i]);
    }
}
