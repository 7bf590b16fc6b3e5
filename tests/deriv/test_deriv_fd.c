/* Input derivatives against central finite differences of a double forward written here (the
   network's float parameters widened, the standardisations and softmax included): on smooth
   networks (tanh, sigmoid, identity, softmax, GELU in both forms, SiLU, softplus, ELU) each
   row's Jacobian must be within 1e-6 of them
   relative to the row's largest entry, and J v and u^T J within 1e-6 relative to the sums of
   their terms' magnitudes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "nablas.h"

#define TOL 1e-6

typedef struct fnet {
    nb_net *net;
    size_t n, m, L;
    nb_layer_spec spec[4];
    float mx[16], sx[16], my[16], sy[16];
    bool norm, probs;
} fnet;

static double act_d(nb_act a, double z)
{
    switch (a) {
    case NB_ACT_TANH:
        return tanh(z);
    case NB_ACT_SIGMOID:
        return 1.0 / (1.0 + exp(-z));
    case NB_ACT_GELU:
        return 0.5 * z * erfc(-z / sqrt(2.0));
    case NB_ACT_GELU_TANH:
        return z / (1.0 + exp(-2.0 * 0.79788456080286535588 * (z + 0.044715 * z * z * z)));
    case NB_ACT_SILU:
        return z / (1.0 + exp(-z));
    case NB_ACT_SOFTPLUS:
        return z > 20.0 ? z : log1p(exp(z));
    case NB_ACT_ELU:
        return z > 0.0 ? z : expm1(z);
    default:
        return z; /* identity; softmax is applied on the whole row below */
    }
}

static void softmax_d(double *y, size_t m)
{
    double mx = y[0], s = 0.0;
    for (size_t i = 1; i < m; i++)
        mx = fmax(mx, y[i]);
    for (size_t i = 0; i < m; i++)
        s += (y[i] = exp(y[i] - mx));
    for (size_t i = 0; i < m; i++)
        y[i] /= s;
}

/* y (m values) of one row x (n values), in double */
static void forward_d(const fnet *f, const double *x, double *y)
{
    double a[64], z[64];
    size_t w = f->n;
    for (size_t j = 0; j < f->n; j++)
        a[j] = f->norm ? (x[j] - f->mx[j]) / f->sx[j] : x[j];
    for (size_t l = 0; l < f->L; l++) {
        nb_tensor W, b;
        cr_assert_eq(nb_net_layer_params(f->net, l, &W, &b), NB_OK);
        size_t o = f->spec[l].units;
        for (size_t c = 0; c < o; c++) {
            double s = b.data[c];
            for (size_t r = 0; r < w; r++)
                s += a[r] * (double)W.data[r * o + c];
            z[c] = s;
        }
        for (size_t c = 0; c < o; c++)
            a[c] = act_d(f->spec[l].act, z[c]);
        if (f->spec[l].act == NB_ACT_SOFTMAX)
            softmax_d(a, o);
        w = o;
    }
    if (f->probs)
        softmax_d(a, w);
    for (size_t i = 0; i < f->m; i++)
        y[i] = f->norm && !f->probs ? a[i] * f->sy[i] + f->my[i] : a[i];
}

static fnet make(size_t n, const nb_layer_spec *spec, size_t L, bool norm, bool probs,
                 uint64_t seed)
{
    fnet f = {0};
    f.n = n;
    f.L = L;
    f.norm = norm;
    f.probs = probs;
    for (size_t l = 0; l < L; l++)
        f.spec[l] = spec[l];
    f.m = spec[L - 1].units;
    cr_assert_eq(nb_net_create(&f.net, n, spec, L, seed), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, seed + 1);
    for (size_t l = 0; l < L; l++) { /* small biases: the bias path counts */
        nb_tensor W, b;
        cr_assert_eq(nb_net_layer_params(f.net, l, &W, &b), NB_OK);
        for (size_t c = 0; c < b.cols; c++)
            b.data[c] = (float)(0.2 * (nb_rng_uniform(&r) - 0.5));
    }
    for (size_t j = 0; j < 16; j++) {
        f.mx[j] = (float)(4.0 * nb_rng_uniform(&r) - 2.0);
        f.sx[j] = (float)(0.5 + 2.5 * nb_rng_uniform(&r));
        f.my[j] = (float)(4.0 * nb_rng_uniform(&r) - 2.0);
        f.sy[j] = (float)(0.5 + 2.5 * nb_rng_uniform(&r));
    }
    return f;
}

