/* Kernel parity: nablas' float32 dense, activation and loss kernels against PyTorch's float64
   answers for the same float32 inputs (tests/data/{dense,act,loss}).

   Tolerance 1e-5 relative.  float32 rounds at 6e-8, so a correct kernel lands within a few
   1e-7 of the exact answer; an error of 1e-5 means a wrong formula, scale or slope.  Element-
   wise results (activation outputs, loss gradients) are compared element by element; sums
   (matrix products, column sums) and derivatives taken from a float32 output (sigmoid's
   a(1 - a) near a = 1 cancels) are compared in the max norm, ||c - r|| / ||r||, because
   their per-element relative error is not bounded by float32 at all. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"
#include "parity_util.h"

#define KERNEL_TOL 1e-5

typedef struct worst {
    double err;
    char where[96];
} worst;

static void note(worst *w, double err, const char *name, const char *what)
{
    cr_expect(err <= KERNEL_TOL, "%s %s: relative error %.3e > %.0e", name, what, err,
              KERNEL_TOL);
    if (err >= w->err) {
        w->err = err;
        snprintf(w->where, sizeof w->where, "%s %s", name, what);
    }
}

/* Loads sub/<tag>_<suffix> as floats, shape rows x cols (1-d arrays are one row). */
static nb_tensor load_tensor(const char *sub, const char *tag, const char *suffix, npy_array *keep)
{
    char name[128];
    snprintf(name, sizeof name, "%s_%s", tag, suffix);
    *keep = parity_load(sub, name);
    size_t rows = keep->ndim == 2 ? keep->shape[0] : 1;
    return nb_tensor_view(parity_floats(keep), rows, keep->n / (rows ? rows : 1));
}

static void free_tensor(nb_tensor *t, npy_array *a)
{
    free(t->data);
    npy_free(a);
}

Test(parity_kernels, dense_forward_backward)
{
    static const char *tags[] = {"dense_1x1x1", "dense_17x13x11", "dense_64x128x96"};
    worst w = {0};
    for (size_t k = 0; k < sizeof tags / sizeof *tags; k++) {
        npy_array a[8];
        nb_tensor X = load_tensor("dense", tags[k], "X", &a[0]);
        nb_tensor W = load_tensor("dense", tags[k], "W", &a[1]);
        nb_tensor b = load_tensor("dense", tags[k], "b", &a[2]);
        nb_tensor G = load_tensor("dense", tags[k], "G", &a[3]);
        nb_tensor Z = load_tensor("dense", tags[k], "Z", &a[4]); /* references: a[4..7] */
        nb_tensor dW = load_tensor("dense", tags[k], "dW", &a[5]);
        nb_tensor db = load_tensor("dense", tags[k], "db", &a[6]);
        nb_tensor dX = load_tensor("dense", tags[k], "dX", &a[7]);
        cr_assert_eq(nb_dense_forward(&X, &W, &b, &Z), NB_OK);
        cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, &db, &dX), NB_OK);
        note(&w, parity_norm_err(Z.data, a[4].data, a[4].n), tags[k], "Z");
        note(&w, parity_norm_err(dW.data, a[5].data, a[5].n), tags[k], "dW");
        note(&w, parity_norm_err(db.data, a[6].data, a[6].n), tags[k], "db");
        note(&w, parity_norm_err(dX.data, a[7].data, a[7].n), tags[k], "dX");
        nb_tensor *ts[] = {&X, &W, &b, &G, &Z, &dW, &db, &dX};
        for (size_t i = 0; i < 8; i++)
            free_tensor(ts[i], &a[i]);
    }
    parity_report("dense fwd/bwd", w.where, w.err, KERNEL_TOL);
}

static const char *const SHAPES2[] = {"1x1", "17x13", "50x64", "wide_1x600"};

/* The activations after the first six are held to 1e-6, both ways (the "wide" cases reach
   their tails: GELU near float's smallest normal, softplus' threshold, ELU's expm1). */
#define NEW_ACT_TOL 1e-6

static bool is_newer_act(int act) { return act >= NB_ACT_GELU; }

