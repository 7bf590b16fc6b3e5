/* float64 tensors and kernels: the tensor API, the mixed-type and float32-only refusals,
   odd shapes against naive double loops, and the float64 flat-buffer kernels (dropout's mask
   is the float32 one, the finiteness check, buffer sums, the SGD step, argmax).  Linked
   statically: the flat-buffer kernels are private. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "kernels/kernels.h"

TestSuite(f64, .fini = tc_leak_check);

static double *dalloc_normal(nb_rng *r, size_t n, double sd)
{
    double *a = tc_dalloc(n);
    for (size_t i = 0; i < n; i++)
        a[i] = sd * nb_rng_normal(r);
    return a;
}

static double max_rel(const double *a, const double *ref, size_t n)
{
    double m = 0.0, e = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(ref[i]));
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs(a[i] - ref[i]));
    return m > 0.0 ? e / m : e;
}

Test(f64, tensor_api)
{
    double buf[6] = {1, 2, 3, 4, 5, 6};
    nb_tensor v = nb_tensor_view_f64(buf, 2, 3);
    cr_assert_eq(nb_tensor_dtype(&v), NB_F64);
    cr_assert_eq(v.data64, buf);
    cr_assert_null(v.data);
    nb_tensor r = nb_tensor_rows(&v, 1, 1); /* keeps the element type */
    cr_assert_eq(nb_tensor_dtype(&r), NB_F64);
    cr_assert_eq(r.data64, buf + 3);
    cr_assert_null(r.data);
    cr_assert_eq(r.rows, 1);
    nb_tensor bad = nb_tensor_rows(&v, 2, 1);
    cr_assert(bad.data == NULL && bad.data64 == NULL && bad.rows == 0);

    float fb[2] = {1, 2};
    nb_tensor f = nb_tensor_view(fb, 1, 2), pos = {1, 2, fb, NULL}, zero = {0};
    cr_assert_eq(nb_tensor_dtype(&f), NB_F32);
    cr_assert_eq(nb_tensor_dtype(&pos), NB_F32); /* a positional float initialiser */
    cr_assert_eq(nb_tensor_dtype(&zero), NB_F32);
    cr_assert_eq(nb_tensor_dtype(NULL), NB_F32);
    nb_tensor fr = nb_tensor_rows(&f, 0, 1);
    cr_assert(fr.data == fb && fr.data64 == NULL);

    nb_tensor t;
    tc_fill_sentinel(&t, sizeof t);
    cr_assert_eq(nb_tensor_alloc_f64(&t, 17, 13), NB_OK);
    cr_assert_eq(nb_tensor_dtype(&t), NB_F64);
    cr_assert_null(t.data);
    cr_assert_eq((uintptr_t)t.data64 % 64, 0);
    for (size_t i = 0; i < 17 * 13; i++)
        cr_assert_eq(t.data64[i], 0.0);
    nb_tensor_free(&t);
    cr_assert(t.data == NULL && t.data64 == NULL && t.rows == 0 && t.cols == 0);
    nb_tensor_free(&t);

    cr_assert_eq(nb_tensor_alloc_as(&t, 2, 2, NB_F32), NB_OK);
    cr_assert(t.data != NULL && t.data64 == NULL);
    nb_tensor_free(&t);
    nb_tensor before;
    tc_fill_sentinel(&t, sizeof t);
    memcpy(&before, &t, sizeof t);
    cr_assert_eq(nb_tensor_alloc_as(&t, 2, 2, (nb_dtype)7), NB_ERR_ARG);
    cr_assert_eq(nb_tensor_alloc_f64(&t, 0, 2), NB_ERR_SHAPE);
    cr_assert_eq(nb_tensor_alloc_f64(&t, SIZE_MAX / 4, 4), NB_ERR_OVERFLOW);
    cr_assert_eq(nb_tensor_alloc_f64(NULL, 1, 1), NB_ERR_NULL);
    cr_assert_eq(memcmp(&before, &t, sizeof t), 0, "failed allocation changed *t");
    cr_assert_str_eq(nb_status_str(NB_ERR_TYPE),
                     "wrong tensor element type (float32 / float64), or mixed element types");
}

/* Every public kernel refuses a call mixing float32 and float64 tensors, in any position,
   with NB_ERR_TYPE, and leaves the outputs untouched. */
