/* The network: structure and parameter layout, initialisation, and every network operation
   against the same computation written as a chain of public kernels. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common.h"

/* ---- structure and layout ----------------------------------------------------------------- */

TestSuite(net, .fini = tc_leak_check);

Test(net, structure_and_packed_layout)
{
    const nb_layer_spec l[] = {{4, NB_ACT_RELU, 0}, {2, NB_ACT_SIGMOID, 0}, {5, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(3, l, 3, 1);
    cr_assert_eq(nb_net_inputs(net), 3);
    cr_assert_eq(nb_net_outputs(net), 5);
    cr_assert_eq(nb_net_num_layers(net), 3);
    cr_assert_eq(nb_net_num_params(net), 3 * 4 + 4 + 4 * 2 + 2 + 2 * 5 + 5);
    /* W_0, b_0, W_1, b_1, W_2, b_2 back to back */
    const size_t w_off[] = {0, 16, 26}, b_off[] = {12, 24, 36}, in[] = {3, 4, 2};
    float *P = nb_net_params(net), *D = nb_net_grads(net);
    cr_assert_not_null(P);
    cr_assert_not_null(D);
    cr_assert_neq(P, D);
    for (size_t k = 0; k < 3; k++) {
        nb_layer_spec s;
        cr_assert_eq(nb_net_layer(net, k, &s), NB_OK);
        cr_assert_eq(s.units, l[k].units);
        cr_assert_eq(s.act, l[k].act);
        nb_tensor W, b, dW, db;
        cr_assert_eq(nb_net_layer_params(net, k, &W, &b), NB_OK);
        cr_assert_eq(nb_net_layer_grads(net, k, &dW, &db), NB_OK);
        cr_assert_eq(W.data, P + w_off[k], "layer %zu W at offset %td", k, W.data - P);
        cr_assert_eq(b.data, P + b_off[k], "layer %zu b at offset %td", k, b.data - P);
        cr_assert_eq(dW.data, D + w_off[k]);
        cr_assert_eq(db.data, D + b_off[k]);
        cr_assert(W.rows == in[k] && W.cols == l[k].units && dW.rows == in[k] && dW.cols == l[k].units);
        cr_assert(b.rows == 1 && b.cols == l[k].units && db.rows == 1 && db.cols == l[k].units);
    }
    nb_net_free(net);
}

/* Parameters written through the buffer drive forward: a net small enough to do by hand. */
Test(net, forward_uses_the_parameter_buffer)
{
    const nb_layer_spec l[] = {{2, NB_ACT_RELU, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(2, l, 2, 1);
    /* W_0 = [[1, -1], [2, 1]], b_0 = [0.5, -4], W_1 = [[3], [-2]], b_1 = [1] */
    const float p[] = {1, -1, 2, 1, 0.5f, -4, 3, -2, 1};
    cr_assert_eq(nb_net_num_params(net), 9);
    memcpy(nb_net_params(net), p, sizeof p);
    float x[] = {1, 2, /* */ -1, 0};
    nb_tensor X = nb_tensor_view(x, 2, 2), Y;
    cr_assert_eq(nb_net_forward(net, &X, &Y), NB_OK);
    cr_assert_eq(Y.rows, 2);
    cr_assert_eq(Y.cols, 1);
    /* row 0: z = [1 + 4 + 0.5, -1 + 2 - 4] = [5.5, -3] -> relu [5.5, 0] -> 16.5 + 1 */
    cr_assert_float_eq(Y.data[0], 17.5f, 1e-5);
    /* row 1: z = [-1 + 0.5, 1 - 4] -> relu [0, 0] -> 1 */
    cr_assert_float_eq(Y.data[1], 1.0f, 1e-6);
    nb_net_free(net);
}

/* ---- initialisation ----------------------------------------------------------------------- */

Test(net, init_is_deterministic)
{
    const nb_layer_spec l[] = {{16, NB_ACT_RELU, 0}, {8, NB_ACT_TANH, 0}, {3, NB_ACT_SOFTMAX, 0}};
    nb_net *a = tc_net(4, l, 3, 42), *b = tc_net(4, l, 3, 42), *c = tc_net(4, l, 3, 43);
    size_t n = nb_net_num_params(a), bytes = n * sizeof(float);
    cr_assert_eq(memcmp(nb_net_params(a), nb_net_params(b), bytes), 0, "same seed, other params");
    cr_assert_neq(memcmp(nb_net_params(a), nb_net_params(c), bytes), 0);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += nb_net_params(a)[i] != nb_net_params(c)[i];
    cr_assert_gt(differ, n / 2, "seeds 42 and 43 share %zu of %zu params", n - differ, n);
    /* re-initialising reproduces create, after training moved the parameters */
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, t[6] = {1, 0, 0, 0, 1, 0};
    nb_tensor X = nb_tensor_view(x, 2, 4), T = nb_tensor_view(t, 2, 3);
    cr_assert_eq(nb_net_train_step(c, &X, &T, NB_LOSS_MSE, 0.5f, NULL), NB_OK);
    cr_assert_eq(nb_net_init_params(c, 42), NB_OK);
    cr_assert_eq(memcmp(nb_net_params(a), nb_net_params(c), bytes), 0);
    nb_net_free(a);
    nb_net_free(b);
    nb_net_free(c);
}

/* mean, standard deviation and max |w| of layer k's weights; biases must be 0 */
static void weight_stats(nb_net *net, size_t k, double *mean, double *sd, double *maxabs)
{
    nb_tensor W, b;
    cr_assert_eq(nb_net_layer_params(net, k, &W, &b), NB_OK);
    size_t n = W.rows * W.cols;
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += W.data[i];
        s2 += (double)W.data[i] * W.data[i];
    }
    *mean = s / (double)n;
    *sd = sqrt(s2 / (double)n - *mean * *mean);
    *maxabs = tc_max_abs(W.data, n);
    for (size_t j = 0; j < b.cols; j++)
        cr_assert_eq(b.data[j], 0.0f, "layer %zu bias %zu", k, j);
}

Test(net, he_and_xavier_statistics)
{
    /* every activation as the layer's own: ReLU family He-normal, the others Xavier-uniform */
    for (int a = 0; a < NB_ACT_COUNT; a++) {
        const nb_layer_spec l[] = {{500, (nb_act)a, 0}, {300, NB_ACT_IDENTITY, 0}};
        nb_net *net = tc_net(1000, l, 2, 7 + (uint64_t)a);
        bool he = a == NB_ACT_RELU || a == NB_ACT_LEAKY_RELU;
        double mean, sd, maxabs;
        weight_stats(net, 0, &mean, &sd, &maxabs);
        double want_sd = he ? sqrt(2.0 / 1000) : sqrt(6.0 / 1500) / sqrt(3.0);
        cr_assert_lt(fabs(sd / want_sd - 1), 0.1, "%s: sd %g, expected %g", nb_act_name(a), sd,
                     want_sd);
        cr_assert_lt(fabs(mean), 0.05 * want_sd, "%s: mean %g", nb_act_name(a), mean);
        if (he) /* normal: tails well past the uniform's bound sqrt(3) sd */
            cr_assert_gt(maxabs, 3 * want_sd, "%s looks uniform", nb_act_name(a));
        else
            cr_assert_leq(maxabs, sqrt(6.0 / 1500) * (1 + 1e-6), "%s: |w| %g beyond the bound",
                          nb_act_name(a), maxabs);
        /* the second layer (identity) is Xavier with its own fan-in and fan-out */
        weight_stats(net, 1, &mean, &sd, &maxabs);
        want_sd = sqrt(6.0 / 800) / sqrt(3.0);
        cr_assert_lt(fabs(sd / want_sd - 1), 0.1, "second layer sd %g, expected %g", sd, want_sd);
        cr_assert_leq(maxabs, sqrt(6.0 / 800) * (1 + 1e-6));
        nb_net_free(net);
    }
}

/* ---- the network against a chain of kernels ----------------------------------------------- */

enum { IN = 7, BATCH = 13, NL = 4 };
static const nb_layer_spec chain_layers[NL] = {
    {9, NB_ACT_RELU, 0}, {6, NB_ACT_TANH, 0}, {5, NB_ACT_LEAKY_RELU, 0}, {4, NB_ACT_SIGMOID, 0}};

typedef struct {
    float *A[NL];  /* activations of each layer */
    float *dW[NL], *db[NL];
} chain;

static void chain_forward(nb_net *net, const float *x, size_t batch, chain *c)
{
    nb_tensor in = nb_tensor_view((float *)x, batch, nb_net_inputs(net));
    for (size_t k = 0; k < nb_net_num_layers(net); k++) {
        nb_tensor W, b;
        cr_assert_eq(nb_net_layer_params(net, k, &W, &b), NB_OK);
        c->A[k] = tc_falloc(batch * W.cols);
        nb_tensor Z = nb_tensor_view(c->A[k], batch, W.cols);
        cr_assert_eq(nb_dense_forward(&in, &W, &b, &Z), NB_OK);
        nb_layer_spec s;
        nb_net_layer(net, k, &s);
        cr_assert_eq(nb_act_forward(s.act, &Z), NB_OK);
        in = Z;
    }
}

static void chain_backward(nb_net *net, const float *x, const float *t, size_t batch,
                           nb_loss loss, chain *c)
{
    size_t L = nb_net_num_layers(net), out = nb_net_outputs(net);
    nb_tensor Y = nb_tensor_view(c->A[L - 1], batch, out), T = nb_tensor_view((float *)t, batch, out);
    float *g = tc_falloc(batch * out);
    nb_tensor G = nb_tensor_view(g, batch, out);
    cr_assert_eq(nb_loss_backward(loss, &Y, &T, &G), NB_OK);
    for (size_t k = L; k-- > 0;) {
        nb_tensor W, b;
        nb_layer_spec s;
        nb_net_layer_params(net, k, &W, &b);
        nb_net_layer(net, k, &s);
        nb_tensor A = nb_tensor_view(c->A[k], batch, W.cols);
        cr_assert_eq(nb_act_backward(s.act, &A, &G), NB_OK);
        nb_tensor X = nb_tensor_view(k ? c->A[k - 1] : (float *)x, batch, W.rows);
        c->dW[k] = tc_falloc(W.rows * W.cols);
        c->db[k] = tc_falloc(W.cols);
        nb_tensor dW = nb_tensor_view(c->dW[k], W.rows, W.cols), db = nb_tensor_view(c->db[k], 1, W.cols);
        float *gx = tc_falloc(batch * W.rows);
        nb_tensor dX = nb_tensor_view(gx, batch, W.rows);
        cr_assert_eq(nb_dense_backward(&X, &W, &G, &dW, &db, k ? &dX : NULL), NB_OK);
        free(g);
        g = gx;
        G = dX;
    }
    free(g);
}

static void chain_free(chain *c)
{
    for (size_t k = 0; k < NL; k++) {
        free(c->A[k]);
        free(c->dW[k]);
        free(c->db[k]);
    }
    memset(c, 0, sizeof *c);
}

static void random_data(float *x, float *t, size_t rows, size_t in, size_t out, uint64_t seed)
{
    nb_rng r;
    nb_rng_seed(&r, seed);
    tc_fill_uniform(&r, x, rows * in, -2, 2);
    tc_fill_uniform(&r, t, rows * out, 0, 1);
}

Test(net, forward_and_backward_equal_the_kernel_chain)
{
    nb_net *net = tc_net(IN, chain_layers, NL, 3);
    float x[BATCH * IN], t[BATCH * 4];
    random_data(x, t, BATCH, IN, 4, 9);
    for (int k = 0; k < NB_LOSS_COUNT; k++) {
        if (k == NB_LOSS_SOFTMAX_CE) /* needs an identity output: tested below */
            continue;
        chain c = {0};
        chain_forward(net, x, BATCH, &c);
        nb_tensor X = nb_tensor_view(x, BATCH, IN), T = nb_tensor_view(t, BATCH, 4), Y;
        cr_assert_eq(nb_net_forward(net, &X, &Y), NB_OK);
        cr_assert(Y.rows == BATCH && Y.cols == 4);
        double e = tc_rel_err_ff(Y.data, c.A[NL - 1], BATCH * 4);
        cr_assert_leq(e, 1e-6, "forward differs from the chain: %g", e);

        float loss = NAN, want;
        cr_assert_eq(nb_net_backward(net, (nb_loss)k, &T, &loss), NB_OK);
        nb_tensor Yc = nb_tensor_view(c.A[NL - 1], BATCH, 4);
        cr_assert_eq(nb_loss_forward((nb_loss)k, &Yc, &T, &want), NB_OK);
        cr_assert_float_eq(loss, want, 1e-6 * fabs(want), "%s loss %g vs %g", nb_loss_name(k), loss, want);
        chain_backward(net, x, t, BATCH, (nb_loss)k, &c);
        for (size_t l = 0; l < NL; l++) {
            nb_tensor dW, db;
            nb_net_layer_grads(net, l, &dW, &db);
            double ew = tc_rel_err_ff(dW.data, c.dW[l], dW.rows * dW.cols);
            double eb = tc_rel_err_ff(db.data, c.db[l], db.cols);
            cr_assert_leq(ew, 1e-5, "%s layer %zu dW differs: %g", nb_loss_name(k), l, ew);
            cr_assert_leq(eb, 1e-5, "%s layer %zu db differs: %g", nb_loss_name(k), l, eb);
            cr_assert_gt(tc_max_abs(dW.data, dW.rows * dW.cols), 0.0, "layer %zu dW is zero", l);
        }
        chain_free(&c);
    }
    nb_net_free(net);
}

Test(net, softmax_ce_backward_equals_the_kernel_chain)
{
    const nb_layer_spec l[] = {{8, NB_ACT_TANH, 0}, {5, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(IN, l, 2, 4);
    float x[BATCH * IN], t[BATCH * 5];
    nb_rng r;
    nb_rng_seed(&r, 4);
    tc_fill_uniform(&r, x, BATCH * IN, -2, 2);
    tc_fill_prob_rows(&r, t, BATCH, 5, true);
    chain c = {0};
    chain_forward(net, x, BATCH, &c);
    nb_tensor X = nb_tensor_view(x, BATCH, IN), T = nb_tensor_view(t, BATCH, 5);
    cr_assert_eq(nb_net_forward(net, &X, NULL), NB_OK); /* Y may be NULL */
    cr_assert_eq(nb_net_backward(net, NB_LOSS_SOFTMAX_CE, &T, NULL), NB_OK); /* loss may be NULL */
    chain_backward(net, x, t, BATCH, NB_LOSS_SOFTMAX_CE, &c);
    for (size_t k = 0; k < 2; k++) {
        nb_tensor dW, db;
        nb_net_layer_grads(net, k, &dW, &db);
        cr_assert_leq(tc_rel_err_ff(dW.data, c.dW[k], dW.rows * dW.cols), 1e-5);
        cr_assert_leq(tc_rel_err_ff(db.data, c.db[k], db.cols), 1e-5);
    }
    chain_free(&c);
    nb_net_free(net);
}

/* The gradient buffer is overwritten by backward, not accumulated into. */
Test(net, backward_overwrites_gradients)
{
    nb_net *a = tc_net(IN, chain_layers, NL, 5);
    float x[BATCH * IN], t[BATCH * 4];
    random_data(x, t, BATCH, IN, 4, 10);
    nb_tensor X = nb_tensor_view(x, BATCH, IN), T = nb_tensor_view(t, BATCH, 4);
    size_t n = nb_net_num_params(a);
    cr_assert_eq(nb_net_forward(a, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(a, NB_LOSS_MSE, &T, NULL), NB_OK);
    float *first = tc_fdup(nb_net_grads(a), n);
    tc_fill_nan(nb_net_grads(a), n);
    cr_assert_eq(nb_net_forward(a, &X, NULL), NB_OK);
    cr_assert_eq(nb_net_backward(a, NB_LOSS_MSE, &T, NULL), NB_OK);
    cr_assert(tc_all_finite(nb_net_grads(a), n), "NaN in the buffer leaked into the gradients");
    cr_assert_leq(tc_rel_err_ff(nb_net_grads(a), first, n), 1e-6);
    free(first);
    nb_net_free(a);
}

/* The fused update of train_step against the three separate calls, on a small network and
   on one whose layers are too big for the small-layer path. */
Test(net, train_step_equals_forward_backward_sgd)
{
    const nb_layer_spec wide[] = {{80, NB_ACT_RELU, 0}, {10, NB_ACT_SIGMOID, 0}};
    const struct { const nb_layer_spec *l; size_t nl, in, batch; } nets[] = {
        {chain_layers, NL, IN, BATCH}, {wide, 2, 100, 40}};
    for (size_t a_i = 0; a_i < 2; a_i++)
        for (int k = 0; k < 2; k++) { /* MSE and BCE on the sigmoid output */
            size_t in = nets[a_i].in, batch = nets[a_i].batch, nl = nets[a_i].nl;
            size_t out = nets[a_i].l[nl - 1].units;
            nb_net *a = tc_net(in, nets[a_i].l, nl, 6), *b = tc_net(in, nets[a_i].l, nl, 6);
            float *x = tc_falloc(batch * in), *t = tc_falloc(batch * out);
            random_data(x, t, batch, in, out, 11);
            nb_tensor X = nb_tensor_view(x, batch, in), T = nb_tensor_view(t, batch, out);
            size_t n = nb_net_num_params(a);
            float *start = tc_fdup(nb_net_params(a), n);
            for (int step = 0; step < 3; step++) {
                float la = NAN, lb = NAN;
                cr_assert_eq(nb_net_train_step(a, &X, &T, (nb_loss)k, 0.3f, &la), NB_OK);
                cr_assert_eq(nb_net_forward(b, &X, NULL), NB_OK);
                cr_assert_eq(nb_net_backward(b, (nb_loss)k, &T, &lb), NB_OK);
                cr_assert_eq(nb_net_sgd_step(b, 0.3f), NB_OK);
                cr_assert_float_eq(la, lb, 1e-6 * fabs(lb), "net %zu step %d loss %g vs %g", a_i,
                                   step, la, lb);
                double e = tc_rel_err_ff(nb_net_params(a), nb_net_params(b), n);
                cr_assert_leq(e, 1e-6, "net %zu %s step %d: params differ by %g", a_i,
                              nb_loss_name(k), step, e);
            }
            cr_assert_gt(tc_rel_err_ff(nb_net_params(a), start, n), 1e-4, "training did not move");
            /* loss_out may be NULL */
            cr_assert_eq(nb_net_train_step(a, &X, &T, (nb_loss)k, 0.3f, NULL), NB_OK);
            free(start);
            free(x);
            free(t);
            nb_net_free(a);
            nb_net_free(b);
        }
}

Test(net, sgd_step_updates_the_whole_buffer)
{
    nb_net *net = tc_net(IN, chain_layers, NL, 8);
    size_t n = nb_net_num_params(net);
    nb_rng r;
    nb_rng_seed(&r, 8);
    tc_fill_uniform(&r, nb_net_grads(net), n, -1, 1);
    float *p0 = tc_fdup(nb_net_params(net), n);
    double *ref = tc_dalloc(n);
    ref_sgd(p0, nb_net_grads(net), ref, n, 0.25f);
    cr_assert_eq(nb_net_sgd_step(net, 0.25f), NB_OK);
    cr_assert_leq(tc_rel_err(nb_net_params(net), ref, n), 1e-6);
    free(p0);
    free(ref);
    nb_net_free(net);
}

/* ---- predict and evaluate over chunks ----------------------------------------------------- */

Test(net, predict_equals_forward_for_any_row_count)
{
    const size_t rows_list[] = {1, 255, 256, 257, 1000};
    nb_net *net = tc_net(IN, chain_layers, NL, 12);
    float *x = tc_falloc(1000 * IN), *t = tc_falloc(1000 * 4);
    random_data(x, t, 1000, IN, 4, 12);
    for (int reserved = 0; reserved < 2; reserved++) {
        if (reserved) /* a reserved workspace sets the chunk size */
            cr_assert_eq(nb_net_reserve(net, 64), NB_OK);
        for (size_t i = 0; i < sizeof rows_list / sizeof *rows_list; i++) {
            size_t rows = rows_list[i];
            chain c = {0};
            chain_forward(net, x, rows, &c);
            float *y = tc_falloc(rows * 4);
            tc_fill_nan(y, rows * 4);
            nb_tensor X = nb_tensor_view(x, rows, IN), Y = nb_tensor_view(y, rows, 4);
            cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
            double e = tc_rel_err_ff(y, c.A[NL - 1], rows * 4);
            cr_assert_leq(e, 1e-6, "%zu rows (reserved %d): predict differs by %g", rows, reserved, e);
            nb_tensor Yf;
            cr_assert_eq(nb_net_forward(net, &X, &Yf), NB_OK);
            cr_assert_leq(tc_rel_err_ff(y, Yf.data, rows * 4), 1e-6);
            free(y);
            chain_free(&c);
        }
    }
    free(x);
    free(t);
    nb_net_free(net);
}

Test(net, evaluate_equals_loss_over_all_rows)
{
    const size_t rows_list[] = {1, 257, 1000};
    const nb_layer_spec cls[] = {{9, NB_ACT_RELU, 0}, {3, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(IN, cls, 2, 13);
    float *x = tc_falloc(1000 * IN), *t = tc_falloc(1000 * 3), *y = tc_falloc(1000 * 3);
    nb_rng r;
    nb_rng_seed(&r, 13);
    tc_fill_uniform(&r, x, 1000 * IN, -2, 2);
    tc_fill_prob_rows(&r, t, 1000, 3, true);
    for (size_t i = 0; i < 3; i++)
        for (int k = 0; k < NB_LOSS_COUNT; k++) {
            if (k == NB_LOSS_BCE) /* needs probabilities: identity outputs are not */
                continue;
            size_t rows = rows_list[i];
            nb_tensor X = nb_tensor_view(x, rows, IN), T = nb_tensor_view(t, rows, 3);
            nb_tensor Y = nb_tensor_view(y, rows, 3);
            cr_assert_eq(nb_net_predict(net, &X, &Y), NB_OK);
            float want;
            cr_assert_eq(nb_loss_forward((nb_loss)k, &Y, &T, &want), NB_OK);
            size_t correct = 0;
            for (size_t row = 0; row < rows; row++) {
                const float *p = y + row * 3, *q = t + row * 3;
                size_t am = 0, at = 0;
                for (size_t j = 1; j < 3; j++) {
                    am = p[j] > p[am] ? j : am;
                    at = q[j] > q[at] ? j : at;
                }
                correct += am == at;
            }
            nb_eval ev;
            cr_assert_eq(nb_net_evaluate(net, &X, &T, (nb_loss)k, &ev), NB_OK);
            cr_assert_eq(ev.rows, rows);
            cr_assert_float_eq(ev.loss, want, 1e-5 * fabs(want), "%zu rows %s: %.9g vs %.9g", rows,
                               nb_loss_name(k), ev.loss, want);
            cr_assert_float_eq(ev.accuracy, (double)correct / (double)rows, 1e-12);
        }
    free(x);
    free(t);
    free(y);
    nb_net_free(net);
}

/* One output: a row is right when y and t fall on the same side of 0.5. */
Test(net, evaluate_accuracy_with_one_output)
{
    const nb_layer_spec l[] = {{1, NB_ACT_IDENTITY, 0}};
    nb_net *net = tc_net(1, l, 1, 1);
    nb_net_params(net)[0] = 1.0f; /* y = x */
    nb_net_params(net)[1] = 0.0f;
    float x[] = {0.9f, 0.2f, 0.7f, 0.4f, 0.5f}, t[] = {1, 0, 0, 1, 1};
    nb_tensor X = nb_tensor_view(x, 5, 1), T = nb_tensor_view(t, 5, 1);
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(net, &X, &T, NB_LOSS_MSE, &ev), NB_OK);
    cr_assert_float_eq(ev.accuracy, 3.0 / 5.0, 1e-12, "accuracy %g", ev.accuracy);
    double mse = (0.01 + 0.04 + 0.49 + 0.36 + 0.25) / 5;
    cr_assert_float_eq(ev.loss, mse, 1e-6);
    nb_net_free(net);
}
