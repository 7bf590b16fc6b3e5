/* Dense forward and backward against the naive double reference, on degenerate, prime and
   realistic shapes, with and without the optional bias / db / dX.  Tolerance: norm-wise relative
   error 1e-5 (float32 sgemm against double). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define TOL 1e-5

typedef struct { size_t batch, in, out; } shape3;

/* 1x1x1, batch 1, widths 1, primes, a width over the column-sum block, mid sizes; on both
   sides of the small-layer path's limits (batch*in*out <= 65536, padded widths <= 4096) and
   of the few-rows path's (batch <= 4: whole blocks of 64 outputs, a tail of 1 to 16, both). */
static const shape3 shapes[] = {
    {1, 1, 1},    {1, 13, 11},  {17, 1, 11},   {17, 13, 1},   {1, 1, 7},    {7, 1, 1},
    {17, 13, 11}, {4, 16, 16},  {5, 17, 3},    {13, 20, 37},  {6, 64, 48},  {64, 32, 32},
    {65, 32, 32}, {3, 5, 1031}, {64, 100, 33}, {31, 127, 67}, {1, 784, 10}, {129, 7, 513},
    {1, 64, 128}, {2, 128, 64}, {3, 64, 10},   {4, 32, 129},  {1, 4, 32},   {2, 32, 1},
    {4, 3, 200},  {1, 1024, 1024},
};

typedef struct {
    size_t batch, in, out;
    float *X, *W, *b, *G;
    double *ref;
} dense_case;

static void case_init(dense_case *c, shape3 s, uint64_t seed)
{
    nb_rng r;
    nb_rng_seed(&r, seed);
    c->batch = s.batch;
    c->in = s.in;
    c->out = s.out;
    c->X = tc_falloc(s.batch * s.in);
    c->W = tc_falloc(s.in * s.out);
    c->b = tc_falloc(s.out);
    c->G = tc_falloc(s.batch * s.out);
    tc_fill_uniform(&r, c->X, s.batch * s.in, -1, 1);
    tc_fill_uniform(&r, c->W, s.in * s.out, -1, 1);
    tc_fill_uniform(&r, c->b, s.out, -1, 1);
    tc_fill_uniform(&r, c->G, s.batch * s.out, -1, 1);
    size_t big = s.batch * s.out > s.in * s.out ? s.batch * s.out : s.in * s.out;
    c->ref = tc_dalloc(big > s.batch * s.in ? big : s.batch * s.in);
}

static void case_free(dense_case *c)
{
    free(c->X);
    free(c->W);
    free(c->b);
    free(c->G);
    free(c->ref);
}

/* Forward with and without bias; returns the worst relative error. */
static double check_forward(dense_case *c)
{
    nb_tensor X = nb_tensor_view(c->X, c->batch, c->in), W = nb_tensor_view(c->W, c->in, c->out);
    nb_tensor b = nb_tensor_view(c->b, 1, c->out);
    float *z = tc_falloc(c->batch * c->out);
    float *X0 = tc_fdup(c->X, c->batch * c->in), *W0 = tc_fdup(c->W, c->in * c->out);
    nb_tensor Z = nb_tensor_view(z, c->batch, c->out);
    double worst = 0;
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        tc_fill_nan(z, c->batch * c->out); /* Z must be overwritten, never read */
        cr_assert_eq(nb_dense_forward(&X, &W, with_bias ? &b : NULL, &Z), NB_OK);
        ref_dense_fwd(c->X, c->W, with_bias ? c->b : NULL, c->ref, c->batch, c->in, c->out);
        double e = tc_rel_err(z, c->ref, c->batch * c->out);
        cr_assert_leq(e, TOL, "forward %zux%zux%zu bias %d: relative error %g", c->batch, c->in,
                      c->out, with_bias, e);
        worst = e > worst ? e : worst;
    }
    cr_assert_eq(memcmp(X0, c->X, c->batch * c->in * sizeof(float)), 0, "X modified");
    cr_assert_eq(memcmp(W0, c->W, c->in * c->out * sizeof(float)), 0, "W modified");
    free(z);
    free(X0);
    free(W0);
    return worst;
}

