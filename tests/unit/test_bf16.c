/* bf16 mixed precision (nablas/precision.h, src/kernels/dense_bf16.c): the rounding, each
   product against a reference that rounds its inputs to bf16 exactly and accumulates in
   double, the API's statuses, and W2-like training in bf16 against fp32.  Where the library
   has no oneDNN or the CPU no AVX512-BF16, only the statuses are checked. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "kernels/dense_bf16.h" /* the private kernels, to test each product alone */

TestSuite(bf16, .fini = tc_leak_check);

static bool have_bf16(void) { return nb_precision_available(NB_PRECISION_BF16) == NB_OK; }

static float bits_f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The reference rounding, by another method than the library's: of the two bf16 neighbours
   of x (truncation, and one step further from zero) the nearer in double, ties to the even
   one. */
static float ref_bf16(float x)
{
    if (isnan(x) || isinf(x))
        return x;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u;
    double dl = fabs((double)x - bits_f(lo)), dh = fabs((double)bits_f(hi) - x);
    if (dl < dh || (dl == dh && !(lo & 0x10000u)))
        return bits_f(lo);
    return bits_f(hi);
}

static float *rounded(const float *a, size_t n)
{
    float *r = tc_falloc(n);
    for (size_t i = 0; i < n; i++)
        r[i] = ref_bf16(a[i]);
    return r;
}

Test(bf16, rounds_to_nearest_even)
{
    const uint32_t in[] = {0x3f800000u, 0x3f808000u, 0x3f818000u, 0x3f808001u, 0x3f80ffffu,
                           0xbf808000u, 0x7f7fffffu, 0x00000001u, 0x80000000u, 0x7f800000u};
    const uint16_t want[] = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0x3f81,
                             0xbf80, 0x7f80, 0x0000, 0x8000, 0x7f80};
    size_t n = sizeof in / sizeof in[0];
    float x[16];
    uint16_t y[16];
    for (size_t i = 0; i < n; i++)
        x[i] = bits_f(in[i]);
    nb__to_bf16(x, y, n);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(y[i], want[i], "0x%08x -> 0x%04x, want 0x%04x", in[i], y[i], want[i]);
    x[0] = NAN;
    nb__to_bf16(x, y, 1);
    cr_expect(isnan(bits_f((uint32_t)y[0] << 16)), "NaN must stay NaN");
    /* random values against the reference, and the transposing form */
    nb_rng r;
    nb_rng_seed(&r, 5);
    enum { R = 37, C = 45 };
    float *a = tc_falloc(R * C);
    tc_fill_normal(&r, a, R * C, 0.0, 100.0);
    uint16_t *b = malloc(R * C * sizeof *b), *bt = malloc(R * C * sizeof *bt);
    cr_assert(b && bt);
    nb__to_bf16(a, b, R * C);
    nb__to_bf16_t(a, bt, R, C);
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < C; j++) {
            float want_f = ref_bf16(a[i * C + j]);
            cr_assert_eq(bits_f((uint32_t)b[i * C + j] << 16), want_f, "at %zu,%zu", i, j);
            cr_assert_eq(bt[j * R + i], b[i * C + j], "transposed at %zu,%zu", i, j);
        }
    free(a), free(b), free(bt);
}

/* |got - ref| within fp32 accumulation of k exact products: k 2^-23 sum |terms| */
static void expect_close(const float *got, const double *ref, const double *absum, size_t n,
                         size_t k, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double tol = (double)k * 0x1p-23 * absum[i] + 1e-30;
        cr_assert_leq(fabs(got[i] - ref[i]), tol, "%s[%zu]: %.9g vs %.9g (tol %.3g)", what, i,
                      got[i], ref[i], tol);
    }
}

/* sums of |x||w| that bound each output's accumulation error, for C = A B (A m x k, B k x n) */
static void abs_product(const float *A, const float *B, double *C, size_t m, size_t k, size_t n,
                        bool at, bool bt)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t p = 0; p < k; p++)
                s += fabs((double)(at ? A[p * m + i] : A[i * k + p]))
                     * fabs((double)(bt ? B[j * k + p] : B[p * n + j]));
            C[i * n + j] = s;
        }
}