static void check(const char *name, fnet *f, nb_deriv_mode mode)
{
    const size_t B = 9;
    size_t n = f->n, m = f->m;
    nb_norm *norm = NULL, *tnorm = NULL;
    if (f->norm) {
        cr_assert_eq(nb_norm_create(&norm, n, f->mx, f->sx), NB_OK);
        if (!f->probs)
            cr_assert_eq(nb_norm_create(&tnorm, m, f->my, f->sy), NB_OK);
    }
    nb_deriv_opts o = {norm, tnorm, f->probs, mode};
    nb_deriv_ctx *ctx;
    cr_assert_eq(nb_deriv_ctx_create(&ctx, f->net, &o, 4), NB_OK);
    nb_tensor X, V, U, J, JV, UJ;
    cr_assert_eq(nb_tensor_alloc(&X, B, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&V, B, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&U, B, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&J, B, m * n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&JV, B, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&UJ, B, n), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, 99);
    for (size_t i = 0; i < B * n; i++) {
        size_t j = i % n;
        double u = 2.0 * nb_rng_uniform(&r) - 1.0;
        X.data[i] = (float)(f->norm ? f->mx[j] + 1.5 * f->sx[j] * u : 1.5 * u);
        V.data[i] = (float)(2.0 * nb_rng_uniform(&r) - 1.0);
    }
    for (size_t i = 0; i < B * m; i++)
        U.data[i] = (float)(2.0 * nb_rng_uniform(&r) - 1.0);
    cr_assert_eq(nb_deriv_jacobian(ctx, &X, &J, NULL), NB_OK);
    cr_assert_eq(nb_deriv_jvp(ctx, &X, &V, &JV, NULL), NB_OK);
    cr_assert_eq(nb_deriv_vjp(ctx, &X, &U, &UJ, NULL), NB_OK);

    double worst = 0.0;
    for (size_t b = 0; b < B; b++) {
        double x[16], yp[16], ym[16], fd[16 * 16], jv[16] = {0}, uj[16] = {0}, scale = 0.0;
        for (size_t j = 0; j < n; j++)
            x[j] = X.data[b * n + j];
        for (size_t j = 0; j < n; j++) {
            double h = 1e-5 * fmax(1.0, fabs(x[j])), x0 = x[j];
            x[j] = x0 + h;
            forward_d(f, x, yp);
            x[j] = x0 - h;
            forward_d(f, x, ym);
            x[j] = x0;
            for (size_t i = 0; i < m; i++) {
                fd[i * n + j] = (yp[i] - ym[i]) / (2.0 * h);
                scale = fmax(scale, fabs(fd[i * n + j]));
            }
        }
        /* J v and u^T J relative to the sums of their terms' magnitudes: a sum that cancels
           cannot be known better than that from a Jacobian of float accuracy */
        double ajv[16] = {0}, auj[16] = {0};
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                jv[i] += fd[i * n + j] * V.data[b * n + j];
                uj[j] += U.data[b * m + i] * fd[i * n + j];
                ajv[i] += fabs(fd[i * n + j] * V.data[b * n + j]);
                auj[j] += fabs(U.data[b * m + i] * fd[i * n + j]);
            }
        double e = 0.0, sjv = 0.0, suj = 0.0, ejv = 0.0, euj = 0.0;
        for (size_t k = 0; k < m * n; k++)
            e = fmax(e, fabs(J.data[b * m * n + k] - fd[k]));
        for (size_t i = 0; i < m; i++) {
            sjv = fmax(sjv, ajv[i]);
            ejv = fmax(ejv, fabs(JV.data[b * m + i] - jv[i]));
        }
        for (size_t j = 0; j < n; j++) {
            suj = fmax(suj, auj[j]);
            euj = fmax(euj, fabs(UJ.data[b * n + j] - uj[j]));
        }
        worst = fmax(worst, fmax(e / scale, fmax(ejv / sjv, euj / suj)));
    }
    cr_expect(worst <= TOL, "%s (mode %d): worst relative error %.3g", name, (int)mode, worst);
    nb_tensor_free(&X);
    nb_tensor_free(&V);
    nb_tensor_free(&U);
    nb_tensor_free(&J);
    nb_tensor_free(&JV);
    nb_tensor_free(&UJ);
    nb_deriv_ctx_free(ctx);
    nb_norm_free(norm);
    nb_norm_free(tnorm);
}