Test(f64, mixed_types_refused)
{
    float f[64];
    double d[64];
    for (int i = 0; i < 64; i++)
        f[i] = 0.25f * (float)(i % 7), d[i] = 0.25 * (i % 7);
    /* X 2x3, W 3x2, b 1x2, Z 2x2 of each type, disjoint */
    nb_tensor Xf = nb_tensor_view(f, 2, 3), Wf = nb_tensor_view(f + 8, 3, 2),
              bf = nb_tensor_view(f + 16, 1, 2), Zf = nb_tensor_view(f + 24, 2, 2),
              Gf = nb_tensor_view(f + 32, 2, 2), dXf = nb_tensor_view(f + 40, 2, 3);
    nb_tensor Xd = nb_tensor_view_f64(d, 2, 3), Wd = nb_tensor_view_f64(d + 8, 3, 2),
              bd = nb_tensor_view_f64(d + 16, 1, 2), Zd = nb_tensor_view_f64(d + 24, 2, 2),
              Gd = nb_tensor_view_f64(d + 32, 2, 2), dXd = nb_tensor_view_f64(d + 40, 2, 3);
    float f0[64];
    double d0[64];
    memcpy(f0, f, sizeof f);
    memcpy(d0, d, sizeof d);
    nb_tensor *Xs[2] = {&Xf, &Xd}, *Ws[2] = {&Wf, &Wd}, *bs[2] = {&bf, &bd}, *Zs[2] = {&Zf, &Zd};
    nb_tensor *Gs[2] = {&Gf, &Gd}, *dXs[2] = {&dXf, &dXd};
    /* dense: all of one type but the argument in position p, for either majority type */
    for (int major = 0; major < 2; major++) {
        int o = 1 - major;
        for (int p = 0; p < 4; p++) {
            cr_expect_eq(nb_dense_forward(Xs[p == 0 ? o : major], Ws[p == 1 ? o : major],
                                          bs[p == 2 ? o : major], Zs[p == 3 ? o : major]),
                         NB_ERR_TYPE, "forward: type %d, position %d", major, p);
        }
        for (int p = 0; p < 6; p++) {
            nb_tensor dWf = nb_tensor_view(f + 48, 3, 2), dWd = nb_tensor_view_f64(d + 48, 3, 2);
            nb_tensor *dW2[2] = {&dWf, &dWd};
            cr_expect_eq(nb_dense_backward(Xs[p == 0 ? o : major], Ws[p == 1 ? o : major],
                                           Gs[p == 2 ? o : major], dW2[p == 3 ? o : major],
                                           bs[p == 4 ? o : major], dXs[p == 5 ? o : major]),
                         NB_ERR_TYPE, "backward: type %d, position %d", major, p);
        }
    }
    for (int k = 0; k < NB_ACT_COUNT; k++) {
        nb_act a = (nb_act)k;
        cr_expect_eq(nb_act_backward_z(a, &Zf, &Zd, &Gd), NB_ERR_TYPE);
        cr_expect_eq(nb_act_backward_z(a, &Zd, &Zf, &Gf), NB_ERR_TYPE);
        cr_expect_eq(nb_act_backward_z(a, &Zd, &Zd, &Gf), NB_ERR_TYPE);
        cr_expect_eq(nb_act_backward(a, &Zf, &Gd), NB_ERR_TYPE);
        cr_expect_eq(nb_act_backward(a, &Zd, &Gf), NB_ERR_TYPE);
    }
    double lossd = 42.0;
    float lossf = 42.0f;
    for (int k = 0; k < NB_LOSS_COUNT; k++) {
        nb_loss l = (nb_loss)k;
        cr_expect_eq(nb_loss_forward(l, &Zf, &Gd, &lossf), NB_ERR_TYPE);
        cr_expect_eq(nb_loss_forward(l, &Zd, &Gf, &lossf), NB_ERR_TYPE);
        cr_expect_eq(nb_loss_forward_d(l, &Zd, &Gf, &lossd), NB_ERR_TYPE);
        cr_expect_eq(nb_loss_backward(l, &Zd, &Gd, &bf), NB_ERR_TYPE);
        cr_expect_eq(nb_loss_backward(l, &Zf, &Gf, &Gd), NB_ERR_TYPE);
        cr_expect_eq(nb_loss_backward(l, &Zd, &Gf, &Zd), NB_ERR_TYPE);
    }
    cr_expect_eq(nb_sgd_step(&Zf, &Gd, 0.1f), NB_ERR_TYPE);
    cr_expect_eq(nb_sgd_step(&Zd, &Gf, 0.1f), NB_ERR_TYPE);
    cr_expect_eq(nb_sgd_step_f64(&Zf, &Gf, 0.1), NB_ERR_TYPE);
    cr_expect_eq(nb_sgd_step_f64(&Zd, &Gf, 0.1), NB_ERR_TYPE);
    cr_assert_eq(memcmp(f, f0, sizeof f), 0, "a refused call wrote float memory");
    cr_assert_eq(memcmp(d, d0, sizeof d), 0, "a refused call wrote double memory");
    cr_assert_eq(lossd, 42.0);
    cr_assert_eq(lossf, 42.0f);

    /* a tensor claiming both types is neither */
    nb_tensor both = Zf;
    both.data64 = d + 48;
    cr_expect_eq(nb_act_forward(NB_ACT_RELU, &both), NB_ERR_TYPE);
    cr_expect_eq(nb_sgd_step(&both, &Gf, 0.1f), NB_ERR_TYPE);
}