/* Backward with each of db and dX present or NULL; returns the worst relative error. */
static double check_backward(dense_case *c, int only_full)
{
    size_t nb = c->batch, ni = c->in, no = c->out;
    nb_tensor X = nb_tensor_view(c->X, nb, ni), W = nb_tensor_view(c->W, ni, no);
    nb_tensor G = nb_tensor_view(c->G, nb, no);
    float *dw = tc_falloc(ni * no), *db = tc_falloc(no), *dx = tc_falloc(nb * ni);
    double *rdw = tc_dalloc(ni * no), *rdb = tc_dalloc(no), *rdx = tc_dalloc(nb * ni);
    ref_dense_bwd(c->X, c->W, c->G, rdw, rdb, rdx, nb, ni, no);
    float *G0 = tc_fdup(c->G, nb * no);
    double worst = 0;
    for (int mask = only_full ? 3 : 0; mask < 4; mask++) {
        int want_db = mask & 1, want_dx = mask & 2;
        nb_tensor dW = nb_tensor_view(dw, ni, no), dB = nb_tensor_view(db, 1, no);
        nb_tensor dX = nb_tensor_view(dx, nb, ni);
        tc_fill_nan(dw, ni * no); /* outputs are overwritten, not accumulated */
        tc_fill_sentinel(db, no * sizeof(float));
        tc_fill_sentinel(dx, nb * ni * sizeof(float));
        float *db_before = tc_fdup(db, no), *dx_before = tc_fdup(dx, nb * ni);
        if (want_db)
            tc_fill_nan(db, no);
        if (want_dx)
            tc_fill_nan(dx, nb * ni);
        cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, want_db ? &dB : NULL,
                                       want_dx ? &dX : NULL), NB_OK);
        double e = tc_rel_err(dw, rdw, ni * no);
        if (want_db) {
            double e2 = tc_rel_err(db, rdb, no);
            e = e2 > e ? e2 : e;
        } else {
            cr_assert_eq(memcmp(db, db_before, no * sizeof(float)), 0, "db written while NULL");
        }
        if (want_dx) {
            double e2 = tc_rel_err(dx, rdx, nb * ni);
            e = e2 > e ? e2 : e;
        } else {
            cr_assert_eq(memcmp(dx, dx_before, nb * ni * sizeof(float)), 0, "dX written while NULL");
        }
        cr_assert_leq(e, TOL, "backward %zux%zux%zu db %d dX %d: relative error %g", nb, ni, no,
                      want_db, !!want_dx, e);
        worst = e > worst ? e : worst;
        free(db_before);
        free(dx_before);
    }
    cr_assert_eq(memcmp(G0, c->G, nb * no * sizeof(float)), 0, "G modified");
    free(G0);
    free(dw);
    free(db);
    free(dx);
    free(rdw);
    free(rdb);
    free(rdx);
    return worst;
}

TestSuite(dense, .fini = tc_leak_check);

Test(dense, forward_matches_reference_on_many_shapes)
{
    double worst = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        dense_case c;
        case_init(&c, shapes[s], 100 + s);
        double e = check_forward(&c);
        worst = e > worst ? e : worst;
        case_free(&c);
    }
    fprintf(stderr, "worst relative error, dense forward (small shapes): %.3g\n", worst);
}

Test(dense, backward_matches_reference_with_each_optional_output)
{
    double worst = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        dense_case c;
        case_init(&c, shapes[s], 200 + s);
        double e = check_backward(&c, 0);
        worst = e > worst ? e : worst;
        case_free(&c);
    }
    fprintf(stderr, "worst relative error, dense backward (small shapes): %.3g\n", worst);
}

/* The realistic size: batch 256, 784 inputs, 1024 outputs (sgemm with K up to 1024). */
Test(dense, realistic_256x784x1024)
{
    dense_case c;
    case_init(&c, (shape3){256, 784, 1024}, 300);
    double ef = check_forward(&c), eb = check_backward(&c, 1);
    fprintf(stderr, "worst relative error, 256x784x1024: forward %.3g, backward %.3g\n", ef, eb);
    case_free(&c);
}

/* A case small enough to check by hand, independent of the reference code. */
Test(dense, hand_computed_values)
{
    float x[] = {1, 2, 3, 4, 5, 6};          /* 2 x 3 */
    float w[] = {1, -1, 0, 2, 0.5f, 0.25f};  /* 3 x 2 */
    float b[] = {10, -10};
    float z[4], g[] = {1, 0, 0, 1}, dw[6], db[2], dx[6];
    nb_tensor X = nb_tensor_view(x, 2, 3), W = nb_tensor_view(w, 3, 2), B = nb_tensor_view(b, 1, 2);
    nb_tensor Z = nb_tensor_view(z, 2, 2), G = nb_tensor_view(g, 2, 2);
    nb_tensor dW = nb_tensor_view(dw, 3, 2), dB = nb_tensor_view(db, 1, 2), dX = nb_tensor_view(dx, 2, 3);
    cr_assert_eq(nb_dense_forward(&X, &W, &B, &Z), NB_OK);
    float ez[] = {1 + 0 + 1.5f + 10, -1 + 4 + 0.75f - 10, 4 + 0 + 3 + 10, -4 + 10 + 1.5f - 10};
    for (int i = 0; i < 4; i++)
        cr_assert_float_eq(z[i], ez[i], 1e-6, "z[%d] = %g, expected %g", i, z[i], ez[i]);
    cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, &dB, &dX), NB_OK);
    float edw[] = {1, 4, 2, 5, 3, 6}, edb[] = {1, 1}, edx[] = {1, 0, 0.5f, -1, 2, 0.25f};
    for (int i = 0; i < 6; i++) {
        cr_assert_float_eq(dw[i], edw[i], 1e-6, "dw[%d]", i);
        cr_assert_float_eq(dx[i], edx[i], 1e-6, "dx[%d]", i);
    }
    cr_assert_float_eq(db[0], edb[0], 1e-6);
    cr_assert_float_eq(db[1], edb[1], 1e-6);
}