static void check_modes(const char *name, fnet f)
{
    check(name, &f, NB_DERIV_AUTO);
    check(name, &f, NB_DERIV_FORWARD);
    check(name, &f, NB_DERIV_REVERSE);
    nb_net_free(f.net);
}

Test(deriv_fd, tanh_surrogate)
{
    nb_layer_spec s[] = {{32, NB_ACT_TANH, 0}, {32, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    check_modes("4-32-32-1 tanh", make(4, s, 3, false, false, 1));
    check_modes("4-32-32-1 tanh, standardised", make(4, s, 3, true, false, 2));
}

Test(deriv_fd, sigmoid_tanh_many_outputs)
{
    nb_layer_spec s[] = {{16, NB_ACT_SIGMOID, 0}, {12, NB_ACT_TANH, 0}, {9, NB_ACT_IDENTITY, 0}};
    check_modes("3-16-12-9", make(3, s, 3, false, false, 3));
    check_modes("3-16-12-9, standardised", make(3, s, 3, true, false, 4));
}

Test(deriv_fd, softmax_and_probabilities)
{
    nb_layer_spec s[] = {{10, NB_ACT_TANH, 0}, {4, NB_ACT_SOFTMAX, 0}};
    check_modes("6-10-4 softmax", make(6, s, 2, true, false, 5));
    nb_layer_spec p[] = {{10, NB_ACT_SIGMOID, 0}, {5, NB_ACT_IDENTITY, 0}};
    check_modes("7-10-5 probabilities", make(7, p, 2, true, true, 6));
}

Test(deriv_fd, linear)
{
    nb_layer_spec s[] = {{8, NB_ACT_IDENTITY, 0}, {3, NB_ACT_IDENTITY, 0}};
    check_modes("5-8-3 identity", make(5, s, 2, true, false, 7));
    nb_layer_spec one[] = {{3, NB_ACT_IDENTITY, 0}}; /* one layer: the seeds are the answer */
    check_modes("5-3 identity, one layer", make(5, one, 1, true, false, 8));
    nb_layer_spec one_t[] = {{7, NB_ACT_TANH, 0}};
    check_modes("5-7 tanh, one layer", make(5, one_t, 1, true, false, 9));
}

Test(deriv_fd, gelu_silu_softplus_elu)
{
    nb_layer_spec g[] = {{16, NB_ACT_GELU, 0}, {12, NB_ACT_GELU_TANH, 0}, {3, NB_ACT_IDENTITY, 0}};
    check_modes("5-16 gelu-12 gelu_tanh-3", make(5, g, 3, true, false, 10));
    nb_layer_spec f[] = {{10, NB_ACT_SILU, 0}, {9, NB_ACT_SOFTPLUS, 0}, {6, NB_ACT_ELU, 0}};
    check_modes("4-10 silu-9 softplus-6 elu", make(4, f, 3, true, false, 11));
    nb_layer_spec p[] = {{10, NB_ACT_SILU, 0}, {4, NB_ACT_IDENTITY, 0}};
    check_modes("6-10 silu-4 probabilities", make(6, p, 2, true, true, 12));
}