/* Functions that take float32 only refuse float64 tensors with NB_ERR_TYPE (through the
   shared checks), never reading them as float. */
Test(f64, float_only_functions_refuse)
{
    nb_layer_spec L[] = {{4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    cr_assert_eq(nb_net_create(&net, 3, L, 2, 1), NB_OK);
    double x[3 * 5] = {0}, t[2 * 5] = {0};
    nb_tensor X = nb_tensor_view_f64(x, 5, 3), T = nb_tensor_view_f64(t, 5, 2), Y;
    cr_expect_eq(nb_net_forward(net, &X, &Y), NB_ERR_TYPE);
    float xf[15] = {0};
    nb_tensor Xf = nb_tensor_view(xf, 5, 3);
    cr_assert_eq(nb_net_forward(net, &Xf, &Y), NB_OK);
    float loss;
    cr_expect_eq(nb_net_backward(net, NB_LOSS_MSE, &T, &loss), NB_ERR_TYPE);
    nb_net_free(net);
}

/* Odd shapes through the public float64 dense kernels against naive double loops. */
Test(f64, dense_naive_reference)
{
    static const size_t shapes[][3] = {{1, 1, 1}, {1, 7, 3},  {2, 1, 9},   {5, 3, 1},
                                       {13, 17, 19}, {31, 2, 33}, {64, 65, 63}, {3, 600, 2}};
    nb_rng r;
    nb_rng_seed(&r, 7);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        size_t B = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
        double *x = dalloc_normal(&r, B * I, 1.0), *w = dalloc_normal(&r, I * O, 0.3);
        double *b = dalloc_normal(&r, O, 1.0), *g = dalloc_normal(&r, B * O, 1.0);
        double *z = tc_dalloc(B * O), *dw = tc_dalloc(I * O), *db = tc_dalloc(O),
               *dx = tc_dalloc(B * I);
        double *rz = tc_dalloc(B * O), *rdw = tc_dalloc(I * O), *rdb = tc_dalloc(O),
               *rdx = tc_dalloc(B * I);
        for (size_t i = 0; i < B * O; i++)
            z[i] = NAN; /* overwritten, not accumulated */
        for (size_t i = 0; i < B; i++)
            for (size_t o = 0; o < O; o++) {
                double acc = b[o];
                for (size_t k = 0; k < I; k++)
                    acc += x[i * I + k] * w[k * O + o];
                rz[i * O + o] = acc;
            }
        for (size_t k = 0; k < I; k++)
            for (size_t o = 0; o < O; o++) {
                double acc = 0.0;
                for (size_t i = 0; i < B; i++)
                    acc += x[i * I + k] * g[i * O + o];
                rdw[k * O + o] = acc;
            }
        for (size_t o = 0; o < O; o++) {
            double acc = 0.0;
            for (size_t i = 0; i < B; i++)
                acc += g[i * O + o];
            rdb[o] = acc;
        }
        for (size_t i = 0; i < B; i++)
            for (size_t k = 0; k < I; k++) {
                double acc = 0.0;
                for (size_t o = 0; o < O; o++)
                    acc += g[i * O + o] * w[k * O + o];
                rdx[i * I + k] = acc;
            }
        nb_tensor X = nb_tensor_view_f64(x, B, I), W = nb_tensor_view_f64(w, I, O),
                  Bt = nb_tensor_view_f64(b, 1, O), G = nb_tensor_view_f64(g, B, O),
                  Z = nb_tensor_view_f64(z, B, O), dW = nb_tensor_view_f64(dw, I, O),
                  dB = nb_tensor_view_f64(db, 1, O), dX = nb_tensor_view_f64(dx, B, I);
        cr_assert_eq(nb_dense_forward(&X, &W, &Bt, &Z), NB_OK);
        cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, &dB, &dX), NB_OK);
        cr_expect_leq(max_rel(z, rz, B * O), 1e-14, "Z %zux%zux%zu", B, I, O);
        cr_expect_leq(max_rel(dw, rdw, I * O), 1e-14, "dW %zux%zux%zu", B, I, O);
        cr_expect_leq(max_rel(db, rdb, O), 1e-14, "db %zux%zux%zu", B, I, O);
        cr_expect_leq(max_rel(dx, rdx, B * I), 1e-14, "dX %zux%zux%zu", B, I, O);
        /* without bias and the optional outputs */
        cr_assert_eq(nb_dense_forward(&X, &W, NULL, &Z), NB_OK);
        for (size_t i = 0; i < B; i++)
            for (size_t o = 0; o < O; o++)
                rz[i * O + o] -= b[o];
        cr_expect_leq(max_rel(z, rz, B * O), 1e-14, "Z no bias %zux%zux%zu", B, I, O);
        cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, NULL, NULL), NB_OK);
        cr_expect_leq(max_rel(dw, rdw, I * O), 1e-14);
        double *bufs[] = {x, w, b, g, z, dw, db, dx, rz, rdw, rdb, rdx};
        for (size_t i = 0; i < 12; i++)
            free(bufs[i]);
    }
}