Test(parity_kernels, activations_forward_backward)
{
    worst wf = {0}, wb = {0}, wn = {0};
    for (int act = 0; act < NB_ACT_COUNT; act++) {
        for (size_t s = 0; s < (is_newer_act(act) ? 4u : 3u); s++) {
            char tag[64];
            snprintf(tag, sizeof tag, "%s_%s", nb_act_name((nb_act)act), SHAPES2[s]);
            npy_array a[4], zk;
            nb_tensor Z = load_tensor("act", tag, "Z", &a[0]); /* becomes A in place */
            nb_tensor Zkeep = load_tensor("act", tag, "Z", &zk); /* the pre-activation */
            nb_tensor G = load_tensor("act", tag, "G", &a[1]); /* becomes dZ in place */
            nb_tensor A = load_tensor("act", tag, "A", &a[2]);
            nb_tensor dZ = load_tensor("act", tag, "dZ", &a[3]);
            cr_assert_eq(nb_act_forward((nb_act)act, &Z), NB_OK);
            cr_assert_eq(nb_act_backward_z((nb_act)act, &Zkeep, &Z, &G), NB_OK);
            /* floor: the smallest normal float (a subnormal result cannot carry 1e-6) */
            double ef = parity_rel_err(Z.data, a[2].data, a[2].n, FLT_MIN);
            double eb = parity_norm_err(G.data, a[3].data, a[3].n);
            note(&wf, ef, tag, "A");
            note(&wb, eb, tag, "dZ");
            if (is_newer_act(act)) {
                cr_expect(ef <= NEW_ACT_TOL && eb <= NEW_ACT_TOL,
                          "%s: relative error A %.3e, dZ %.3e > %.0e", tag, ef, eb, NEW_ACT_TOL);
                if (fmax(ef, eb) >= wn.err) {
                    wn.err = fmax(ef, eb);
                    snprintf(wn.where, sizeof wn.where, "%s %s", tag, ef >= eb ? "A" : "dZ");
                }
            }
            free_tensor(&Z, &a[0]);
            free_tensor(&Zkeep, &zk);
            free_tensor(&G, &a[1]);
            free_tensor(&A, &a[2]);
            free_tensor(&dZ, &a[3]);
        }
    }
    parity_report("activation fwd (elementwise)", wf.where, wf.err, KERNEL_TOL);
    parity_report("activation bwd (max norm)", wb.where, wb.err, KERNEL_TOL);
    parity_report("newer activations fwd/bwd", wn.where, wn.err, NEW_ACT_TOL);
}

static void loss_case(nb_loss kind, const char *tag, worst *wl, worst *wg)
{
    npy_array a[4];
    nb_tensor Y = load_tensor("loss", tag, "Y", &a[0]);
    nb_tensor T = load_tensor("loss", tag, "T", &a[1]);
    nb_tensor L = load_tensor("loss", tag, "loss", &a[2]);
    nb_tensor G = load_tensor("loss", tag, "G", &a[3]);
    cr_assert_eq(nb_loss_forward(kind, &Y, &T, L.data), NB_OK);
    cr_assert_eq(nb_loss_backward(kind, &Y, &T, &G), NB_OK);
    note(wl, parity_elem_err(L.data, a[2].data, 1), tag, "loss");
    note(wg, parity_elem_err(G.data, a[3].data, a[3].n), tag, "G");
    free_tensor(&Y, &a[0]);
    free_tensor(&T, &a[1]);
    free_tensor(&L, &a[2]);
    free_tensor(&G, &a[3]);
}

Test(parity_kernels, losses_forward_backward)
{
    static const char *const shapes[] = {"1x1", "17x13", "64x10"};
    static const struct { const char *prefix; nb_loss kind; } kinds[] = {
        {"mse", NB_LOSS_MSE}, {"bce", NB_LOSS_BCE},
        {"ce_onehot", NB_LOSS_SOFTMAX_CE}, {"ce_prob", NB_LOSS_SOFTMAX_CE}};
    worst wl = {0}, wg = {0};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (size_t s = 0; s < 3; s++) {
            char tag[64];
            snprintf(tag, sizeof tag, "%s_%s", kinds[k].prefix, shapes[s]);
            loss_case(kinds[k].kind, tag, &wl, &wg);
        }
    /* targets that do not sum to 1: the gradient must be the loss's own derivative */
    loss_case(NB_LOSS_SOFTMAX_CE, "ce_partial_17x13", &wl, &wg);
    /* y exactly 0 and 1: the -100 log clamp and the 1e-12 gradient floor, as in PyTorch */
    loss_case(NB_LOSS_BCE, "bce_edges_1x6", &wl, &wg);
    parity_report("loss value", wl.where, wl.err, KERNEL_TOL);
    parity_report("loss gradient (elementwise)", wg.where, wg.err, KERNEL_TOL);
}