static void check_products(size_t batch, size_t in, size_t out)
{
    nb_rng r;
    nb_rng_seed(&r, batch * 131 + in * 7 + out);
    float *X = tc_falloc(batch * in), *W = tc_falloc(in * out), *b = tc_falloc(out);
    float *G = tc_falloc(batch * out);
    tc_fill_normal(&r, X, batch * in, 0.0, 1.0);
    tc_fill_normal(&r, W, in * out, 0.0, 0.1);
    tc_fill_normal(&r, b, out, 0.0, 0.1);
    tc_fill_normal(&r, G, batch * out, 0.0, 0.01);
    float *Xr = rounded(X, batch * in), *Wr = rounded(W, in * out), *Gr = rounded(G, batch * out);

    size_t width[2] = {in, out};
    nb__bf16 *h = NULL;
    cr_assert_eq(nb__bf16_create(&h, width, 1), NB_OK);
    cr_assert_eq(nb__bf16_prepare(h, batch), NB_OK);

    /* forward: Z = bf16(X) bf16(W) + b */
    float *Z = tc_falloc(batch * out);
    double *ref = tc_dalloc(batch * out), *ab = tc_dalloc(batch * out);
    nb__dense_act_fwd_p(h, 0, X, W, b, Z, batch, in, out, NB_ACT_IDENTITY);
    ref_dense_fwd(Xr, Wr, b, ref, batch, in, out);
    abs_product(Xr, Wr, ab, batch, in, out, false, false);
    for (size_t i = 0; i < batch * out; i++)
        ab[i] += fabs(b[i % out]);
    expect_close(Z, ref, ab, batch * out, in + 1, "forward");
    /* it is bf16: against the unrounded inputs the error is far larger somewhere */
    double *ref32 = tc_dalloc(batch * out);
    ref_dense_fwd(X, W, b, ref32, batch, in, out);
    double worst = 0.0;
    for (size_t i = 0; i < batch * out; i++)
        worst = fmax(worst, fabs(Z[i] - ref32[i]) / (ab[i] + 1e-30));
    if (batch * in * out >= 1000)
        cr_expect_gt(worst, 1e-4, "the forward product did not round its inputs to bf16");

    /* backward: dW = bf16(X)^T bf16(G), db = colsum(G) (fp32 G), dX = bf16(G) bf16(W)^T */
    float *dW = tc_falloc(in * out), *db = tc_falloc(out), *dX = tc_falloc(batch * in);
    double *rdW = tc_dalloc(in * out), *rdb = tc_dalloc(out), *rdX = tc_dalloc(batch * in);
    double *adW = tc_dalloc(in * out), *adX = tc_dalloc(batch * in), *adb = tc_dalloc(out);
    nb__dense_bwd_p(h, 0, X, W, G, dW, db, dX, batch, in, out);
    ref_dense_bwd(Xr, Wr, Gr, rdW, NULL, rdX, batch, in, out);
    abs_product(Xr, Gr, adW, in, batch, out, true, false);
    abs_product(Gr, Wr, adX, batch, out, in, false, true);
    for (size_t j = 0; j < out; j++) { /* the bias gradient sums the fp32 G */
        adb[j] = rdb[j] = 0.0;
        for (size_t i = 0; i < batch; i++) {
            adb[j] += fabs(G[i * out + j]);
            rdb[j] += G[i * out + j];
        }
    }
    expect_close(dW, rdW, adW, in * out, batch, "dW");
    expect_close(dX, rdX, adX, batch * in, out, "dX");
    expect_close(db, rdb, adb, out, 1, "db");

    /* the fused update: W - lr dW in fp32, b - lr db */
    float lr = 0.05f;
    float *W2 = tc_fdup(W, in * out), *b2 = tc_fdup(b, out);
    nb__dense_update_p(h, 0, X, G, W2, b2, batch, in, out, lr);
    for (size_t i = 0; i < in * out; i++)
        cr_assert_leq(fabs(W2[i] - (W[i] - lr * rdW[i])),
                      lr * ((double)batch * 0x1p-23 * adW[i]) + 0x1p-23 * fabs(W[i]) * 2,
                      "update W[%zu]", i);
    for (size_t j = 0; j < out; j++)
        cr_assert_leq(fabs(b2[j] - (b[j] - lr * rdb[j])), 1e-6 * (1 + fabs(b[j])), "update b");

    nb__bf16_free(h);
    free(X), free(W), free(b), free(G), free(Xr), free(Wr), free(Gr), free(Z), free(ref);
    free(ab), free(ref32), free(dW), free(db), free(dX), free(rdW), free(rdb), free(rdX);
    free(adW), free(adX), free(adb), free(W2), free(b2);
}

Test(bf16, products_match_a_bf16_rounded_reference)
{
    if (!have_bf16())
        cr_skip_test("bf16 not available here (%s)",
                     nb_status_str(nb_precision_available(NB_PRECISION_BF16)));
    check_products(1, 1, 1);
    check_products(37, 53, 29);  /* odd sizes everywhere */
    check_products(64, 64, 128); /* a W2 layer */
    check_products(256, 300, 70);
}