/* The private float64 flat-buffer kernels. */
Test(f64, flat_kernels)
{
    enum { N = 1001 };
    nb_rng r;
    nb_rng_seed(&r, 11);
    double *a = dalloc_normal(&r, N, 1.0), *b = dalloc_normal(&r, N, 1.0), *c = tc_dalloc(N);
    float *af = tc_falloc(N), *cf = tc_falloc(N);
    for (size_t i = 0; i < N; i++)
        af[i] = (float)a[i];

    /* dropout: the float64 mask is the float32 one, element for element, slices included */
    uint64_t key = nb__dropout_key(3, 5, 1);
    nb__dropout_fwd_f64(a, c, N, 0.3f, key, 17);
    nb__dropout_fwd(af, cf, N, 0.3f, key, 17);
    size_t kept = 0;
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(c[i] == 0.0, cf[i] == 0.0f, "mask differs at %zu", i);
        if (c[i] != 0.0) {
            kept++;
            cr_assert_eq(c[i], a[i] * (1.0 / (1.0 - (double)0.3f)));
        }
    }
    cr_expect(kept > N / 2 && kept < N * 9 / 10);
    memcpy(c, b, N * sizeof(double));
    nb__dropout_bwd_f64(c, N, 0.3f, key, 17);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(c[i] == 0.0, cf[i] == 0.0f);

    /* finiteness: every position of NaN, +inf, -inf is found; the largest double is finite */
    cr_assert(nb__all_finite_f64(a, N));
    c[0] = DBL_MAX;
    cr_assert(nb__all_finite_f64(c, 1));
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < 3; k++)
        for (size_t pos = 0; pos < N; pos += 97) {
            memcpy(c, a, N * sizeof(double));
            c[pos] = bad[k];
            cr_assert(!nb__all_finite_f64(c, N), "missed %g at %zu", bad[k], pos);
        }

    /* sums, the SGD step (public, with a double rate), argmax */
    memcpy(c, a, N * sizeof(double));
    nb__vadd_f64(c, b, N);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(c[i], a[i] + b[i]);
    nb_tensor P = nb_tensor_view_f64(c, 7, 143), dP = nb_tensor_view_f64(b, 7, 143);
    memcpy(c, a, N * sizeof(double));
    cr_assert_eq(nb_sgd_step_f64(&P, &dP, 0.1), NB_OK);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(c[i], a[i] - 0.1 * b[i]);
    memcpy(c, a, N * sizeof(double));
    cr_assert_eq(nb_sgd_step(&P, &dP, 0.5f), NB_OK); /* dispatch: the float rate, widened */
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(c[i], a[i] - 0.5 * b[i]);
    cr_assert_eq(nb_sgd_step_f64(&P, &dP, NAN), NB_ERR_ARG);
    cr_assert_eq(nb_sgd_step_f64(&P, &dP, -1.0), NB_ERR_ARG);
    cr_assert_eq(nb_sgd_step_f64(&P, &P, 0.1), NB_ERR_ALIAS);

    const double v[] = {1.0, 3.0, NAN, 3.0, -1.0};
    cr_assert_eq(nb_argmax_f64(v, 5), 1); /* first of equal maxima; NaN never wins */
    cr_assert_eq(nb_argmax_f64(NULL, 5), 0);
    const double one[] = {0.5}, below[] = {0.49999999999};
    cr_assert_eq(nb_class_of_f64(one, 1), 1);
    cr_assert_eq(nb_class_of_f64(below, 1), 0);
    cr_assert_eq(nb_class_of_f64(v, 5), 1);
    free(a), free(b), free(c), free(af), free(cf);
}