/* Column sums accumulate in double: 2^24 + many ones would stall in a float accumulator. */
Test(dense, bias_gradient_accumulates_in_double)
{
    enum { ROWS = 4097 };
    float *x = tc_falloc(ROWS), *g = tc_falloc(ROWS), w = 1, dw, db;
    for (size_t i = 0; i < ROWS; i++) {
        x[i] = 0;
        g[i] = i == 0 ? 16777216.0f : 1.0f; /* 2^24, then 4096 ones */
    }
    nb_tensor X = nb_tensor_view(x, ROWS, 1), W = nb_tensor_view(&w, 1, 1), G = nb_tensor_view(g, ROWS, 1);
    nb_tensor dW = nb_tensor_view(&dw, 1, 1), dB = nb_tensor_view(&db, 1, 1);
    cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, &dB, NULL), NB_OK);
    cr_assert_eq(db, 16777216.0f + 4096.0f, "db = %.1f", db);
    free(x);
    free(g);
}

/* Without GCC's vector extensions (clang) every product is an sgemm call, whose bits may depend
   on the number of rows: the row and small paths exist only with them (core/base.h). */
#if defined(__GNUC__) && !defined(__clang__)
/* The few-rows path computes each element as the small path does: a row gives the same bits
   alone as inside a batch on either path (an inference context of max_batch 1 and
   nb_net_predict on many rows agree), for every vector width (outputs 1, 3, 8, 37, 100, 150).
   Shapes the small path takes, so that whatever rule picks the path of a few rows (it depends
   on the BLAS kernel set), the batch is computed by one of the two. */
Test(dense, a_row_alone_gives_the_bits_it_gets_in_a_batch)
{
    static const shape3 cases[] = {{4, 13, 37}, {4, 16, 3},  {3, 32, 100}, {2, 16, 150},
                                   {9, 13, 37}, {12, 16, 3}, {7, 5, 8},    {8, 32, 1}};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        shape3 sh = cases[t];
        dense_case c;
        case_init(&c, sh, 7 + t);
        float *zb = tc_falloc(sh.batch * sh.out), *z1 = tc_falloc(sh.out);
        nb_tensor X = nb_tensor_view(c.X, sh.batch, sh.in), W = nb_tensor_view(c.W, sh.in, sh.out);
        nb_tensor b = nb_tensor_view(c.b, 1, sh.out), Z = nb_tensor_view(zb, sh.batch, sh.out);
        cr_assert_eq(nb_dense_forward(&X, &W, &b, &Z), NB_OK);
        for (size_t i = 0; i < sh.batch; i++) {
            nb_tensor Xi = nb_tensor_view(c.X + i * sh.in, 1, sh.in);
            nb_tensor Zi = nb_tensor_view(z1, 1, sh.out);
            cr_assert_eq(nb_dense_forward(&Xi, &W, &b, &Zi), NB_OK);
            cr_assert_eq(memcmp(z1, zb + i * sh.out, sh.out * sizeof(float)), 0,
                         "%zux%zux%zu: row %zu differs", sh.batch, sh.in, sh.out, i);
        }
        free(zb);
        free(z1);
        case_free(&c);
    }
}

/* The same through a ReLU network (the ReLU fused into the product), a batch on the small path. */
Test(dense, a_relu_network_row_alone_gives_its_bits_in_a_batch)
{
    enum { B = 9, IN = 5 };
    nb_layer_spec spec[] = {{24, NB_ACT_RELU, 0}, {40, NB_ACT_RELU, 0}, {3, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, spec, 3, 11), NB_OK);
    float x[B * IN], yb[B * 3], y1[3];
    nb_rng r;
    nb_rng_seed(&r, 5);
    tc_fill_uniform(&r, x, B * IN, -2, 2);
    nb_tensor X = nb_tensor_view(x, B, IN), Y = nb_tensor_view(yb, B, 3);
    cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
    for (size_t i = 0; i < B; i++) {
        nb_tensor Xi = nb_tensor_view(x + i * IN, 1, IN), Yi = nb_tensor_view(y1, 1, 3);
        cr_assert_eq(nb_net_predict(net, &Xi, &Yi), NB_OK);
        cr_assert_eq(memcmp(y1, yb + 3 * i, sizeof y1), 0, "row %zu differs", i);
    }
    nb_net_free(net);
}
#endif