Test(bf16, statuses)
{
    nb_status avail = nb_precision_available(NB_PRECISION_BF16);
    cr_assert(avail == NB_OK || avail == NB_ERR_CPU || avail == NB_ERR_UNSUPPORTED);
    cr_assert_eq(nb_precision_available(NB_PRECISION_FP32), NB_OK);
    cr_assert_eq(nb_precision_available((nb_precision)7), NB_ERR_ARG);
    cr_assert_eq(nb_net_set_precision(NULL, NB_PRECISION_BF16), NB_ERR_NULL);
    cr_assert_eq(nb_net_precision(NULL), NB_PRECISION_FP32);
    nb_layer_spec spec[] = {{8, NB_ACT_RELU, 0}, {3, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    cr_assert_eq(nb_net_create(&net, 4, spec, 2, 1), NB_OK);
    cr_assert_eq(nb_net_set_precision(net, (nb_precision)-1), NB_ERR_ARG);
    cr_assert_eq(nb_net_set_precision(net, NB_PRECISION_BF16), avail);
    cr_assert_eq(nb_net_precision(net), avail == NB_OK ? NB_PRECISION_BF16 : NB_PRECISION_FP32);
    cr_assert_eq(nb_net_set_precision(net, NB_PRECISION_FP32), NB_OK);
    cr_assert_eq(nb_net_precision(net), NB_PRECISION_FP32);
    nb_net_free(net);
    nb_precision p = NB_PRECISION_FP32;
    cr_assert_eq(nb_precision_parse(&p, "bf16"), NB_OK);
    cr_assert_eq(p, NB_PRECISION_BF16);
    cr_assert_str_eq(nb_precision_name(NB_PRECISION_FP32), "fp32");
    cr_assert_eq(nb_precision_parse(&p, "fp16"), NB_ERR_ARG);
    cr_assert_null(nb_precision_name(NB_PRECISION_COUNT));
}

/* W2 of the benchmarks (64-128-64-10, softmax CE, SGD lr 0.05, batch 64, 1500 rows of random
   one-hot classes, shuffled), 20 epochs in fp32 and in bf16 from the same start: the final
   training loss may differ by at most 2% (the bench's figure is about 0.1-0.5%). */
static double train_w2(nb_precision p)
{
    enum { N = 1500, IN = 64, OUT = 10 };
    nb_rng r;
    nb_rng_seed(&r, 2);
    float *x = tc_falloc(N * IN), *t = tc_falloc(N * OUT);
    tc_fill_uniform(&r, x, N * IN, 0.0, 1.0);
    tc_fill_prob_rows(&r, t, N, OUT, true);
    nb_layer_spec spec[] = {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    cr_assert_eq(nb_net_create(&net, IN, spec, 3, 11), NB_OK);
    cr_assert_eq(nb_net_set_precision(net, p), NB_OK);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE, o.batch_size = 64, o.epochs = 20, o.lr = 0.05f, o.seed = 3;
    nb_tensor X = nb_tensor_view(x, N, IN), T = nb_tensor_view(t, N, OUT);
    nb_train_report rep;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, &rep), NB_OK);
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_SOFTMAX_CE, &ev), NB_OK);
    nb_net_free(net);
    free(x), free(t);
    return ev.loss;
}

Test(bf16, w2_training_ends_near_fp32, .timeout = 120)
{
    if (!have_bf16())
        cr_skip_test("bf16 not available here");
    double l32 = train_w2(NB_PRECISION_FP32), l16 = train_w2(NB_PRECISION_BF16);
    cr_log_info("W2 20 epochs: loss fp32 %.5f, bf16 %.5f (%.2f%%)", l32, l16,
                100.0 * (l16 - l32) / l32);
    cr_assert(isfinite(l16));
    cr_assert_lt(l32, 2.2, "fp32 did not learn"); /* ln 10 = 2.30 at the start */
    cr_assert_leq(fabs(l16 - l32) / l32, 0.02, "bf16 loss %.5f vs fp32 %.5f", l16, l32);
}

/* The public forward and backward (what the optimizers' step path runs) in bf16: gradients
   within 3% (norm-wise) of fp32's, and not equal to them (the products really are bf16). */
Test(bf16, public_forward_backward_gradients)
{
    if (!have_bf16())
        cr_skip_test("bf16 not available here");
    enum { N = 96, IN = 40, OUT = 5 };
    nb_rng r;
    nb_rng_seed(&r, 4);
    float *x = tc_falloc(N * IN), *t = tc_falloc(N * OUT);
    tc_fill_normal(&r, x, N * IN, 0.0, 1.0);
    tc_fill_prob_rows(&r, t, N, OUT, true);
    nb_layer_spec spec[] = {{64, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_tensor X = nb_tensor_view(x, N, IN), T = nb_tensor_view(t, N, OUT);
    float *g[2];
    size_t np = 0;
    for (int p = 0; p < 2; p++) {
        nb_net *net = NULL;
        cr_assert_eq(nb_net_create(&net, IN, spec, 2, 5), NB_OK);
        cr_assert_eq(nb_net_set_precision(net, p ? NB_PRECISION_BF16 : NB_PRECISION_FP32), NB_OK);
        cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK);
        cr_assert_eq(nb_net_backward(net, NB_LOSS_SOFTMAX_CE, &T, NULL), NB_OK);
        np = nb_net_num_params(net);
        g[p] = tc_fdup(nb_net_grads(net), np);
        nb_net_free(net);
    }
    double err = tc_rel_err_ff(g[1], g[0], np);
    cr_log_info("bf16 gradient vs fp32: norm-wise relative error %.3g", err);
    cr_assert_leq(err, 0.03, "bf16 gradients %.3g from fp32's", err);
    cr_assert_gt(err, 1e-6, "bf16 gradients equal fp32's: the products were not bf16");
    free(g[0]), free(g[1]), free(x), free(t);
}
